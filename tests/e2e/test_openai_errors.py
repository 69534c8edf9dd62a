"""Errors in OpenAI's shape with the right status, mid-stream failures, disconnects and timeouts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.support.fleet import FakeHostSpec
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]


def _post(server: GatewayServer, key: str | None, body: bytes | dict[str, object], **headers: str) -> httpx.Response:
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if isinstance(body, bytes):
        return httpx.post(server.url + "/v1/chat/completions", content=body, headers=headers, timeout=10)
    return httpx.post(server.url + "/v1/chat/completions", json=body, headers=headers, timeout=10)


def _error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, object] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, "object"),
        ({"model": "llama3.2"}, 400, "messages"),
        ({"messages": USER}, 400, "model"),
        ({"model": "llama3.2", "messages": "hi"}, 400, "messages"),
        ({"model": "llama3.2", "messages": USER, "temperature": "hot"}, 400, "temperature"),
        ({"model": "llama3.2", "messages": USER, "n": 2}, 400, "n"),
        ({"model": "llama3.2", "messages": USER, "bogus_field": 1}, 400, "bogus_field"),
        ({"model": "nope", "messages": USER}, 404, "nope"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_the_gateway_keeps_serving(
    gateway_server: GatewayServer, api_key: str, body: bytes | dict[str, object], status: int, fragment: str
) -> None:
    response = _post(gateway_server, api_key, body)
    assert response.status_code == status
    assert fragment in str(_error(response)["message"])
    assert response.headers["X-Task-Id"]
    healthy = _post(gateway_server, api_key, {"model": "llama3.2", "messages": USER})
    assert healthy.status_code == 200


def test_auth_errors(gateway_server: GatewayServer, fake_ollama: FakeOllama) -> None:
    ok = {"model": "llama3.2", "messages": USER}
    assert _post(gateway_server, None, ok).status_code == 401
    assert _post(gateway_server, "sk-og-not-a-real-key", ok).status_code == 401
    secret = gateway_server.create_key("limited", models=("qwen3",))
    assert _post(gateway_server, secret, ok).status_code == 403
    assert _post(gateway_server, secret, {**ok, "model": "qwen3"}).status_code == 200
    with openai.OpenAI(base_url=gateway_server.url + "/v1", api_key=secret, max_retries=0) as sdk:
        assert [m.id for m in sdk.models.list()] == ["qwen3:latest"]
        with pytest.raises(openai.PermissionDeniedError):
            sdk.models.retrieve("llama3.2")
        with (
            pytest.raises(openai.AuthenticationError),
            openai.OpenAI(base_url=gateway_server.url + "/v1", api_key="wrong", max_retries=0) as wrong,
        ):
            wrong.models.list()
    assert len(fake_ollama.bodies("/api/chat")) == 1  # only the allowed call went upstream


def test_revoked_key_is_refused(gateway_server: GatewayServer) -> None:
    record, secret = gateway_server.call(lambda g: g.storage.keys.create(name="soon-revoked"))
    assert _post(gateway_server, secret, {"model": "llama3.2", "messages": USER}).status_code == 200
    gateway_server.call(lambda g: g.storage.keys.revoke(record.id))
    gateway_server.gateway.auth.forget(record.id)
    assert _post(gateway_server, secret, {"model": "llama3.2", "messages": USER}).status_code == 401


def test_ollama_error_text_is_kept(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="llama3.2", messages=USER, extra_body={"think": True})
    assert '"llama3.2:latest" does not support thinking' in info.value.message


def test_mid_stream_error_reaches_the_sdk(client: openai.OpenAI, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply.failing("an error was encountered while running the model", after=2))
    received: list[str] = []
    with pytest.raises(openai.APIError, match="an error was encountered while running the model"):
        for chunk in client.chat.completions.create(model="llama3.2", messages=USER, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert "".join(received) == "chunk0 chunk1 "


def test_error_before_output_is_an_http_status_even_when_streaming(
    client: openai.OpenAI, fake_ollama: FakeOllama
) -> None:
    fake_ollama.script(Reply.failing("model runner crashed", status=500))
    with pytest.raises(openai.APIStatusError) as info:
        list(client.chat.completions.create(model="llama3.2", messages=USER, stream=True))
    assert info.value.status_code == 502
    assert "model runner crashed" in info.value.message


def test_ollama_unreachable_is_502(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(ollama_url="http://127.0.0.1:9")
    response = _post(server, server.create_key(), {"model": "llama3.2", "messages": USER})
    assert response.status_code == 502
    assert "cannot reach Ollama" in str(_error(response)["message"])
    assert response.headers["X-Task-Id"]
    ready = httpx.get(server.url + "/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["database"] == "ok"


def test_ollama_down_after_start_is_502(start_gateway: Callable[..., GatewayServer], fake_fleet: Any) -> None:
    fleet = fake_fleet(FakeHostSpec(name="only"))
    server = start_gateway(ollama_url=fleet.url(0))
    key = server.create_key()
    fleet.kill(0)
    response = _post(server, key, {"model": "llama3.2", "messages": USER})
    assert response.status_code == 502
    assert "cannot reach Ollama" in str(_error(response)["message"])


def test_too_slow_is_504_and_cancels_upstream(
    gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama
) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["late"], hold=release))
    try:
        response = _post(gateway_server, api_key, {"model": "llama3.2", "messages": USER, "timeout_ms": 300})
    finally:
        release.set()
    assert response.status_code == 504
    assert "did not" in str(_error(response)["message"])
    fake_ollama.wait_disconnect_sync(timeout=5)


def test_body_too_large_is_413(start_gateway: Callable[..., GatewayServer]) -> None:
    server = start_gateway(max_body_bytes=1000)
    response = _post(
        server, server.create_key(), {"model": "llama3.2", "messages": [{"role": "user", "content": "x" * 2000}]}
    )
    assert response.status_code == 413


def test_client_disconnect_cancels_upstream_and_fails_the_task(
    gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama
) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["a ", "b ", "c "], hold=release, hold_after=2))
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST",
            gateway_server.url + "/v1/chat/completions",
            json={"model": "llama3.2", "messages": USER, "stream": True},
            headers={"Authorization": f"Bearer {api_key}", "X-Task-Id": "disconnect-1"},
        ) as response,
    ):
        lines = response.iter_lines()
        seen = [line for _, line in zip(range(6), lines, strict=False) if line.startswith("data:")]
        assert seen
        # leaving the block closes the connection mid-stream
    try:
        fake_ollama.wait_disconnect_sync(timeout=5)
    finally:
        release.set()
    doc = _wait_task(gateway_server, api_key, "disconnect-1", lambda d: d["state"] == "FAILED")
    assert doc["message"] == "client disconnected"


def _wait_task(
    server: GatewayServer, key: str, task_id: str, ready: Callable[[dict[str, object]], bool]
) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while True:
        response = httpx.get(f"{server.url}/tasks/status/{task_id}", headers={"Authorization": f"Bearer {key}"})
        if response.status_code == 200 and ready(response.json()):
            return dict(response.json())
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} never reached the expected state: {response.text}")
        time.sleep(0.02)  # polling a condition with a deadline
