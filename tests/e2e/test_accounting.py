"""Usage rows, model settings, timeouts, expiry and persistence through the openai SDK, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import openai
import pytest

from ollama_gateway.storage import UsageRecord
from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def engine_gateway(start_gateway: Callable[..., GatewayServer], storage_url: str) -> GatewayServer:
    """A gateway on the parametrised engine (a SQLite file or a fresh PostgreSQL database)."""
    return start_gateway(database_url=storage_url)


def _sdk(server: GatewayServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=20)


def _rows(server: GatewayServer) -> list[UsageRecord]:
    server.flush_usage()
    rows: list[UsageRecord] = server.call(lambda g: g.storage.usage.query(limit=100))
    return sorted(rows, key=lambda r: r.created_at)


def test_usage_rows_for_plain_streamed_and_failed_requests(
    engine_gateway: GatewayServer, fake_ollama: FakeOllama
) -> None:
    key = engine_gateway.create_key("acct")
    fake_ollama.script(
        Reply(content=["a", "b"], prompt_eval_count=5, eval_count=2),
        Reply(content=["c", "d", "e"], prompt_eval_count=6, eval_count=3),
        Reply.failing("an error was encountered while running the model", after=1),
    )
    with _sdk(engine_gateway, key) as sdk:
        sdk.chat.completions.create(model="llama3.2", messages=USER, extra_headers={"X-Task-Id": "acct-plain"})
        list(sdk.chat.completions.create(model="llama3.2", messages=USER, stream=True))
        with pytest.raises(openai.APIError):
            list(sdk.chat.completions.create(model="llama3.2", messages=USER, stream=True))
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(model="missing", messages=USER)
    rows = _rows(engine_gateway)
    assert [(r.status, r.stream, r.prompt_tokens, r.completion_tokens) for r in rows] == [
        (200, False, 5, 2),
        (200, True, 6, 3),
        (502, True, 0, 0),
        (404, False, 0, 0),
    ]
    plain = rows[0]
    assert (plain.model_requested, plain.model_upstream, plain.endpoint) == (
        "llama3.2",
        "llama3.2:latest",
        "/v1/chat/completions",
    )
    assert plain.task_id == "acct-plain" and plain.client_ip == "127.0.0.1" and "OpenAI" in (plain.user_agent or "")
    assert plain.key_id is not None and plain.latency_ms >= 0 and plain.ttft_ms is not None
    assert "an error was encountered" in (rows[2].error or "")


def test_display_names_disabled_models_and_override_precedence(
    engine_gateway: GatewayServer, fake_ollama: FakeOllama
) -> None:
    key = engine_gateway.create_key("names")
    engine_gateway.call(
        lambda g: g.storage.models.set(
            "qwen3:latest", display_name="thinker", overrides={"num_ctx": 8192, "temperature": 0.9, "think": "high"}
        )
    )
    engine_gateway.call(lambda g: g.storage.models.set("llava:latest", enabled=False))
    engine_gateway.call(lambda g: g.catalog.reload())
    with _sdk(engine_gateway, key) as sdk:
        ids = {m.id for m in sdk.models.list()}
        assert "thinker" in ids and "llava:latest" not in ids
        reply = sdk.chat.completions.create(model="thinker", messages=USER, temperature=0.1)
        assert reply.model == "thinker"  # the name the client used
        sent = fake_ollama.last("/api/chat").body
        assert sent["model"] == "qwen3:latest"
        assert sent["options"] == {"num_ctx": 8192, "temperature": 0.1}  # request > model override
        assert sent["think"] == "high"
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(model="llava", messages=USER)


def test_override_timeout_cancels_upstream_in_both_shapes(
    engine_gateway: GatewayServer, fake_ollama: FakeOllama
) -> None:
    key = engine_gateway.create_key("slow")
    engine_gateway.call(lambda g: g.storage.models.set("llama3.2:latest", overrides={"request_timeout": 300}))
    engine_gateway.call(lambda g: g.catalog.reload())
    release = threading.Event()
    fake_ollama.script(Reply(content=["late"], hold=release), Reply(content=["a ", "b "], hold=release, hold_after=1))
    try:
        with _sdk(engine_gateway, key) as sdk:
            with pytest.raises(openai.APIStatusError) as plain:
                sdk.chat.completions.create(model="llama3.2", messages=USER)
            assert plain.value.status_code == 504
            with pytest.raises(openai.APIError, match="did not"):
                list(
                    sdk.chat.completions.create(
                        model="llama3.2", messages=USER, stream=True, extra_body={"timeout_ms": 999999}
                    )
                )
        fake_ollama.wait_disconnect_sync(timeout=5, count=2)
    finally:
        release.set()


def test_expired_key_is_refused(engine_gateway: GatewayServer) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = engine_gateway.create_key("old", expires_at=past)
    response = httpx.get(engine_gateway.url + "/v1/models", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


def test_keys_settings_and_usage_survive_a_restart(
    start_gateway: Callable[..., GatewayServer], storage_url: str, fake_ollama: FakeOllama
) -> None:
    first = start_gateway(database_url=storage_url)
    key = first.create_key("durable")
    first.call(lambda g: g.storage.models.set("llama3.2:latest", display_name="house"))
    first.call(lambda g: g.catalog.reload())
    with _sdk(first, key) as sdk:
        sdk.chat.completions.create(model="house", messages=USER)
    first.stop()  # a clean shutdown flushes buffered usage records
    second = start_gateway(database_url=storage_url)
    with _sdk(second, key) as sdk:
        assert sdk.chat.completions.create(model="house", messages=USER).model == "house"
    deadline = time.monotonic() + 5
    while len(_rows(second)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # polling a condition with a deadline
    assert [r.model_requested for r in _rows(second)] == ["house", "house"]
