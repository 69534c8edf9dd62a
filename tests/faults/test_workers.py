"""`serve --workers N` on Redis: task status is shared between the worker processes; SIGTERM stops them all."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fake_ollama.server import FakeOllama
from tests.faults.process import GatewayProcess


@pytest.fixture
def workers(tmp_path: Path, fake_ollama: FakeOllama, redis_url: str) -> Iterator[GatewayProcess]:
    """Two workers behind one port, task status in the test Redis."""
    process = GatewayProcess(tmp_path, fake_ollama.url, REDIS_URL=redis_url, SHUTDOWN_GRACE_SECONDS="1")
    yield process
    process.kill()


@pytest.mark.redis
def test_task_status_is_found_whichever_worker_answers(workers: GatewayProcess) -> None:
    key = workers.create_key()
    workers.start("--workers", "2")
    auth = {"Authorization": f"Bearer {key}"}
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
    ids = [f"w-{i}" for i in range(10)]
    for task_id in ids:
        response = httpx.post(
            workers.url + "/v1/chat/completions", json=body, headers={**auth, "X-Task-Id": task_id}, timeout=20
        )
        assert response.status_code == 200
    # A new connection per poll, so the kernel spreads them over both workers.
    found = [httpx.get(f"{workers.url}/tasks/status/{task_id}", headers=auth, timeout=10) for task_id in ids * 3]
    assert [r.status_code for r in found] == [200] * len(found)
    assert {r.json()["state"] for r in found} == {"SUCCESS"}
    workers.signal(signal.SIGTERM)
    assert workers.wait(30) == 0, workers.output()
