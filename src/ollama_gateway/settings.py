"""Typed settings from the environment and an optional `.env`; built by `load_settings`, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the gateway; names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Upstream
    ollama_url: str = Field(
        default="http://127.0.0.1:11434", validation_alias=AliasChoices("OLLAMA_URL", "UPSTREAM_BASE", "ollama_url")
    )
    upstream_connect_timeout: float = 5.0
    upstream_max_connections: int = 256
    request_timeout_ms: int = 600_000
    models_cache_seconds: float = 10.0
    catalog_refresh_seconds: float = 60.0

    # HTTP server
    host: str = "127.0.0.1"
    port: int = 11535
    max_body_bytes: int = 32 * 1024 * 1024

    # Images referenced by URL
    image_fetch_enabled: bool = True
    image_fetch_allow_private: bool = False
    image_max_bytes: int = 20 * 1024 * 1024
    image_fetch_timeout: float = 10.0

    # Storage
    data_dir: Path = Field(default=Path("./data"), validation_alias=AliasChoices("GATEWAY_DATA_DIR", "data_dir"))
    database_url: str | None = None
    usage_flush_seconds: float = 1.0
    usage_retention_days: int = 90

    # Task status
    redis_url: SecretStr | None = None
    redis_host: str | None = None
    redis_port: int = 6379
    redis_user: str | None = None
    redis_password: SecretStr | None = None
    redis_db: int = 0
    redis_timeout: float = 0.5
    ttl_running: int = 3600
    ttl_done: int = 86400
    heartbeat_sec: float = 10.0
    algorithm_id: str = "ollama-openai"

    # Anthropic streams
    ping_interval_sec: float = 10.0

    # Admin
    admin_password: SecretStr | None = None
    admin_token: SecretStr | None = None
    session_secret: SecretStr | None = None

    # Admin area (issue #13/#14): proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated; empty:
    # none), how often keys' "last used" is written, and the login throttle's limits.
    trusted_proxies: str = ""
    last_used_flush_seconds: float = 10.0
    login_attempts_per_address: int = 5
    login_attempts_global: int = 100
    login_window_seconds: int = 900

    log_level: str = "info"

    @field_validator("ollama_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's async dialect form."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'gateway.db').as_posix()}"
        return to_async_url(url)

    def redis_connection_url(self) -> str | None:
        """REDIS_URL, or one built from the seed's REDIS_HOST/PORT/USER/PASSWORD/DB; None for embedded."""
        if self.redis_url is not None:
            return self.redis_url.get_secret_value()
        if not self.redis_host:
            return None
        auth = ""
        if self.redis_password is not None:
            auth = f"{self.redis_user or ''}:{self.redis_password.get_secret_value()}@"
        elif self.redis_user:
            auth = f"{self.redis_user}@"
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"


def to_async_url(url: str) -> str:
    """Turn `sqlite:///x` or `postgresql://...` into the async driver URL SQLAlchemy needs."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)
