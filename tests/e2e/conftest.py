"""End-to-end fixtures: an API key and SDK clients for a running gateway."""

from __future__ import annotations

import base64
import http.server
import threading
from collections.abc import Iterator

import openai
import pytest

from tests.support.gateway import GatewayServer

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def api_key(gateway_server: GatewayServer) -> str:
    """A key that may use every model."""
    return gateway_server.create_key("e2e")


@pytest.fixture
def client(gateway_server: GatewayServer, api_key: str) -> Iterator[openai.OpenAI]:
    """The official OpenAI SDK pointed at the gateway, without retries."""
    with openai.OpenAI(base_url=gateway_server.url + "/v1", api_key=api_key, max_retries=0, timeout=20) as sdk:
        yield sdk


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {"/pixel.png": (200, "image/png", PNG), "/page.html": (200, "text/html", b"<html></html>")}
        status, kind, body = routes.get(self.path, (404, "text/plain", b"missing"))
        if self.path == "/big.png":
            status, kind, body = 200, "image/png", PNG * 2000
        if self.path.startswith("/redirect?to="):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/redirect?to="))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def image_server() -> Iterator[str]:
    """A loopback HTTP server with an image (`/pixel.png`), a big one (`/big.png`) and a non-image page."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
