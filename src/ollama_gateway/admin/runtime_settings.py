"""Settings the admin can change at runtime: kept in the settings store, applied to the running gateway."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import orjson

from ollama_gateway.errors import GatewayError, InvalidRequestError
from ollama_gateway.service.hosts import sync_hosts
from ollama_gateway.service.runtime import Gateway
from ollama_gateway.upstream.hosts import HostConfig
from ollama_gateway.upstream.images import ImageFetcher
from ollama_gateway.upstream.ollama_host import OllamaHost

RUNTIME_KEY = "admin.runtime_settings"
MIN_TIMEOUT_MS = 1_000
MAX_TIMEOUT_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """The knobs the Settings page edits."""

    ollama_url: str
    request_timeout_ms: int
    image_fetch_enabled: bool
    image_fetch_allow_private: bool


def current(gateway: Gateway) -> RuntimeSettings:
    """What the running gateway uses now."""
    return RuntimeSettings(
        ollama_url=gateway.settings.ollama_url,
        request_timeout_ms=gateway.settings.request_timeout_ms,
        image_fetch_enabled=gateway.images.enabled,
        image_fetch_allow_private=gateway.images.allow_private,
    )


def check_url(raw: Any) -> str:
    """An http(s) URL with a host, without a trailing slash; else a 400."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidRequestError("the Ollama URL is required", param="ollama_url")
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError("the Ollama URL must look like http://host:11434", param="ollama_url")
    return url


def parse(raw: Any, base: RuntimeSettings) -> RuntimeSettings:
    """Fields present in `raw` (a JSON object) checked and laid over `base`."""
    if not isinstance(raw, dict):
        raise InvalidRequestError("settings must be a JSON object")
    result = base
    if "ollama_url" in raw:
        result = replace(result, ollama_url=check_url(raw["ollama_url"]))
    if "request_timeout_ms" in raw:
        value = raw["request_timeout_ms"]
        if isinstance(value, bool) or not isinstance(value, int) or not MIN_TIMEOUT_MS <= value <= MAX_TIMEOUT_MS:
            raise InvalidRequestError(
                f"request_timeout_ms must be an integer from {MIN_TIMEOUT_MS} to {MAX_TIMEOUT_MS}",
                param="request_timeout_ms",
            )
        result = replace(result, request_timeout_ms=value)
    for flag in ("image_fetch_enabled", "image_fetch_allow_private"):
        if flag in raw:
            if not isinstance(raw[flag], bool):
                raise InvalidRequestError(f"{flag} must be true or false", param=flag)
            result = replace(result, **{flag: raw[flag]})
    return result


async def load_stored(gateway: Gateway) -> RuntimeSettings | None:
    """The settings saved from the admin UI, laid over what the gateway started with; None if never saved."""
    raw = await gateway.storage.kv.get(RUNTIME_KEY)
    if raw is None:
        return None
    try:
        return parse(orjson.loads(raw), current(gateway))
    except (orjson.JSONDecodeError, GatewayError):
        return None


async def save(gateway: Gateway, settings: RuntimeSettings) -> None:
    """Persist and apply."""
    await gateway.storage.kv.set(RUNTIME_KEY, orjson.dumps(asdict(settings)).decode())
    await gateway.storage.changes.note("settings")
    await apply(gateway, settings)


async def apply(gateway: Gateway, settings: RuntimeSettings) -> None:
    """Make the running gateway use `settings`: new requests see them at once, in-flight ones finish as they were."""
    changes = {"ollama_url": settings.ollama_url, "request_timeout_ms": settings.request_timeout_ms}
    if any(getattr(gateway.settings, name) != value for name, value in changes.items()):
        gateway.settings = gateway.settings.model_copy(update=changes)
    await sync_hosts(gateway.upstream, gateway.settings, gateway.storage)
    gateway.images.enabled = settings.image_fetch_enabled
    if settings.image_fetch_allow_private != gateway.images.allow_private:
        # The address guard lives in the fetcher's resolver, so a new fetcher replaces the old one;
        # an image fetch in flight at this very moment may fail (documented in docs/admin-api.md).
        old = gateway.images
        gateway.images = ImageFetcher(
            allow_private=settings.image_fetch_allow_private,
            max_bytes=old.max_bytes,
            time_limit=old.time_limit,
            enabled=settings.image_fetch_enabled,
        )
        await old.close()


async def probe(url: str, connect_timeout: float = 3.0) -> dict[str, Any]:
    """Ask the Ollama at `url` for its version: `{"ok": true, "version": ...}` or `{"ok": false, "error": ...}`."""
    host = OllamaHost(HostConfig(id="probe", url=check_url(url)), connect_timeout=connect_timeout, max_connections=1)
    await host.start()
    try:
        answer = await host.version(time_limit=connect_timeout + 2)
    except GatewayError as exc:
        return {"ok": False, "url": host.base_url, "error": exc.message}
    finally:
        with contextlib.suppress(Exception):
            await host.close()
    return {"ok": True, "url": host.base_url, "version": str(answer.get("version", "unknown"))}
