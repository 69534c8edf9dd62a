"""Fetching images named by URL, refusing private, loopback and link-local targets unless allowed.

The address check runs inside the connector's resolver, so it also covers redirects and DNS answers
that change between a check and the connection (rebinding).
"""

from __future__ import annotations

import base64
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from ollama_gateway.errors import InvalidRequestError, PayloadTooLargeError

MAX_REDIRECTS = 3


class BlockedAddressError(OSError):
    """The URL resolves to an address the gateway will not fetch from."""


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


class GuardedResolver(AbstractResolver):
    """Resolves like the default resolver, then drops every non-public address."""

    def __init__(self) -> None:
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve `host`, refusing it when any answer is not a public address."""
        results = await self._inner.resolve(host, port, family)
        if not results or any(not is_public_address(r["host"]) for r in results):
            raise BlockedAddressError(f"{host} resolves to a private, loopback or link-local address")
        return results

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self._inner.close()


class ImageFetcher:
    """Downloads images with a time limit, a size cap and a content-type check; returns base64."""

    def __init__(self, *, allow_private: bool, max_bytes: int, time_limit: float, enabled: bool = True) -> None:
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.time_limit = time_limit
        self.enabled = enabled
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the connection pool."""
        if self._session is None:
            resolver: AbstractResolver = ThreadedResolver() if self.allow_private else GuardedResolver()
            connector = aiohttp.TCPConnector(limit=32, resolver=resolver)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.time_limit)
            )

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch_base64(self, url: str) -> str:
        """The image at `url`, base64-encoded, or a 400/413 that says why not."""
        if not self.enabled:
            raise InvalidRequestError("fetching images by URL is disabled on this gateway; send base64 data")
        if self._session is None:
            await self.start()
        assert self._session is not None
        try:
            data = await self._follow(self._session, url)
        except BlockedAddressError as exc:
            raise InvalidRequestError(f"image URL refused: {exc}", param="image_url") from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddressError):
                raise InvalidRequestError(f"image URL refused: {exc.os_error}", param="image_url") from exc
            raise InvalidRequestError(f"could not fetch image URL: {exc}", param="image_url") from exc
        except TimeoutError as exc:
            raise InvalidRequestError(f"timed out fetching image URL after {self.time_limit} s") from exc
        except aiohttp.ClientError as exc:
            raise InvalidRequestError(f"could not fetch image URL: {exc}", param="image_url") from exc
        return base64.b64encode(data).decode("ascii")

    async def _follow(self, session: aiohttp.ClientSession, url: str) -> bytes:
        # Redirects are followed here, not by aiohttp, so every hop's address passes the same checks.
        for _ in range(MAX_REDIRECTS + 1):
            _check_url(url, allow_private=self.allow_private)
            async with session.get(url, allow_redirects=False, headers={"Accept": "image/*"}) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = str(response.url.join(URL(response.headers["Location"])))
                    continue
                if response.status != 200:
                    raise InvalidRequestError(f"image URL answered with status {response.status}: {url}")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if not content_type.startswith("image/"):
                    raise InvalidRequestError(f"image URL did not return an image (content-type {content_type!r})")
                if response.content_length is not None and response.content_length > self.max_bytes:
                    raise PayloadTooLargeError(f"image at URL is larger than {self.max_bytes} bytes")
                return await _read_capped(response, self.max_bytes)
        raise InvalidRequestError("image URL redirected too many times", param="image_url")


def _check_url(url: str, *, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError("image URLs must be http(s) URLs with a host", param="image_url")
    # aiohttp never asks the resolver about an IP literal, so literals are checked here (redirects to a
    # literal are re-checked on each hop by `_guard_redirect`).
    if not allow_private and _is_ip(parts.hostname) and not is_public_address(parts.hostname):
        raise InvalidRequestError(
            f"image URL refused: {parts.hostname} is a private, loopback or link-local address", param="image_url"
        )


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


async def _read_capped(response: Any, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        total += len(chunk)
        if total > max_bytes:
            raise PayloadTooLargeError(f"image at URL is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
