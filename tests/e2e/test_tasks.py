"""Task status for every request, on the embedded store and on a real redis-server."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import orjson
import pytest
import redis

from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.support.gateway import GatewayServer
from tests.support.redis import RedisServer

USER = [{"role": "user", "content": "hello there"}]
CHAT = {"model": "llama3.2", "messages": USER}


@pytest.fixture(params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Which task store the gateway uses."""
    return str(request.param)


@pytest.fixture
def tracked(backend: str, request: pytest.FixtureRequest, start_gateway: Callable[..., GatewayServer]) -> GatewayServer:
    """A gateway with a fast heartbeat on the chosen task store."""
    extra: dict[str, Any] = {"heartbeat_sec": 0.05}
    if backend == "redis":
        extra["redis_url"] = request.getfixturevalue("redis_url")
    return start_gateway(**extra)


class Api:
    """Raw HTTP calls with one key."""

    def __init__(self, server: GatewayServer, key: str) -> None:
        self.server, self.key = server, key
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10)

    def chat(self, task_id: str | None = None, **body: Any) -> httpx.Response:
        headers = {"X-Task-Id": task_id} if task_id else {}
        return self.http.post("/v1/chat/completions", json={**CHAT, **body}, headers=headers)

    def status(self, task_id: str) -> httpx.Response:
        return self.http.get(f"/tasks/status/{task_id}")

    def wait(self, task_id: str, ready: Callable[[dict[str, Any]], bool], seconds: float = 5) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while True:
            response = self.status(task_id)
            if response.status_code == 200 and ready(response.json()):
                return dict(response.json())
            if time.monotonic() > deadline:
                raise AssertionError(f"{task_id}: {response.status_code} {response.text}")
            time.sleep(0.02)  # polling a condition with a deadline


@pytest.fixture
def api(tracked: GatewayServer) -> Iterator[Api]:
    client = Api(tracked, tracked.create_key("tasks"))
    yield client
    client.http.close()


def test_document_layout_and_success(api: Api) -> None:
    response = api.chat("job-001")
    assert response.status_code == 200 and response.headers["X-Task-Id"] == "job-001"
    doc = api.wait("job-001", lambda d: d["state"] == "SUCCESS")
    assert set(doc) == {
        "version", "event_type", "event_id", "algorithm_id", "task_id",
        "state", "stage", "message", "extensions", "timestamp",
    }  # fmt: skip
    assert (doc["version"], doc["event_type"], doc["algorithm_id"]) == ("1.0", "task.status.update", "ollama-openai")
    assert (doc["stage"], doc["message"]) == ("done", "completed")
    assert isinstance(doc["timestamp"], int)
    assert doc["extensions"]["method"] == "POST" and doc["extensions"]["path"] == "/v1/chat/completions"
    assert doc["extensions"]["model"] == "llama3.2" and doc["extensions"]["stream"] is False


def test_generated_id_is_returned(api: Api) -> None:
    response = api.chat()
    task_id = response.headers["X-Task-Id"]
    assert len(task_id) == 36
    assert api.wait(task_id, lambda d: d["state"] == "SUCCESS")["task_id"] == task_id


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "semi;colon", "slash/id", "ünï"])
def test_invalid_ids_are_400_with_a_header(api: Api, bad: str) -> None:
    response = api.http.post("/v1/chat/completions", json=CHAT, headers={"X-Task-Id": bad.encode()})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "X-Task-Id"
    assert response.headers["X-Task-Id"] not in (bad, "")


def test_reuse_while_running_is_409_and_allowed_after(api: Api, fake_ollama: FakeOllama) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["slow"], hold=release))
    first: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: first.append(api.chat("same-id")))
    worker.start()
    try:
        api.wait("same-id", lambda d: d["state"] == "RUNNING")
        assert api.chat("same-id").status_code == 409
    finally:
        release.set()
        worker.join(10)
    assert first[0].status_code == 200
    api.wait("same-id", lambda d: d["state"] == "SUCCESS")
    assert api.chat("same-id").status_code == 200


def test_heartbeat_during_silent_prompt_evaluation(api: Api, fake_ollama: FakeOllama) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["late"], hold=release))
    worker = threading.Thread(target=lambda: api.chat("beat-1", stream=True))
    worker.start()
    try:
        first = api.wait("beat-1", lambda d: d["stage"] == "streaming" and d["message"] == "stream alive")
        later = api.wait("beat-1", lambda d: d["event_id"] != first["event_id"] and d["stage"] == "streaming")
        assert later["state"] == "RUNNING"
    finally:
        release.set()
        worker.join(10)
    api.wait("beat-1", lambda d: d["state"] == "SUCCESS")


def test_mid_stream_failure_is_recorded_with_ollamas_text(api: Api, fake_ollama: FakeOllama) -> None:
    fake_ollama.script(Reply.failing("an error was encountered while running the model", after=1))
    response = api.chat("fails-1", stream=True)
    assert response.status_code == 200 and "[DONE]" not in response.text
    doc = api.wait("fails-1", lambda d: d["state"] == "FAILED")
    assert doc["stage"] == "error" and "an error was encountered while running the model" in doc["message"]


def test_upstream_status_failure(api: Api) -> None:
    assert api.chat("missing-1", model="no-such-model").status_code == 404
    doc = api.wait("missing-1", lambda d: d["state"] == "FAILED")
    assert "not found" in doc["message"]


