"""CORS_ORIGINS: preflight answered, headers on plain and streamed responses; off by default; never on /admin."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.support.gateway import GatewayServer

ORIGIN = "http://app.localhost:5173"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-task-id",
}


def test_off_by_default(gateway_server: GatewayServer) -> None:
    response = httpx.options(gateway_server.url + "/v1/chat/completions", headers=PREFLIGHT)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers


def test_preflight_and_simple_requests(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(cors_origins=f"{ORIGIN}, http://other.localhost")
    preflight = httpx.options(server.url + "/v1/chat/completions", headers=PREFLIGHT)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers

    key = server.create_key()
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Origin": ORIGIN, "Authorization": f"Bearer {key}"}
    with httpx.stream("POST", server.url + "/v1/chat/completions", json=body, headers=headers) as streamed:
        assert streamed.status_code == 200
        assert streamed.headers["access-control-allow-origin"] == ORIGIN
        assert "x-task-id" in streamed.headers["access-control-expose-headers"].lower()
        assert "[DONE]" in "".join(streamed.iter_text())


def test_other_origins_and_admin_get_no_cors(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(cors_origins=ORIGIN)
    refused = httpx.options(server.url + "/v1/models", headers={**PREFLIGHT, "Origin": "http://evil.localhost"})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    admin = httpx.options(server.url + "/admin/api/keys", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in admin.headers


def test_any_origin(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(cors_origins="*")
    response = httpx.get(server.url + "/healthz", headers={"Origin": "http://anything.localhost"})
    assert response.headers["access-control-allow-origin"] == "*"
