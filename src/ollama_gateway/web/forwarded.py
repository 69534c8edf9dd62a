"""Who the client is behind a reverse proxy: X-Forwarded-For is believed only from TRUSTED_PROXIES (pure ASGI)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.1, 192.168.0.0/16, ::1` → networks; a bad entry is a ValueError naming it."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    networks: list[Network] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(f"TRUSTED_PROXIES: {part!r} is not an IP address or network") from exc
    return tuple(networks)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def forwarded_client(peer: str, header: str | None, networks: tuple[Network, ...]) -> str:
    """The client address: walking X-Forwarded-For from the right, the first hop that is not a trusted proxy."""
    if not header or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


class TrustedProxies:
    """Rewrites `scope["client"]` from X-Forwarded-For when, and only when, the peer is a trusted proxy."""

    def __init__(self, app: ASGIApp, networks: tuple[Network, ...]) -> None:
        self.app = app
        self.networks = networks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            if _trusted(peer, self.networks):
                header = _header(scope, b"x-forwarded-for")
                client = forwarded_client(peer, header, self.networks)
                if client != peer:
                    scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in scope.get("headers", []) if key == name]
    return ", ".join(values) if values else None
