"""Typed settings from the environment and an optional `.env`; built by `load_settings`, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the gateway; names are the environment variables, case-insensitive."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Upstream
    ollama_url: str = Field(
        default="http://127.0.0.1:11434", validation_alias=AliasChoices("OLLAMA_URL", "UPSTREAM_BASE", "ollama_url")
    )
    upstream_connect_timeout: float = 5.0
    upstream_max_connections: int = 256  # per host: the pool size of each host's keep-alive connections

    # Fleet: several Ollama hosts (OLLAMA_URLS, plus the hosts stored from the admin UI / CLI)
    ollama_urls: str | None = None
    ollama_max_concurrent: int = Field(default=4, ge=1)  # per host, for hosts from the settings
    host_probe_seconds: float = Field(default=5.0, gt=0)
    queue_max: int = Field(default=1000, ge=0)
    queue_timeout_seconds: float = Field(default=300.0, gt=0)
    request_timeout_ms: int = 600_000
    models_cache_seconds: float = 10.0
    catalog_refresh_seconds: float = 60.0

    # HTTP server
    host: str = "127.0.0.1"
    port: int = Field(default=11535, ge=1, le=65535)
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
    usage_tracking: Literal["on", "off"] = "on"  # off: no usage rows (analytics empty; limits still count)
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
    task_flush_seconds: float = 0.05  # status writes are coalesced and stored once per interval
    task_status: Literal["on", "off"] = "on"  # off: no status documents are kept (ids and cancel still work)
    algorithm_id: str = "ollama-openai"

    # Anthropic streams
    ping_interval_sec: float = 10.0

    # Agent clients (Claude Code, Codex): what to do with what Ollama cannot honour.
    # `drop`: hosted/server tools (web search, ...) are removed and named in X-Gateway-Dropped-Tools.
    hosted_tools: Literal["drop", "refuse"] = "drop"
    # `drop`: unsupported top-level fields are removed and named in X-Gateway-Dropped-Fields instead of a 400.
    unsupported_fields: Literal["refuse", "drop"] = "refuse"

    # Admin
    admin_password: SecretStr | None = None
    admin_token: SecretStr | None = None
    session_secret: SecretStr | None = None

    # Hardening (issue #14): HTTP limits per process, bounded shutdown, usage durability
    http_max_header_bytes: int = 64 * 1024
    http_header_timeout: float = 10.0
    http_body_timeout: float = 60.0
    http_max_connections: int = 2048
    http_keepalive_timeout: float = 5.0
    shutdown_grace_seconds: float = 30.0
    usage_durability: Literal["batch", "sync"] = "batch"
    limiter_degraded_seconds: float = 60.0
    auth_stale_seconds: float = 300.0
    sqlite_busy_timeout_ms: int = 10_000
    redis_max_connections: int = 100
    task_store_max_docs: int = 100_000
    # Admin area (issue #13/#14): proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated; empty:
    # none), how often keys' "last used" is written, and the login throttle's limits.
    trusted_proxies: str = ""
    last_used_flush_seconds: float = 10.0
    login_attempts_per_address: int = 5
    login_attempts_global: int = 100
    login_window_seconds: int = 900

    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    # Operations (issue #11): log format, metrics, CORS, auth mode, cross-process change propagation
    log_format: Literal["text", "json"] = "text"
    metrics_token: SecretStr | None = None
    cors_origins: str = ""
    auth: Literal["on", "off"] = "on"
    change_poll_seconds: float = Field(default=0.5, gt=0, le=60)

    @field_validator("ollama_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        url = value.strip().rstrip("/")
        parts = urlsplit(url)
        shown = repr(
            url.replace(parts.netloc, "***@" + parts.netloc.rpartition("@")[2]) if "@" in parts.netloc else url
        )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL such as http://127.0.0.1:11434, not {shown}")
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"has a bad port: {shown}") from exc
        return url

    @field_validator("ollama_urls")
    @classmethod
    def _check_urls(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return ",".join(cls._check_url(url) for url in value.split(",") if url.strip())

    @field_validator("log_level", "log_format", "auth", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """CORS_ORIGINS split on commas (`*` allows any origin); empty when CORS is off."""
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @property
    def auth_enabled(self) -> bool:
        """False only with AUTH=off (a trusted network; every request acts with full access)."""
        return self.auth != "off"

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


_ENV_NAMES = {"ollama_url": "OLLAMA_URL", "data_dir": "GATEWAY_DATA_DIR"}


def describe_errors(error: ValidationError) -> list[str]:
    """One readable line per bad variable: its environment name and what is wrong (never its secret value)."""
    lines = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else "settings"
        name = _ENV_NAMES.get(field.lower(), field.upper())
        message = str(item["msg"]).removeprefix("Value error, ")
        secret = "password" in field or "token" in field or "secret" in field or field == "redis_url"
        shown = "" if secret or item.get("input") is None else f" (got {str(item['input'])[:80]!r})"
        if field.lower() in _ENV_NAMES:
            shown = ""  # the validator's own message shows the value (with any credentials masked)
        lines.append(f"{name}: {message}{shown}")
    return lines
