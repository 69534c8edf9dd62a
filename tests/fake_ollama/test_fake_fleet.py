"""The fake's fleet options: a name header, counts at /_fake/stats, the busy switch, a chosen catalog, preloading;
in process and as processes started by tests.support.fleet."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import ollama
import pytest

from tests.support.fleet import FakeFleet, FakeHostSpec

from .control import catalog_of, preload
from .errors import SERVER_BUSY
from .server import FakeOllama
from .transcripts import ndjson

CHAT = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
BUSY_BODY = {"error": "server busy, please try again.  maximum pending requests exceeded"}


def test_busy_text_is_ollamas_with_two_spaces() -> None:
    assert BUSY_BODY["error"] == SERVER_BUSY and "again.  maximum" in SERVER_BUSY


def test_name_header_on_plain_streamed_and_error_answers(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    assert "x-fake-host" not in http.get("/api/version").headers  # no name, no header
    fake_ollama.name = "gpu-1"
    with http.stream("POST", "/api/chat", json=CHAT) as streamed:
        assert streamed.headers["x-fake-host"] == "gpu-1"
        assert ndjson(streamed.read())[-1]["done"] is True
    assert http.post("/api/chat", json={**CHAT, "stream": False}).headers["x-fake-host"] == "gpu-1"
    missing = http.post("/api/chat", json={**CHAT, "model": "nope"})
    assert (missing.status_code, missing.headers["x-fake-host"]) == (404, "gpu-1")
    fake_ollama.name = None


def test_stats_count_paths_and_models_but_not_themselves(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    http.post("/api/chat", json=CHAT)
    http.post("/api/chat", json={**CHAT, "model": "llama3.2:latest"})
    http.post("/api/chat", json={**CHAT, "model": "qwen3"})
    http.post("/api/embed", json={"model": "all-minilm", "input": "x"})
    http.post("/api/chat", content=b"not json")
    http.get("/api/tags")
    http.get("/_fake/stats")
    stats = http.get("/_fake/stats").json()
    assert stats == {
        "name": None,
        "busy": False,
        "paths": {"/api/chat": 4, "/api/embed": 1, "/api/tags": 1},
        "models": {"/api/chat": {"llama3.2:latest": 2, "qwen3:latest": 1}, "/api/embed": {"all-minilm:latest": 1}},
    }
    assert all(not r.path.startswith("/_fake/") for r in fake_ollama.requests)  # control calls are not recorded
    fake_ollama.reset()
    assert http.get("/_fake/stats").json()["paths"] == {}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/chat", CHAT),
        ("/api/chat", {**CHAT, "stream": False}),
        ("/api/generate", {"model": "llama3.2", "prompt": "hi"}),
        ("/api/embed", {"model": "all-minilm", "input": "x"}),
    ],
)
def test_busy_answers_ollamas_503(
    http: httpx.Client, fake_ollama: FakeOllama, path: str, body: dict[str, object]
) -> None:
    assert http.post("/_fake/busy", json={"busy": True}).json() == {"busy": True}
    response = http.post(path, json=body)
    assert (response.status_code, response.json()) == (503, BUSY_BODY)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert fake_ollama.loaded() == []  # refused before the model was scheduled
    assert http.post(path, json={**body, "model": "nope"}).status_code == 404  # the model check comes first
    assert http.get("/api/tags").status_code == 200  # only scheduled requests are refused
    http.post("/_fake/busy", json={"busy": False})
    assert http.post(path, json=body).status_code == 200


def test_busy_reaches_the_sdk(sdk: ollama.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.busy = True
    with pytest.raises(ollama.ResponseError) as refused:
        sdk.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
    assert (refused.value.status_code, refused.value.error) == (503, SERVER_BUSY)


def test_reset_clears_busy(fake_ollama: FakeOllama) -> None:
    fake_ollama.busy = True
    fake_ollama.reset()
    assert fake_ollama.busy is False


def test_catalog_of_keeps_known_models_and_adds_others() -> None:
    catalog = catalog_of(["qwen3", "custom:7b", "all-minilm:latest"])
    assert sorted(catalog.names()) == ["all-minilm:latest", "custom:7b", "qwen3:latest"]
    qwen, custom, minilm = catalog.get("qwen3"), catalog.get("custom:7b"), catalog.get("all-minilm")
    assert qwen is not None and "thinking" in qwen.capabilities and qwen.parser == "qwen3"
    assert custom is not None and custom.capabilities == ["completion", "tools"]
    assert minilm is not None and minilm.capabilities == ["embedding"]
    with pytest.raises(ValueError, match="invalid model name"):
        catalog_of(["bad name!"])


def test_chosen_catalog_and_preloaded_models(http: httpx.Client, fake_ollama: FakeOllama) -> None:
    fake_ollama.models = catalog_of(["custom:7b"])
    preload(fake_ollama, ["custom:7b"])
    assert [m["name"] for m in http.get("/api/tags").json()["models"]] == ["custom:7b"]
    assert [m["name"] for m in http.get("/api/ps").json()["models"]] == ["custom:7b"]
    missing = http.post("/api/chat", json=CHAT)
    assert (missing.status_code, missing.json()) == (404, {"error": "model 'llama3.2' not found"})
    shown = http.post("/api/show", json={"model": "llama3.2"})
    assert (shown.status_code, shown.json()) == (404, {"error": "model 'llama3.2:latest' not found"})
    with pytest.raises(ValueError, match="not in the catalog"):
        preload(fake_ollama, ["qwen3"])


# -- as processes -------------------------------------------------------------------------------------------------


def test_spec_argv() -> None:
    spec = FakeHostSpec(name="a", models=["x", "y:1"], loaded=["x"], busy=True, chunk_delay_ms=5, tokens=3)
    assert spec.argv() == [
        "--port", "0", "--name", "a", "--models", "x,y:1", "--loaded", "x", "--busy",
        "--chunk-delay-ms", "5", "--tokens", "3",
    ]  # fmt: skip
    assert FakeHostSpec().argv() == ["--port", "0"]


def test_fleet_of_processes(fake_fleet: Callable[..., FakeFleet]) -> None:
    fleet = fake_fleet(
        FakeHostSpec(name="a", models=["llama3.2", "qwen3:8b"], loaded=["qwen3:8b"]),
        FakeHostSpec(name="b", models=["qwen3:8b"], busy=True),
    )
    a, b = fleet.urls
    assert a != b and all(url.startswith("http://127.0.0.1:") for url in fleet.urls)
    with ollama.Client(host=a) as client_a, ollama.Client(host=b) as client_b:
        assert sorted(m.model or "" for m in client_a.list().models) == ["llama3.2:latest", "qwen3:8b"]
        assert [m.model for m in client_a.ps().models] == ["qwen3:8b"]
        assert client_b.ps().models == []
        reply = client_a.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
        assert reply.message.content
        with pytest.raises(ollama.ResponseError) as missing:
            client_b.chat(model="llama3.2", messages=[{"role": "user", "content": "hi"}])
        assert (missing.value.status_code, missing.value.error) == (404, "model 'llama3.2' not found")
        with pytest.raises(ollama.ResponseError) as busy:
            client_b.chat(model="qwen3:8b", messages=[{"role": "user", "content": "hi"}])
        assert (busy.value.status_code, busy.value.error) == (503, SERVER_BUSY)
        with httpx.Client(timeout=10) as http:
            assert http.get(f"{b}/api/version").headers["x-fake-host"] == "b"
            streamed = http.post(f"{a}/api/chat", json={**CHAT, "model": "qwen3:8b"})
            assert streamed.headers["x-fake-host"] == "a" and ndjson(streamed.content)[-1]["done"]
        stats_a, stats_b = fleet.stats(0), fleet.stats(1)
        assert (stats_a["name"], stats_a["busy"], stats_b["name"], stats_b["busy"]) == ("a", False, "b", True)
        assert stats_a["models"]["/api/chat"] == {"llama3.2:latest": 1, "qwen3:8b": 1}
        assert stats_b["models"]["/api/chat"] == {"llama3.2:latest": 1, "qwen3:8b": 1}
        assert stats_b["paths"] == {"/api/ps": 1, "/api/chat": 2, "/api/version": 1}
        fleet.set_busy(1, False)
        assert client_b.chat(model="qwen3:8b", messages=[{"role": "user", "content": "hi"}]).message.content


def test_kill_makes_a_host_vanish(fake_fleet: Callable[..., FakeFleet]) -> None:
    fleet = fake_fleet(FakeHostSpec(name="a"), FakeHostSpec(name="b"))
    pid = fleet.hosts[0].pid
    fleet.kill(0)
    assert not fleet.hosts[0].alive and fleet.hosts[0].process.returncode == -9 and pid > 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{fleet.url(0)}/api/version", timeout=5)
    assert json.loads(httpx.get(f"{fleet.url(1)}/api/version", timeout=5).text)["version"]


def test_a_host_that_cannot_start_is_reported_and_nothing_is_left(fake_fleet: Callable[..., FakeFleet]) -> None:
    with pytest.raises(RuntimeError, match=r"exited with 2:[\s\S]*not in the catalog") as failed:
        fake_fleet(FakeHostSpec(name="ok"), FakeHostSpec(name="bad", models=["x"], loaded=["y"]))
    assert "'bad'" in str(failed.value)


async def test_stats_from_an_async_test(fake_fleet: Callable[..., FakeFleet]) -> None:
    fleet = fake_fleet(FakeHostSpec(name="solo", models=["qwen3"]))
    async with ollama.AsyncClient(host=fleet.url(0)) as client:
        await client.chat(model="qwen3", messages=[{"role": "user", "content": "hi"}])
    assert (await fleet.astats(0))["models"] == {"/api/chat": {"qwen3:latest": 1}}


def test_fleet_close_stops_every_process() -> None:
    fleet = FakeFleet().start(FakeHostSpec(name="a"), FakeHostSpec(name="b"))
    processes = [host.process for host in fleet.hosts]
    fleet.close()
    assert [p.returncode for p in processes] == [0, 0]  # a clean SIGTERM shutdown
