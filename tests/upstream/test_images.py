"""The image fetcher's address guard, size cap and content-type check."""

from __future__ import annotations

import pytest

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.upstream.images import ImageFetcher, is_public_address


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "http:///nohost", "data:x"])
async def test_non_http_urls_are_refused(url: str) -> None:
    fetcher = ImageFetcher(allow_private=False, max_bytes=10, time_limit=1)
    with pytest.raises(InvalidRequestError):
        await fetcher.fetch_base64(url)
    await fetcher.close()


async def test_disabled_fetching_is_refused() -> None:
    fetcher = ImageFetcher(allow_private=True, max_bytes=10, time_limit=1, enabled=False)
    with pytest.raises(InvalidRequestError, match="disabled"):
        await fetcher.fetch_base64("http://127.0.0.1/x.png")
