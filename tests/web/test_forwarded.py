"""X-Forwarded-For is believed only from TRUSTED_PROXIES, walked from the right."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.web.forwarded import TrustedProxies, forwarded_client, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1, ::1")


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # an untrusted peer cannot claim another address
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client's own spoofed hop is ignored
        ("127.0.0.1", "198.51.100.1, 10.1.2.3", "198.51.100.1"),  # a chain of trusted proxies
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("127.0.0.1", "10.0.0.1, 10.0.0.2", "10.0.0.1"),  # every hop trusted: the leftmost
        ("127.0.0.1", "garbage", "garbage"),
    ],
)
def test_forwarded_client(peer: str, header: str | None, client: str) -> None:
    assert forwarded_client(peer, header, PROXIES) == client


def test_bad_entries_are_named() -> None:
    with pytest.raises(ValueError, match="not-an-ip"):
        parse_networks("10.0.0.1, not-an-ip")
    assert parse_networks("") == ()


async def test_the_middleware_rewrites_only_from_a_trusted_peer() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope.get("client"))

    middleware = TrustedProxies(app, PROXIES)
    headers = [(b"x-forwarded-for", b"198.51.100.1")]
    for peer in ("127.0.0.1", "203.0.113.5"):
        await middleware({"type": "http", "client": (peer, 5000), "headers": headers}, None, None)
    await middleware({"type": "lifespan"}, None, None)
    assert seen == [("198.51.100.1", 0), ("203.0.113.5", 5000), None]
