"""One access line per request (text, or JSON with LOG_FORMAT=json), and dependency state logged on change only."""

from __future__ import annotations

import logging
from collections.abc import Callable

import openai
import orjson
import pytest

from ollama_gateway.logs import ACCESS_LOGGER, JsonFormatter
from tests.ops.helpers import wait_for
from tests.support.gateway import GatewayServer


def access_records(caplog: pytest.LogCaptureFixture, task_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER and getattr(r, "task_id", None) == task_id]


def test_one_line_per_request_with_its_facts(gateway_server: GatewayServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    secret = gateway_server.create_key("logged")
    key_id = gateway_server.call(lambda g: g.storage.keys.list())[0].id
    with openai.OpenAI(base_url=gateway_server.url + "/v1", api_key=secret, max_retries=0) as client:
        reply = client.chat.completions.with_raw_response.create(
            model="llama3.2",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            extra_headers={"X-Task-Id": "log-me-1"},
        )
        for _ in reply.parse():
            pass
    records = wait_for(lambda: access_records(caplog, "log-me-1"))
    assert len(records) == 1
    record = records[0]
    line = orjson.loads(JsonFormatter().format(record))
    assert line["surface"] == "openai" and line["endpoint"] == "/v1/chat/completions" and line["status"] == 200
    assert line["key_id"] == key_id and line["model"] == "llama3.2" and line["model_upstream"] == "llama3.2:latest"
    assert line["stream"] is True and line["completion_tokens"] > 0 and line["prompt_tokens"] > 0
    assert line["latency_ms"] >= line["ttft_ms"] >= 0
    text = record.getMessage()
    assert text.startswith("POST /v1/chat/completions openai 200 ")
    assert f"key={key_id}" in text and "task=log-me-1" in text
    assert secret not in text and secret not in orjson.dumps(line).decode()


def test_refusals_are_logged_once_too(gateway_server: GatewayServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    client = openai.OpenAI(base_url=gateway_server.url + "/v1", api_key="sk-og-bad", max_retries=0)
    with client, pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(
            model="llama3.2", messages=[{"role": "user", "content": "hi"}], extra_headers={"X-Task-Id": "bad-1"}
        )
    records = access_records(caplog, "bad-1")
    assert len(records) == 1
    assert records[0].status == 401 and "invalid API key" in records[0].getMessage()  # type: ignore[attr-defined]


def test_log_format_json_writes_json_lines(
    start_gateway: Callable[..., GatewayServer], capsys: pytest.CaptureFixture[str]
) -> None:
    server = start_gateway(log_format="json")
    key = server.create_key()
    capsys.readouterr()
    with openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as client:
        client.models.list(extra_headers={"X-Task-Id": "json-line-1"})

    def access_line() -> dict | None:
        for raw in capsys.readouterr().err.splitlines():
            if raw.startswith("{") and "json-line-1" in raw:
                return orjson.loads(raw)
        return None

    line = wait_for(access_line)
    assert line["logger"] == ACCESS_LOGGER and line["level"] == "info" and line["status"] == 200
    assert line["endpoint"] == "/v1/models" and line["task_id"] == "json-line-1"


def test_ollama_reachability_is_logged_on_change_only(
    start_gateway: Callable[..., GatewayServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = start_gateway(ollama_url="http://127.0.0.1:9")
    key = server.create_key()
    with openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0) as client:
        for _ in range(3):
            with pytest.raises(openai.APIStatusError):
                client.embeddings.create(model="all-minilm", input="x")
    unreachable = [r for r in caplog.records if "is unreachable" in r.getMessage()]
    assert len(unreachable) == 1
