"""A client that hangs up on a non-streaming request cancels the upstream call: FAILED task, usage row 499."""

from __future__ import annotations

import socket
import threading
import time

import orjson
import pytest

from ollama_gateway.storage import UsageRecord
from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer

USER = [{"role": "user", "content": "hello there"}]


def _send(server: GatewayServer, path: str, key: str, task_id: str, body: dict[str, object]) -> socket.socket:
    payload = orjson.dumps(body)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nx-api-key: {key}\r\nX-Task-Id: {task_id}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.sendall(head.encode() + payload)
    return sock


def _task(server: GatewayServer, task_id: str, state: str) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while True:
        doc = server.call(lambda g: g.task_store.get(task_id))
        if doc is not None and doc["state"] == state:
            return dict(doc)
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} never reached {state}: {doc}")
        time.sleep(0.02)  # polling a condition with a deadline


def _usage(server: GatewayServer, task_id: str) -> UsageRecord:
    server.flush_usage()
    rows: list[UsageRecord] = server.call(lambda g: g.storage.usage.query(limit=100))
    [row] = [r for r in rows if r.task_id == task_id]
    return row


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "llama3.2", "messages": USER}),
        ("/v1/messages", {"model": "llama3.2", "max_tokens": 64, "messages": USER}),
    ],
)
def test_hang_up_on_a_non_streaming_request_cancels_upstream(
    gateway_server: GatewayServer, api_key: str, fake_ollama: FakeOllama, path: str, body: dict[str, object]
) -> None:
    release = threading.Event()
    reply = Reply(content=["never ", "sent"], hold=release)
    fake_ollama.script(reply)
    task_id = "hangup-" + path.rsplit("/", 1)[-1]
    sock = _send(gateway_server, path, api_key, task_id, body)
    try:
        assert reply.held.wait(5), "the request never reached the fake Ollama"
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        fake_ollama.wait_disconnect_sync(timeout=5)  # the gateway closed its upstream request
    finally:
        release.set()
    doc = _task(gateway_server, task_id, "FAILED")
    assert doc["message"] == "client disconnected"
    row = _usage(gateway_server, task_id)
    assert row.status == 499
    assert row.error == "client disconnected"