def test_cancel_a_running_task(api: Api, fake_ollama: FakeOllama) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["a ", "b "], hold=release, hold_after=1))
    result: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: result.append(api.chat("cancel-me", stream=True)))
    worker.start()
    try:
        api.wait("cancel-me", lambda d: d["state"] == "RUNNING")
        fake_ollama.wait_for_requests(1, "/api/chat")
        cancelled = api.http.delete("/tasks/cancel-me")
        assert cancelled.status_code == 200
        fake_ollama.wait_disconnect_sync(timeout=5)
    finally:
        release.set()
        worker.join(10)
    assert '"cancelled"' in result[0].text and "[DONE]" not in result[0].text
    doc = api.wait("cancel-me", lambda d: d["state"] == "FAILED")
    assert doc["message"] == "cancelled"


def test_scoping_and_listing(api: Api, tracked: GatewayServer) -> None:
    for n in range(3):
        api.chat(f"mine-{n}")
        api.wait(f"mine-{n}", lambda d: d["state"] == "SUCCESS")
    other = Api(tracked, tracked.create_key("other"))
    try:
        assert other.status("mine-0").status_code == 404
        assert other.http.get("/tasks/status").json() == {"tasks": []}
        assert other.http.delete("/tasks/mine-0").status_code == 404
    finally:
        other.http.close()
    listed = api.http.get("/tasks/status", params={"limit": 2}).json()["tasks"]
    assert [d["task_id"] for d in listed] == ["mine-2", "mine-1"]
    assert len(api.http.get("/tasks/status", params={"limit": 0}).json()["tasks"]) == 1
    assert len(api.http.get("/tasks/status", params={"limit": 100000}).json()["tasks"]) == 3
    assert httpx.get(f"{tracked.url}/tasks/status/mine-0").status_code == 401


def test_ttls_in_redis(start_gateway: Callable[..., GatewayServer], fake_ollama: FakeOllama, redis_url: str) -> None:
    tracked = start_gateway(redis_url=redis_url)
    api = Api(tracked, tracked.create_key("ttl"))
    release = threading.Event()
    fake_ollama.script(Reply(content=["x"], hold=release))
    worker = threading.Thread(target=lambda: api.chat("ttl-1"))
    worker.start()
    store = redis.Redis.from_url(redis_url)
    try:
        # Redis itself, not the API: the API reads the gateway's unwritten states first.
        _wait_in_redis(store, "ttl-1", "RUNNING")
        assert 3500 < store.ttl("ts:ollama:ttl-1") <= 3600
    finally:
        release.set()
        worker.join(10)
    _wait_in_redis(store, "ttl-1", "SUCCESS")
    assert 86000 < store.ttl("ts:ollama:ttl-1") <= 86400
    store.close()
    api.http.close()


def _wait_in_redis(store: redis.Redis, task_id: str, state: str, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while True:
        raw = store.get(f"ts:ollama:{task_id}")
        if raw is not None and orjson.loads(raw)["state"] == state:
            return
        assert time.monotonic() < deadline, f"{task_id} never {state} in Redis (last: {raw!r})"
        time.sleep(0.01)


def test_redis_outage_mid_traffic(
    start_gateway: Callable[..., GatewayServer], redis_server_factory: Callable[[], RedisServer]
) -> None:
    server_redis = redis_server_factory()
    gateway = start_gateway(redis_url=server_redis.url())
    api = Api(gateway, gateway.create_key("outage"))
    try:
        assert api.chat("before").status_code == 200
        api.wait("before", lambda d: d["state"] == "SUCCESS")
        server_redis.stop()
        for n in range(5):
            started = time.monotonic()
            assert api.chat(f"during-{n}").status_code == 200  # requests are still served
            assert time.monotonic() - started < 3
        # Unknown to this gateway and the store is away: a clean 503 (tasks it ran itself it still knows).
        assert api.status("never-seen").status_code == 503
        server_redis.start()  # a fresh, empty redis-server on the same port
        assert api.chat("after").status_code == 200
        api.wait("after", lambda d: d["state"] == "SUCCESS")  # tracking resumed by itself
    finally:
        api.http.close()


def test_sdk_sees_the_task_header(tracked: GatewayServer) -> None:
    with openai.OpenAI(base_url=tracked.url + "/v1", api_key=tracked.create_key(), max_retries=0) as sdk:
        raw = sdk.chat.completions.with_raw_response.create(
            model="llama3.2",
            messages=USER,
            extra_headers={"X-Task-Id": "sdk-1"},  # type: ignore[arg-type]
        )
        assert raw.headers["X-Task-Id"] == "sdk-1"


def test_client_disconnect_fails_the_task(api: Api, fake_ollama: FakeOllama) -> None:
    release = threading.Event()
    fake_ollama.script(Reply(content=["a ", "b ", "c "], hold=release, hold_after=1))
    with api.http.stream(
        "POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers={"X-Task-Id": "gone-1"}
    ) as response:
        assert any(line.startswith("data:") for line in response.iter_lines())
    try:
        fake_ollama.wait_disconnect_sync(timeout=5)  # the upstream request was cancelled
    finally:
        release.set()
    doc = api.wait("gone-1", lambda d: d["state"] == "FAILED")
    assert doc["message"] == "client disconnected"
