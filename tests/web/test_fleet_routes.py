"""Every route through the fleet, in process: routing by model, failover, the queue, drain, and errors."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from ollama_gateway.core.events import Finished, TextDelta
from ollama_gateway.core.usage import Usage
from ollama_gateway.errors import UpstreamStatusError, UpstreamStreamError, UpstreamUnavailableError
from ollama_gateway.service.hosts import sync_hosts
from ollama_gateway.upstream.scripted import Script, failing, reply
from tests.web.conftest import ScriptedFactory

A, B = "http://host-a.test:11434", "http://host-b.test:11434"


async def prefer(gw: Any, url: str) -> None:
    """Give the host at `url` a higher priority, so it is always tried first."""
    await gw.gateway.storage.hosts.add(url, priority=10)
    await sync_hosts(gw.gateway.upstream, gw.gateway.settings, gw.gateway.storage)


def chat(model: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_each_model_goes_to_a_host_that_has_it(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["alpha:latest"], B: ["beta:latest"]}) as gw:
        key = auth(await gw.key())
        for model in ("alpha", "beta", "alpha"):
            answer = await gw.client.post("/v1/chat/completions", json=chat(model), headers=key)
            assert answer.status_code == 200, answer.text
        assert [c.model for c in gw.host(0).calls] == ["alpha:latest", "alpha:latest"]
        assert [c.model for c in gw.host(1).calls] == ["beta:latest"]
        listed = (await gw.client.get("/v1/models", headers=key)).json()
        assert sorted(m["id"] for m in listed["data"]) == ["alpha:latest", "beta:latest"]


async def test_a_host_that_cannot_be_reached_is_skipped_before_the_first_byte(
    scripted_gateway: ScriptedFactory,
) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        await prefer(gw, A)
        gw.host(0).script(*[failing(UpstreamUnavailableError("cannot reach Ollama at A"))] * 3)
        statuses = []
        for _ in range(6):
            answer = await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key)
            statuses.append(answer.status_code)
        assert statuses == [200] * 6
        assert len(gw.host(0).calls) == 3  # A failed three times (its breaker then opened); B served every request
        assert len(gw.host(1).calls) == 6


async def test_ollama_busy_503_is_retried_on_the_next_host(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        busy = UpstreamStatusError(503, "server busy, please try again.  maximum pending requests exceeded")
        for host in gw.hosts.values():
            host.script(failing(busy))
        # Both hosts answer busy once: the first request sees A busy, then B busy -> 503 in OpenAI's shape.
        first = await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key)
        assert first.status_code == 503
        assert "server busy" in first.json()["error"]["message"]
        second = await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key)
        assert second.status_code == 200


async def test_a_stream_that_started_is_not_retried_and_ends_with_an_error_frame(
    scripted_gateway: ScriptedFactory,
) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        broken = failing(
            UpstreamStreamError("connection to Ollama broke"), after=1, events=[TextDelta("par"), TextDelta("tial")]
        )
        gw.host(0).script(broken)
        gw.host(1).script(broken)
        answer = await gw.client.post("/v1/chat/completions", json=chat("m", stream=True), headers=key)
        assert answer.status_code == 200
        frames = [line for line in answer.text.splitlines() if line.startswith("data: ")]
        assert '"par"' in frames[1]
        assert "connection to Ollama broke" in frames[-1]
        assert "[DONE]" not in answer.text
        assert len(gw.host(0).calls) + len(gw.host(1).calls) == 1


async def test_no_reachable_host_is_a_clean_502_with_retry_after(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        gw.host(0).down = UpstreamUnavailableError(f"cannot reach Ollama at {A}: refused")
        answers = [await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key) for _ in range(5)]
        assert {a.status_code for a in answers} == {502}
        assert all("cannot reach Ollama" in a.json()["error"]["message"] for a in answers)
        assert "retry-after" in answers[-1].headers
        anthropic = await gw.client.post(
            "/v1/messages", json={**chat("m"), "max_tokens": 10}, headers={"x-api-key": key["Authorization"][7:]}
        )
        assert anthropic.status_code == 502 and anthropic.json()["type"] == "error"
        gw.host(0).down = None  # back: the next request probes and succeeds
        assert (await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key)).status_code == 200


async def _task(gw: Any, key: dict[str, str], task_id: str) -> dict[str, Any]:
    answer = await gw.client.get(f"/tasks/status/{task_id}", headers=key)
    assert answer.status_code == 200, answer.text
    doc: dict[str, Any] = answer.json()
    return doc


async def _until(predicate: Any, what: str) -> None:
    for _ in range(2000):
        if await predicate():
            return
        await asyncio.sleep(0.005)  # yield to the app's tasks while polling a condition, with a deadline
    raise AssertionError(f"timed out waiting for {what}")


async def test_requests_wait_in_the_queue_with_their_position_visible(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"]}, ollama_max_concurrent=1) as gw:
        secret = await gw.key()
        key = auth(secret)
        hold = asyncio.Event()
        gw.host(0).script(Script(events=[TextDelta("x"), Finished("stop", Usage(1, 1))], hold=hold))
        first = asyncio.create_task(
            gw.client.post("/v1/chat/completions", json=chat("m"), headers={**key, "X-Task-Id": "first"})
        )
        await _until(lambda: _running(gw), "the first request to hold the only slot")
        waiting = [
            asyncio.create_task(
                gw.client.post("/v1/chat/completions", json=chat("m"), headers={**key, "X-Task-Id": f"wait-{i}"})
            )
            for i in range(2)
        ]

        async def both_queued() -> bool:
            return gw.gateway.upstream.queue.waiting == 2

        await _until(both_queued, "two queued requests")
        await gw.gateway.tracker.flush()
        docs = [await _task(gw, key, f"wait-{i}") for i in range(2)]
        assert [(d["state"], d["stage"]) for d in docs] == [("PENDING", "queued")] * 2
        assert sorted(d["message"] for d in docs) == ["queued: 0 ahead", "queued: 1 ahead"]
        hold.set()
        answers = await asyncio.gather(first, *waiting)
        assert [a.status_code for a in answers] == [200, 200, 200]


async def _running(gw: Any) -> bool:
    return bool(gw.host(0).calls)


async def test_a_full_queue_answers_503_with_retry_after_in_each_protocol(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"]}, ollama_max_concurrent=1, queue_max=0) as gw:
        secret = await gw.key()
        hold = asyncio.Event()
        gw.host(0).script(Script(events=[TextDelta("x"), Finished("stop", Usage(1, 1))], hold=hold))
        first = asyncio.create_task(gw.client.post("/v1/chat/completions", json=chat("m"), headers=auth(secret)))
        await _until(lambda: _running(gw), "the only slot to be taken")
        openai = await gw.client.post("/v1/chat/completions", json=chat("m"), headers=auth(secret))
        assert openai.status_code == 503 and openai.headers["retry-after"]
        assert openai.json()["error"]["code"] == "queue_full"
        anthropic = await gw.client.post(
            "/v1/messages", json={**chat("m"), "max_tokens": 5}, headers={"x-api-key": secret}
        )
        assert anthropic.status_code == 503 and anthropic.json()["error"]["type"] == "overloaded_error"
        native = await gw.client.post("/api/chat", json={**chat("m"), "stream": False}, headers=auth(secret))
        assert native.status_code == 503 and "busy" in native.json()["error"]
        hold.set()
        assert (await first).status_code == 200


async def test_queue_timeout_is_a_503(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"]}, ollama_max_concurrent=1, queue_timeout_seconds=0.05) as gw:
        secret = await gw.key()
        hold = asyncio.Event()
        gw.host(0).script(Script(events=[TextDelta("x"), Finished("stop", Usage(1, 1))], hold=hold))
        first = asyncio.create_task(gw.client.post("/v1/chat/completions", json=chat("m"), headers=auth(secret)))
        await _until(lambda: _running(gw), "the only slot to be taken")
        late = await gw.client.post("/v1/chat/completions", json=chat("m"), headers=auth(secret))
        assert late.status_code == 503 and late.json()["error"]["code"] == "queue_timeout"
        hold.set()
        assert (await first).status_code == 200


async def test_the_queue_is_fair_across_keys(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"]}, ollama_max_concurrent=1) as gw:
        flood, single = auth(await gw.key("flood")), auth(await gw.key("single"))
        holds = [asyncio.Event() for _ in range(12)]
        gw.host(0).script(
            *[Script(events=[TextDelta(str(i)), Finished("stop", Usage(1, 1))], hold=h) for i, h in enumerate(holds)]
        )
        flooding = [
            asyncio.create_task(gw.client.post("/v1/chat/completions", json=chat("m", f"f{i}"), headers=flood))
            for i in range(10)
        ]

        async def flood_queued() -> bool:
            return gw.gateway.upstream.queue.waiting == 9

        await _until(flood_queued, "the flood to queue")
        lone = asyncio.create_task(gw.client.post("/v1/chat/completions", json=chat("m", "lone"), headers=single))

        async def lone_queued() -> bool:
            return gw.gateway.upstream.queue.waiting == 10

        await _until(lone_queued, "the lone request to queue")
        for index in range(3):
            holds[index].set()

        async def served_three() -> bool:
            return len(gw.host(0).calls) >= 3

        await _until(served_three, "three requests to reach the host")
        served = [c.request.messages[0].text for c in gw.host(0).calls[:3]]
        assert "lone" in served[:3], served
        for hold in holds:
            hold.set()
        answers = await asyncio.gather(*flooding, lone)
        assert {a.status_code for a in answers} == {200}


async def test_a_draining_host_gets_no_new_requests(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        stored = await gw.gateway.storage.hosts.add(A, draining=True)
        await sync_hosts(gw.gateway.upstream, gw.gateway.settings, gw.gateway.storage)
        assert stored.draining
        for _ in range(4):
            assert (await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key)).status_code == 200
        assert gw.host(0).calls == [] and len(gw.host(1).calls) == 4
        ready = (await gw.client.get("/readyz")).json()
        assert ready["hosts"][A] == "draining" and ready["hosts"][B] == "ok"


async def test_native_chat_fails_over_on_busy_and_is_relayed(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        await prefer(gw, A)
        gw.host(0).script(failing(UpstreamStatusError(503, "server busy")))
        gw.host(1).script(reply("from b"))
        answer = await gw.client.post("/api/chat", json={**chat("m"), "stream": False}, headers=key)
        assert answer.status_code == 200, answer.text
        assert orjson.loads(answer.content.splitlines()[0])["message"]["content"] == "from b"
        assert [c.kind for c in gw.host(0).calls] == ["relay:/api/chat"]


async def test_a_native_relay_broken_mid_stream_ends_with_an_error_line(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"]}) as gw:
        key = auth(await gw.key())
        broken = UpstreamStreamError("connection to Ollama broke: reset")
        gw.host(0).script(failing(broken, after=1, events=(TextDelta("par"),)))
        answer = await gw.client.post("/api/chat", json=chat("m"), headers=key)
        assert answer.status_code == 200  # the answer had started; the error arrives as Ollama sends one
        first, last = (orjson.loads(line) for line in answer.content.splitlines())
        assert first["message"]["content"] == "par" and first["done"] is False
        assert last == {"error": "connection to Ollama broke: reset"}


@pytest.mark.parametrize("path", ["/api/tags", "/api/ps", "/api/version"])
async def test_native_listing_routes_answer_from_the_fleet(scripted_gateway: ScriptedFactory, path: str) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["n:latest"]}) as gw:
        key = auth(await gw.key())
        answer = await gw.client.get(path, headers=key)
        assert answer.status_code == 200
        if path == "/api/tags":
            assert sorted(m["name"] for m in answer.json()["models"]) == ["m:latest", "n:latest"]


async def test_metrics_show_each_host_and_the_queue(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway({A: ["m:latest"], B: ["m:latest"]}, ollama_max_concurrent=3) as gw:
        key = auth(await gw.key())
        await prefer(gw, A)
        gw.host(0).script(failing(UpstreamUnavailableError("cannot reach Ollama at A")))
        for _ in range(3):
            assert (await gw.client.post("/v1/chat/completions", json=chat("m"), headers=key)).status_code == 200
        text = (await gw.client.get("/metrics")).text
        assert f'gateway_host_capacity{{host="{A}"}} 3.0' in text
        assert f'gateway_host_breaker_state{{host="{B}",state="closed"}} 1.0' in text
        assert f'gateway_host_requests_total{{host="{A}",outcome="error"}} 1.0' in text
        assert f'gateway_host_requests_total{{host="{A}",outcome="ok"}} 2.0' in text
        assert f'gateway_host_requests_total{{host="{B}",outcome="ok"}} 1.0' in text
        assert "gateway_failovers_total 1.0" in text
        assert "gateway_queue_length 0.0" in text
        assert "gateway_queue_wait_seconds_count 4.0" in text


async def test_a_queued_stream_commits_to_nothing_until_a_host_has_it(scripted_gateway: ScriptedFactory) -> None:
    async with scripted_gateway(
        {A: ["m:latest"]}, ollama_max_concurrent=1, queue_timeout_seconds=0.05, ping_interval_sec=0.01
    ) as gw:
        secret = await gw.key()
        hold = asyncio.Event()
        gw.host(0).script(Script(events=[TextDelta("x"), Finished("stop", Usage(1, 1))], hold=hold))
        first = asyncio.create_task(gw.client.post("/v1/chat/completions", json=chat("m"), headers=auth(secret)))
        await _until(lambda: _running(gw), "the only slot to be taken")
        # Its grace (0.01 s) is far shorter than the queue wait: still a 503, not a 200 stream with an error frame.
        late = await gw.client.post("/v1/chat/completions", json=chat("m", stream=True), headers=auth(secret))
        assert late.status_code == 503 and late.json()["error"]["code"] == "queue_timeout"
        hold.set()
        assert (await first).status_code == 200
