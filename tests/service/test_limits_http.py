"""Key limits through a running gateway: 429s in each caller's format with Retry-After, tokens charged after."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ollama_gateway.policy.limits import BUDGET_CODE, BUDGET_RETRY_AFTER, RATE_LIMIT_CODE
from ollama_gateway.storage import UsageRecord
from tests.support.gateway import GatewayServer

CHAT = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "llama3.2", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}

pytestmark = pytest.mark.e2e


def post(server: GatewayServer, secret: str, path: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}", "x-api-key": secret, "anthropic-version": "2023-06-01"}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=20)


def test_rpm_429_in_each_callers_format(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway()
    secret = server.create_key("limited", rpm=2)
    assert post(server, secret, "/v1/chat/completions", CHAT).status_code == 200
    assert post(server, secret, "/v1/embeddings", {"model": "all-minilm", "input": "x"}).status_code == 200

    refused = post(server, secret, "/v1/chat/completions", CHAT)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", RATE_LIMIT_CODE)
    assert "2 requests per minute" in error["message"]

    anthropic = post(server, secret, "/v1/messages", MESSAGES)
    assert anthropic.status_code == 429
    assert 1 <= int(anthropic.headers["retry-after"]) <= 60
    assert anthropic.json()["type"] == "error"
    assert anthropic.json()["error"]["type"] == "rate_limit_error"

    listing = httpx.get(server.url + "/v1/models", headers={"Authorization": f"Bearer {secret}"}, timeout=20)
    assert listing.status_code == 200  # listing models is not a generating request

    server.flush_usage()
    rows: list[UsageRecord] = server.call(lambda g: g.storage.usage.query())
    assert sorted(row.status for row in rows) == [200, 200, 429, 429]
    assert {row.model_requested for row in rows if row.status == 429} == {"llama3.2"}


def test_budget_is_charged_after_the_request_and_then_refuses(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway()
    secret = server.create_key("budget", token_budget=1)
    unlimited = server.create_key("free")
    assert post(server, secret, "/v1/chat/completions", CHAT).status_code == 200
    server.call(lambda g: g.limiter.drain())
    keys = {key.name: key for key in server.call(lambda g: g.storage.keys.list())}
    assert keys["budget"].tokens_used > 0
    assert keys["free"].tokens_used == 0  # keys without limits cost no bookkeeping

    refused = post(server, secret, "/v1/chat/completions", CHAT)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(BUDGET_RETRY_AFTER)
    assert refused.json()["error"]["code"] == BUDGET_CODE
    assert post(server, unlimited, "/v1/chat/completions", CHAT).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "error_shape"),
    [
        ("/v1/responses", {"model": "llama3.2", "input": "hi"}, "openai"),
        ("/api/chat", {**CHAT, "stream": False}, "ollama"),
    ],
)
def test_every_generating_surface_is_limited(
    start_gateway: Callable[..., GatewayServer], path: str, body: dict[str, Any], error_shape: str
) -> None:
    server = start_gateway()
    secret = server.create_key("one-per-minute", rpm=1)
    assert post(server, secret, path, body).status_code == 200
    refused = post(server, secret, path, body)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error" if error_shape == "openai" else "requests per minute" in error
