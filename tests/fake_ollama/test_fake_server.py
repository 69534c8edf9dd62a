"""Server-level behaviour: routing texts, recordings, holds, delays, disconnect detection, process mode."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import httpx
import pytest

from .replies import Reply
from .server import FakeOllama
from .transcripts import ndjson

CHAT = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
REPO = Path(__file__).resolve().parents[2]


def test_unknown_path_and_wrong_method_are_plain_text(http: httpx.Client) -> None:
    missing = http.get("/api/nothing")
    assert (missing.status_code, missing.text, missing.headers["content-type"]) == (
        404,
        "404 page not found",
        "text/plain",
    )
    wrong = http.get("/api/chat")
    assert (wrong.status_code, wrong.text, wrong.headers["content-type"]) == (
        405,
        "405 method not allowed",
        "text/plain",
    )
    assert http.post("/api/tags").status_code == 405
    assert http.get("/api/delete").status_code == 405


def test_root_and_version(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    root = http.get("/")
    assert (root.status_code, root.text) == (200, "Ollama is running")
    assert root.headers["content-type"].startswith("text/plain")
    head = http.head("/")
    assert (head.status_code, head.content) == (200, b"")
    assert http.get("/api/version").json() == {"version": "0.33.0-rc2"}
    fake_ollama.version = "9.9.9"
    assert http.head("/api/version").status_code == 200
    assert http.get("/api/version").json() == {"version": "9.9.9"}


def test_requests_are_recorded_in_order(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    http.post("/api/chat", json=CHAT, headers={"X-Trace": "abc"})
    http.post("/api/chat", content=b"not json")
    http.get("/api/tags?x=1")
    first, second, third = fake_ollama.requests
    assert (first.method, first.path, first.body) == ("POST", "/api/chat", CHAT)
    assert first.headers["x-trace"] == "abc" and json.loads(first.raw) == CHAT
    assert second.body is None and second.raw == b"not json"
    assert third.query == {"x": "1"} and fake_ollama.last("/api/chat") is second
    assert fake_ollama.bodies("/api/chat") == [CHAT, None]
    with pytest.raises(LookupError):
        fake_ollama.last("/api/embed")


def test_reset_restores_everything(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.remove_model("qwen3")
    fake_ollama.script(Reply(content=["x"]))
    http.get("/api/tags")
    fake_ollama.reset()
    assert fake_ollama.requests == [] and fake_ollama.pending_scripts == 0
    assert "qwen3" in fake_ollama.models


def test_hold_keeps_a_stream_open_until_released(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    hold = threading.Event()
    reply = Reply(content=["one", "two"], hold=hold, hold_after=1)
    fake_ollama.script(reply)
    seen: list[str] = []
    with http.stream("POST", "/api/chat", json=CHAT) as response:
        lines = response.iter_lines()
        seen.append(json.loads(next(lines))["message"]["content"])
        assert reply.held.wait(5)
        assert len(seen) == 1
        hold.set()
        seen.extend(json.loads(line).get("message", {}).get("content", "") for line in lines)
    assert seen == ["one", "two", ""]


def test_delays_are_applied(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply(content=["a", "b", "c"], first_chunk_delay=0.05, chunk_delay=0.02))
    started = time.monotonic()
    assert len(ndjson(http.post("/api/chat", json=CHAT).content)) == 4
    assert time.monotonic() - started >= 0.09


async def test_client_disconnect_is_detected(fake_ollama: FakeOllama, session: aiohttp.ClientSession) -> None:
    hold = threading.Event()
    reply = Reply(content=["a", "b"], hold=hold, hold_after=1)
    fake_ollama.script(reply)
    response = await session.post(f"{fake_ollama.url}/api/chat", json=CHAT)
    assert json.loads(await response.content.readline())["message"]["content"] == "a"
    response.close()  # drop the connection mid-stream
    gone = await fake_ollama.wait_disconnect(timeout=5)
    assert gone.path == "/api/chat" and gone.body == CHAT
    assert fake_ollama.disconnects == [gone]


async def test_disconnect_during_first_chunk_delay(fake_ollama: FakeOllama, session: aiohttp.ClientSession) -> None:
    fake_ollama.script(Reply(content=["late"], first_chunk_delay=30))
    task = asyncio.create_task(session.post(f"{fake_ollama.url}/api/chat", json={**CHAT, "stream": False}))
    await asyncio.to_thread(fake_ollama.wait_for_requests, 1, "/api/chat")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await fake_ollama.wait_disconnect(timeout=5)).path == "/api/chat"


def test_sync_disconnect_during_pull(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.pull_step_delay = 0.05
    with http.stream("POST", "/api/pull", json={"model": "tinyllama"}) as response:
        assert json.loads(next(response.iter_lines())) == {"status": "pulling manifest"}
    assert fake_ollama.wait_disconnect_sync(timeout=5).path == "/api/pull"
    assert "tinyllama" not in fake_ollama.models


def test_reset_abandons_a_held_stream(fake_ollama: FakeOllama) -> None:
    reply = Reply(content=["a"], hold=threading.Event(), hold_after=1)
    fake_ollama.script(reply)
    with (
        httpx.Client(base_url=fake_ollama.url, timeout=5) as client,
        client.stream("POST", "/api/chat", json=CHAT) as r,
    ):
        lines = r.iter_lines()
        next(lines)
        assert reply.held.wait(5)
        fake_ollama.reset()
        with pytest.raises(httpx.RemoteProtocolError):
            list(lines)


def test_a_second_instance_is_independent() -> None:
    with FakeOllama() as other, httpx.Client(base_url=other.url) as client:
        assert other.url.startswith("http://127.0.0.1:")
        assert client.get("/api/version").status_code == 200
        assert len(other.requests) == 1


def test_runs_as_a_process_with_token_count() -> None:
    command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--tokens", "7", "--chunk-delay-ms", "1"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            with httpx.Client(base_url=url, timeout=10) as client:
                chunks = ndjson(client.post("/api/chat", json=CHAT).content)
            assert [c["message"]["content"] for c in chunks[:-1]] == [f"token{i} " for i in range(7)]
            assert chunks[-1]["eval_count"] == 7
        finally:
            process.terminate()
            assert process.wait(10) == 0
