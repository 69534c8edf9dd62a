"""Several fake Ollama processes behind one gateway, driven by the official SDKs: routing, failover, breaker, queue."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import ollama
import openai
import pytest

from ollama_gateway.service.runtime import Gateway
from tests.fake_ollama.replies import Reply
from tests.fake_ollama.server import FakeOllama
from tests.support.fleet import FakeFleet, FakeHostSpec
from tests.support.gateway import GatewayServer

pytestmark = pytest.mark.e2e

Start = Callable[..., GatewayServer]
Fleet = Callable[..., FakeFleet]


def sdk(server: GatewayServer, key: str, timeout: float = 30) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=timeout)


def served(fleet: FakeFleet, index: int, path: str = "/api/chat") -> int:
    paths: dict[str, int] = fleet.stats(index).get("paths", {})
    return int(paths.get(path, 0))


def wait_for(predicate: Callable[[], bool], what: str, deadline_seconds: float = 20.0) -> None:
    """Poll a condition with a deadline (the gateway runs in its own thread)."""
    deadline = time.monotonic() + deadline_seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def in_flight(server: GatewayServer) -> dict[str, int]:
    return dict(on_loop(server, lambda g: {s.config.url: s.in_flight for s in g.upstream.states()}))


def on_loop(server: GatewayServer, read: Callable[[Gateway], Any]) -> Any:
    async def run(gateway: Gateway) -> Any:
        return read(gateway)

    return server.call(run)


def test_requests_go_to_the_host_that_has_the_model(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(FakeHostSpec(name="a", models=["alpha:latest"]), FakeHostSpec(name="b", models=["beta:8b"]))
    server = start_gateway(ollama_url=fleet.url(0), ollama_urls=",".join(fleet.urls), host_probe_seconds=0.5)
    key = server.create_key()
    with sdk(server, key) as client:
        assert sorted(m.id for m in client.models.list()) == ["alpha:latest", "beta:8b"]
        for model in ("alpha", "beta:8b", "alpha:latest", "beta:8b"):
            reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content
    assert (served(fleet, 0), served(fleet, 1)) == (2, 2)
    native = ollama.Client(host=server.url, headers={"Authorization": f"Bearer {key}"})
    try:
        assert native.chat(model="beta:8b", messages=[{"role": "user", "content": "hi"}]).message.content
        assert sorted(m.model or "" for m in native.list().models) == ["alpha:latest", "beta:8b"]
    finally:
        native._client.close()
    assert served(fleet, 1) == 3


def test_a_host_with_the_model_loaded_is_preferred(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(
        FakeHostSpec(name="cold", models=["m:latest"]),
        FakeHostSpec(name="warm", models=["m:latest"], loaded=["m:latest"]),
    )
    server = start_gateway(ollama_url=fleet.url(0), ollama_urls=",".join(fleet.urls), host_probe_seconds=0.5)
    with sdk(server, server.create_key()) as client:
        for _ in range(5):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    assert (served(fleet, 0), served(fleet, 1)) == (0, 5)


def test_conversations_stay_on_their_host(start_gateway: Start, fake_fleet: Fleet) -> None:
    # The model is loaded everywhere and no host fills up, so only affinity decides where a follow-up goes.
    specs = [FakeHostSpec(name=n, models=["m:latest"], loaded=["m:latest"], chunk_delay_ms=20, tokens=5) for n in "abc"]
    fleet = fake_fleet(*specs)
    server = start_gateway(
        ollama_url=fleet.url(0), ollama_urls=",".join(fleet.urls), ollama_max_concurrent=6, host_probe_seconds=0.5
    )
    key = server.create_key()
    conversations, turns = 6, 3

    def converse(index: int) -> None:
        messages: list[Any] = [{"role": "system", "content": "be brief"}, {"role": "user", "content": f"topic {index}"}]
        with sdk(server, key) as client:
            for turn in range(turns):
                reply = client.chat.completions.create(model="m", messages=messages)
                messages += [
                    {"role": "assistant", "content": reply.choices[0].message.content},
                    {"role": "user", "content": f"and then {turn}?"},
                ]

    with ThreadPoolExecutor(conversations) as pool:
        list(pool.map(converse, range(conversations)))
    hits = on_loop(server, lambda g: g.upstream.affinity_hits)
    assert hits == conversations * (turns - 1)  # every follow-up turn went to its conversation's host
    assert sum(served(fleet, i) for i in range(3)) == conversations * turns


def test_killing_a_host_under_load_fails_no_new_request(start_gateway: Start, fake_fleet: Fleet) -> None:
    # ~2 s streams; four at a time per host, so eight concurrent ones occupy both.
    slow = {"models": ["m:latest"], "loaded": ["m:latest"], "chunk_delay_ms": 50, "tokens": 40}
    fleet = fake_fleet(FakeHostSpec(name="a", **slow), FakeHostSpec(name="b", **slow))  # type: ignore[arg-type]
    server = start_gateway(
        ollama_url=fleet.url(0), ollama_urls=",".join(fleet.urls), ollama_max_concurrent=4, host_probe_seconds=0.2
    )
    key = server.create_key()
    killed = threading.Event()
    outcomes: list[tuple[bool, str]] = []  # (started after the kill, "ok" | "stream error" | other failure)
    lock = threading.Lock()

    counter = iter(range(10_000))

    def one() -> None:
        after = killed.is_set()
        question = f"count {next(counter)}"  # distinct conversations, so affinity does not pin them to one host
        try:
            with sdk(server, key, timeout=20) as client:
                stream = client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": question}], stream=True
                )
                text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
            outcome = "ok" if text else "empty"
        except openai.APIError as exc:
            outcome = "stream error" if "Ollama" in str(exc) or "connection" in str(exc).lower() else repr(exc)
        with lock:
            outcomes.append((after, outcome))

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(one) for _ in range(8)]
        wait_for(lambda: min(in_flight(server).values()) >= 1, "both hosts to be streaming")
        fleet.kill(0)
        killed.set()
        futures += [pool.submit(one) for _ in range(24)]
        for future in futures:
            future.result(timeout=60)  # nothing hangs
    new = [o for after, o in outcomes if after]
    assert new == ["ok"] * 24, new
    before = [o for after, o in outcomes if not after]
    assert set(before) <= {"ok", "stream error"}, before  # streams on the killed host end with an error frame
    state = on_loop(server, lambda g: {s.config.url: s.reachable for s in g.upstream.states()})
    assert state == {fleet.url(0): False, fleet.url(1): True}
    ready = httpx.get(server.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["hosts"][fleet.url(0)].startswith("unreachable")


def test_breaker_opens_then_half_opens_and_closes_when_the_host_is_back(
    start_gateway: Start, fake_fleet: Fleet
) -> None:
    fleet = fake_fleet(FakeHostSpec(name="a", models=["m:latest"]), FakeHostSpec(name="b", models=["m:latest"]))
    url_a = fleet.url(0)
    server = start_gateway(ollama_url=url_a, ollama_urls=",".join(fleet.urls), host_probe_seconds=0.1)
    key = server.create_key()

    def breaker() -> str:
        return str(on_loop(server, lambda g: {s.config.url: s.breaker for s in g.upstream.states()}[url_a]))

    fleet.kill(0)
    with sdk(server, key) as client:
        for _ in range(6):
            assert client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}]).choices
    wait_for(lambda: breaker() == "open", "the breaker to open")
    port = url_a.rsplit(":", 1)[1]
    revived = FakeFleet().start(FakeHostSpec(name="a2", models=["m:latest"], extra=("--port", port)))
    try:
        wait_for(lambda: breaker() == "closed", "the breaker to close again", deadline_seconds=30)
        reachable = on_loop(server, lambda g: {s.config.url: s.routable for s in g.upstream.states()})
        assert reachable == {url_a: True, fleet.url(1): True}
    finally:
        revived.close()


def test_a_busy_host_is_skipped(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(
        FakeHostSpec(name="busy", models=["m:latest"], busy=True), FakeHostSpec(name="b", models=["m:latest"])
    )
    server = start_gateway(ollama_url=fleet.url(0), ollama_urls=",".join(fleet.urls), host_probe_seconds=0.5)
    with sdk(server, server.create_key()) as client:
        for _ in range(6):
            assert client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}]).choices
    assert served(fleet, 1) == 6


def test_queue_is_fair_and_positions_show_in_task_status(start_gateway: Start, fake_fleet: Fleet) -> None:
    # Each reply takes ~2 s, so a queued request stays queued long enough to be looked at.
    fleet = fake_fleet(FakeHostSpec(name="slow", models=["m:latest"], chunk_delay_ms=200, tokens=10))
    server = start_gateway(ollama_url=fleet.url(0), ollama_max_concurrent=1, host_probe_seconds=0.5)
    flood, single = server.create_key("flood"), server.create_key("single")
    finished: list[str] = []
    lock = threading.Lock()

    def ask(key: str, label: str) -> None:
        with sdk(server, key, timeout=60) as client:
            client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": label}], extra_headers={"X-Task-Id": label}
            )
        with lock:
            finished.append(label)

    def arrived() -> int:  # requests queued or done: all but the one on the host
        return int(on_loop(server, lambda g: g.upstream.queue.waiting)) + len(finished)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(ask, flood, f"flood-{i}") for i in range(4)]
        wait_for(lambda: arrived() >= 3, "the flood to queue")
        futures.append(pool.submit(ask, single, "single"))
        wait_for(lambda: arrived() >= 4, "the single request to queue")
        server.call(lambda g: g.tracker.flush())
        doc = httpx.get(server.url + "/tasks/status/single", headers={"Authorization": f"Bearer {single}"}).json()
        assert (doc["state"], doc["stage"]) == ("PENDING", "queued")
        assert doc["message"] in ("queued: 0 ahead", "queued: 1 ahead")  # not behind the whole flood
        for future in futures:
            future.result(timeout=60)
    assert finished.index("single") <= 2, finished


def test_queue_bound_is_a_503_with_retry_after(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(FakeHostSpec(name="slow", models=["m:latest"], chunk_delay_ms=50, tokens=20))
    server = start_gateway(ollama_url=fleet.url(0), ollama_max_concurrent=1, queue_max=1, host_probe_seconds=0.5)
    key = server.create_key()

    def ask() -> int:
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        return httpx.post(
            server.url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(ask), pool.submit(ask)]
        wait_for(lambda: on_loop(server, lambda g: g.upstream.queue.waiting) == 1, "one running, one queued")
        refused = httpx.post(
            server.url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "queue_full"
        assert [f.result(timeout=60) for f in running] == [200, 200]


def test_drained_host_gets_no_new_requests(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(FakeHostSpec(name="a", models=["m:latest"]), FakeHostSpec(name="b", models=["m:latest"]))
    server = start_gateway(ollama_url=fleet.url(0), ollama_urls=",".join(fleet.urls), host_probe_seconds=0.5)

    async def drain(gateway: Gateway) -> None:
        from ollama_gateway.service.hosts import sync_hosts

        await gateway.storage.hosts.add(fleet.url(0), draining=True)
        await sync_hosts(gateway.upstream, gateway.settings, gateway.storage)

    server.call(drain)
    with sdk(server, server.create_key()) as client:
        for _ in range(4):
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert (served(fleet, 0), served(fleet, 1)) == (0, 4)


def test_hosts_added_from_the_cli_reach_a_running_gateway(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(FakeHostSpec(name="a", models=["alpha:latest"]), FakeHostSpec(name="b", models=["beta:latest"]))
    server = start_gateway(ollama_url=fleet.url(0), host_probe_seconds=0.5)

    async def add(gateway: Gateway) -> None:
        await gateway.storage.hosts.add(fleet.url(1), name="b")

    server.call(add)  # as `ollama-gateway hosts add` does, from any process sharing the database
    wait_for(lambda: len(on_loop(server, lambda g: g.upstream.configs)) == 2, "the running gateway to pick the host up")
    with sdk(server, server.create_key()) as client:
        server.call(lambda g: g.catalog.refresh())
        reply = client.chat.completions.create(model="beta", messages=[{"role": "user", "content": "x"}])
        assert reply.choices[0].message.content
    assert served(fleet, 1) == 1


def test_a_client_that_hangs_up_while_queued_leaves_the_queue(start_gateway: Start, fake_fleet: Fleet) -> None:
    fleet = fake_fleet(FakeHostSpec(name="slow", models=["m:latest"], chunk_delay_ms=200, tokens=10))
    server = start_gateway(ollama_url=fleet.url(0), ollama_max_concurrent=1, host_probe_seconds=0.5)
    key = server.create_key()
    headers = {"Authorization": f"Bearer {key}"}
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}

    def waiting() -> int:
        return int(on_loop(server, lambda g: g.upstream.queue.waiting))

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(httpx.post, server.url + "/v1/chat/completions", json=body, headers=headers, timeout=60)
        wait_for(lambda: min(in_flight(server).values()) == 1, "the only slot to be taken")
        for stream in (False, True):
            task_id = f"gone-{stream}"
            payload = json.dumps({**body, "stream": stream}).encode()
            head = (
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
                f"X-Task-Id: {task_id}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            with socket.create_connection(("127.0.0.1", server.port)) as raw:
                raw.sendall(head.encode() + payload)
                wait_for(lambda: waiting() == 1, "the request to queue")
            # The socket is closed while the request waits: it must leave the queue, never reaching Ollama.
            wait_for(lambda: waiting() == 0, "the gone client to leave the queue")
            server.call(lambda g: g.tracker.flush())
            doc = httpx.get(server.url + f"/tasks/status/{task_id}", headers=headers).json()
            assert (doc["state"], doc["message"]) == ("FAILED", "client disconnected")
        assert running.result(timeout=60).status_code == 200
    assert served(fleet, 0) == 1


def test_a_small_connection_pool_never_holds_up_a_dispatched_request(
    start_gateway: Start, fake_ollama: FakeOllama
) -> None:
    # UPSTREAM_MAX_CONNECTIONS=1 but three slots: the pool grows to the host's capacity, so all three reach
    # Ollama at once instead of one waiting (until its time limit) for a pooled connection.
    release = threading.Event()
    replies = [Reply(content=["a ", "b"], hold=release) for _ in range(3)]
    fake_ollama.script(*replies)
    server = start_gateway(upstream_max_connections=1, ollama_max_concurrent=3, request_timeout_ms=20_000)
    key = server.create_key()
    with ThreadPoolExecutor(3) as pool:
        body = {"model": "llama3.2", "messages": [{"role": "user", "content": "x"}]}
        futures = [
            pool.submit(
                httpx.post,
                server.url + "/v1/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            )
            for _ in range(3)
        ]
        for reply in replies:
            assert reply.held.wait(15), "a request did not reach Ollama while the others were held"
        release.set()
        assert [f.result(timeout=30).status_code for f in futures] == [200, 200, 200]
