"""SIGTERM: stop accepting, let requests finish within SHUTDOWN_GRACE_SECONDS, end the rest cleanly, exit 0."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.faults.process import GatewayProcess

USER = [{"role": "user", "content": "hello there"}]
GRACE = 1.5


@pytest.fixture
def gateway_process(tmp_path: Path, fake_ollama: FakeOllama) -> Iterator[GatewayProcess]:
    """A gateway process with a short grace and a slow usage flush (so only the shutdown flush can save rows)."""
    process = GatewayProcess(tmp_path, fake_ollama.url, SHUTDOWN_GRACE_SECONDS=str(GRACE), USAGE_FLUSH_SECONDS="60")
    yield process
    process.kill()


def _stream(
    url: str, key: str, task_id: str, lines: list[str], first: threading.Event, path: str = "/v1/chat/completions"
) -> None:
    headers = {"Authorization": f"Bearer {key}", "X-Task-Id": task_id}
    body = {"model": "llama3.2", "messages": USER, "stream": True}
    with (
        httpx.Client(timeout=30) as http,
        http.stream("POST", url + path, json=body, headers=headers) as response,
    ):
        for line in response.iter_lines():
            if line:
                lines.append(line)
                first.set()


def test_sigterm_ends_a_long_stream_with_an_error_frame_flushes_usage_and_exits_0(
    gateway_process: GatewayProcess, fake_ollama: FakeOllama
) -> None:
    key = gateway_process.create_key()
    gateway_process.start()
    never = threading.Event()
    fake_ollama.script(Reply(content=["one ", "two ", "three "], hold=never, hold_after=1))
    lines: list[str] = []
    first = threading.Event()
    client = threading.Thread(target=_stream, args=(gateway_process.url, key, "long-1", lines, first))
    client.start()
    try:
        assert first.wait(10), "the stream never started"
        started = time.monotonic()
        gateway_process.signal(signal.SIGTERM)
        status = gateway_process.wait(GRACE + 15)
        elapsed = time.monotonic() - started
        client.join(10)
    finally:
        never.set()
    assert status == 0, gateway_process.output()
    assert GRACE <= elapsed < GRACE + 10
    assert any("gateway shutting down" in line for line in lines), lines
    assert lines[-1] != "data: [DONE]"
    [row] = [r for r in gateway_process.usage() if r.task_id == "long-1"]
    assert (row.status, row.error, row.stream) == (503, "gateway shutting down", True)


def test_sigterm_ends_a_native_relay_with_an_ollama_error_line(
    gateway_process: GatewayProcess, fake_ollama: FakeOllama
) -> None:
    key = gateway_process.create_key()
    gateway_process.start()
    never = threading.Event()
    fake_ollama.script(Reply(content=["one ", "two ", "three "], hold=never, hold_after=1))
    lines: list[str] = []
    first = threading.Event()
    args = (gateway_process.url, key, "native-1", lines, first, "/api/chat")
    client = threading.Thread(target=_stream, args=args)
    client.start()
    try:
        assert first.wait(10), "the stream never started"
        gateway_process.signal(signal.SIGTERM)
        status = gateway_process.wait(GRACE + 15)
        client.join(10)
    finally:
        never.set()
    assert status == 0, gateway_process.output()
    assert json.loads(lines[-1]) == {"error": "gateway shutting down"}  # Ollama's mid-stream error shape
    assert all("done" in json.loads(line) for line in lines[:-1])
    [row] = [r for r in gateway_process.usage() if r.task_id == "native-1"]
    assert (row.status, row.error) == (503, "gateway shutting down")


def test_sigterm_lets_a_request_that_finishes_within_the_grace_complete(
    gateway_process: GatewayProcess, fake_ollama: FakeOllama
) -> None:
    key = gateway_process.create_key()
    gateway_process.start()
    release = threading.Event()
    fake_ollama.script(Reply(content=["one ", "two "], hold=release, hold_after=1))
    lines: list[str] = []
    first = threading.Event()
    client = threading.Thread(target=_stream, args=(gateway_process.url, key, "short-1", lines, first))
    client.start()
    try:
        assert first.wait(10), "the stream never started"
        gateway_process.signal(signal.SIGTERM)
        release.set()  # the model finishes well within the grace
        client.join(10)
        status = gateway_process.wait(GRACE + 15)
    finally:
        release.set()
    assert status == 0, gateway_process.output()
    assert lines[-1] == "data: [DONE]"
    [row] = [r for r in gateway_process.usage() if r.task_id == "short-1"]
    assert (row.status, row.error) == (200, None)
