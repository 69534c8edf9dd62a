"""The host monitor's loops on a fake clock and a fake sleep: cadence, backoff, breaker, logs once, host changes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from ollama_gateway.upstream.hosts import HostConfig, HostState
from ollama_gateway.upstream.monitor import HostMonitor, Probe, host_label

DEADLINE = 5.0
LOGGER = "ollama_gateway.upstream.monitor"


class FakeTime:
    """A clock and a sleep that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.delays: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        entry = (self.now + delay, future)
        self.delays.append(delay)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            self._sleepers.remove(entry)

    @property
    def sleeping(self) -> int:
        return sum(not f.done() for _, f in self._sleepers)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for deadline, future in self._sleepers:
            if deadline <= self.now and not future.done():
                future.set_result(None)


@dataclass
class FakeHost:
    up: bool = True
    models: frozenset[str] = frozenset({"llama3.2:latest"})
    loaded: frozenset[str] = frozenset()
    version: str = "0.33.0"
    raises: Exception | None = None


@dataclass
class Prober:
    """The probe function: answers from FakeHost records, and counts calls per host."""

    hosts: dict[str, FakeHost] = field(default_factory=dict)
    calls: list[tuple[str, bool]] = field(default_factory=list)

    async def __call__(self, config: HostConfig, fetch_tags: bool) -> Probe:
        self.calls.append((config.id, fetch_tags))
        host = self.hosts[config.id]
        if host.raises is not None:
            raise host.raises
        if not host.up:
            return Probe(reachable=False, error="connection refused")
        return Probe(True, host.version, host.loaded, host.models if fetch_tags else None, 2.5)

    def count(self, host_id: str) -> int:
        return sum(1 for h, _ in self.calls if h == host_id)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(DEADLINE):
        while not condition():
            await asyncio.sleep(0)


def config(host_id: str, **kw: object) -> HostConfig:
    return HostConfig(id=host_id, url=f"http://127.0.0.1:9/{host_id}", **kw)  # type: ignore[arg-type]


@dataclass
class Rig:
    monitor: HostMonitor
    prober: Prober
    time: FakeTime
    changes: list[tuple[HostState, HostState]]

    async def step(self, seconds: float) -> None:
        """Move time on and wait until every loop has probed (if due) and sleeps again."""
        calls = len(self.prober.calls)
        sleepers = self.time.sleeping
        self.time.advance(seconds)
        await until(lambda: self.time.sleeping == sleepers and len(self.prober.calls) >= calls)
        # every loop that woke has probed and gone back to sleep
        await until(lambda: self.time.sleeping == len(self.monitor.states()))


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    time = FakeTime()
    prober = Prober({"a": FakeHost(), "b": FakeHost()})
    changes: list[tuple[HostState, HostState]] = []
    monitor = HostMonitor(
        prober,
        interval=5.0,
        tags_every=3,
        on_change=lambda old, new: changes.append((old, new)),
        clock=time.clock,
        sleep=time.sleep,
    )
    yield Rig(monitor, prober, time, changes)
    await monitor.close()


async def started(rig: Rig, *ids: str) -> None:
    rig.monitor.set_hosts([config(i) for i in ids])
    await rig.monitor.start()
    await until(lambda: rig.time.sleeping == len(ids))


async def test_first_probe_at_start_with_tags(rig: Rig) -> None:
    rig.monitor.set_hosts([config("a")])
    assert rig.monitor.state("a").reachable is False and rig.prober.calls == []  # nothing before start
    await rig.monitor.start()
    await until(lambda: rig.time.sleeping == 1)
    state = rig.monitor.state("a")
    assert (state.reachable, state.breaker, state.version, state.latency_ms) == (True, "closed", "0.33.0", 2.5)
    assert state.models == {"llama3.2:latest"} and state.in_flight == 0 and state.routable
    assert rig.prober.calls == [("a", True)] and rig.time.delays == [5.0]


async def test_tags_on_the_slower_cadence(rig: Rig) -> None:
    await started(rig, "a")
    rig.prober.hosts["a"].loaded = frozenset({"llama3.2:latest"})
    for _ in range(6):
        await rig.step(5.0)
    assert [tags for _, tags in rig.prober.calls] == [True, False, False, True, False, False, True]
    state = rig.monitor.state("a")
    assert state.loaded == {"llama3.2:latest"} and state.models == {"llama3.2:latest"}  # kept between tag rounds


async def test_backoff_breaker_and_recovery_are_logged_once(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    await started(rig, "a")
    caplog.clear()
    rig.prober.hosts["a"].up = False
    await rig.step(5.0)  # failure 1
    state = rig.monitor.state("a")
    assert (state.reachable, state.error, state.breaker, state.routable) == (
        False,
        "connection refused",
        "closed",
        False,
    )
    await rig.step(10.0)  # failure 2
    await rig.step(20.0)  # failure 3: the breaker opens
    assert rig.monitor.state("a").breaker == "open"
    await rig.step(40.0)  # half-open probe fails: open again
    await rig.step(60.0)  # capped
    assert rig.time.delays == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    rig.prober.hosts["a"].up = True
    rig.prober.hosts["a"].models = frozenset({"qwen3:latest"})
    await rig.step(60.0)
    state = rig.monitor.state("a")
    assert (state.reachable, state.breaker, state.error) == (True, "closed", None)
    assert state.models == {"qwen3:latest"} and rig.prober.calls[-1] == ("a", True)  # tags again after an outage
    assert rig.time.delays[-1] == 5.0  # back to the normal cadence
    messages = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert messages == [
        ("WARNING", "ollama host http://127.0.0.1:9/a is unreachable: connection refused"),
        ("WARNING", "circuit breaker for http://127.0.0.1:9/a opened after 3 failures"),
        ("INFO", "ollama host http://127.0.0.1:9/a is reachable (version 0.33.0)"),
        ("INFO", "circuit breaker for http://127.0.0.1:9/a closed"),
    ]
    cycle = [r.getMessage().rsplit(" ", 1)[-1] for r in caplog.records if r.levelno == logging.DEBUG]
    assert cycle == ["half-open", "open", "half-open", "open", "half-open"]


async def test_request_failures_open_the_breaker_and_mark_the_host_unreachable(rig: Rig) -> None:
    await started(rig, "a", "b")
    rig.monitor.record_failure("a", "HTTP 500")
    rig.monitor.record_success("a")  # the count starts again
    for _ in range(2):
        rig.monitor.record_failure("a", "HTTP 500")
    assert rig.monitor.state("a").breaker == "closed" and rig.monitor.state("a").reachable
    rig.monitor.record_failure("a", "connect error")
    state = rig.monitor.state("a")
    assert (state.breaker, state.reachable, state.error, state.routable) == ("open", False, "connect error", False)
    rig.monitor.record_success("a")  # a late success does not close an open breaker: its probe will
    assert rig.monitor.state("a").breaker == "open"
    rig.time.advance(2.0)
    assert rig.monitor.state("a").breaker == "half_open"
    assert rig.monitor.state("a").reachable is False  # until a probe succeeds
    await rig.step(3.0)  # the loop's next probe is the half-open probe, and it succeeds
    state = rig.monitor.state("a")
    assert (state.breaker, state.reachable, state.routable) == ("closed", True, True)
    assert rig.monitor.state("b").breaker == "closed"  # hosts are independent


async def test_an_open_breaker_is_not_probed_before_its_reset(rig: Rig) -> None:
    rig.monitor = HostMonitor(
        rig.prober, interval=1.0, reset_seconds=10.0, max_reset_seconds=60.0, clock=rig.time.clock, sleep=rig.time.sleep
    )
    await started(rig, "a")
    for _ in range(3):
        rig.monitor.record_failure("a", "HTTP 502")
    await rig.step(1.0)  # wakes on its cadence, finds the breaker open, waits out the reset
    assert rig.prober.count("a") == 1 and rig.time.delays[-1] == pytest.approx(9.0)
    await rig.step(9.0)
    assert rig.prober.count("a") == 2 and rig.monitor.state("a").breaker == "closed"


async def test_a_probe_that_raises_is_a_failed_probe(rig: Rig) -> None:
    rig.prober.hosts["a"].raises = RuntimeError("bug in probe")
    await started(rig, "a")
    state = rig.monitor.state("a")
    assert (state.reachable, state.error) == (False, "RuntimeError: bug in probe")
    rig.prober.hosts["a"].raises = None
    await rig.step(10.0)
    assert rig.monitor.state("a").reachable


async def test_on_change_reports_significant_changes_only(rig: Rig) -> None:
    await started(rig, "a")
    assert len(rig.changes) == 1
    old, new = rig.changes[0]
    assert (old.reachable, new.reachable, new.models) == (False, True, {"llama3.2:latest"})
    await rig.step(5.0)  # same answers: no change
    assert len(rig.changes) == 1
    rig.prober.hosts["a"].loaded = frozenset({"llama3.2:latest"})
    await rig.step(5.0)
    assert len(rig.changes) == 2 and rig.changes[-1][1].loaded == {"llama3.2:latest"}


async def test_set_hosts_adds_removes_and_updates(rig: Rig) -> None:
    await started(rig, "a")
    rig.monitor.set_hosts([config("a", weight=3), config("b")])
    await until(lambda: rig.time.sleeping == 2)
    assert [s.config.id for s in rig.monitor.states()] == ["a", "b"]
    assert rig.monitor.state("a").config.weight == 3 and rig.monitor.state("a").reachable  # kept its health
    assert rig.prober.count("a") == 1 and rig.prober.count("b") == 1
    rig.monitor.set_hosts([config("b")])
    await until(lambda: rig.time.sleeping == 1)
    with pytest.raises(KeyError):
        rig.monitor.state("a")
    rig.monitor.record_failure("a", "ignored")  # a late outcome of a removed host is harmless
    await rig.step(5.0)
    assert rig.prober.count("a") == 1 and rig.prober.count("b") == 2


async def test_a_new_url_under_the_same_id_starts_from_scratch(rig: Rig) -> None:
    await started(rig, "a")
    for _ in range(3):
        rig.monitor.record_failure("a", "HTTP 500")
    rig.monitor.set_hosts([HostConfig(id="a", url="http://127.0.0.1:9/elsewhere")])
    await until(lambda: rig.prober.count("a") == 2 and rig.time.sleeping == 1)
    state = rig.monitor.state("a")
    assert (state.config.url, state.breaker, state.reachable) == ("http://127.0.0.1:9/elsewhere", "closed", True)


async def test_probe_now_and_try_probe(rig: Rig) -> None:
    await started(rig, "a")
    rig.prober.hosts["a"].version = "0.34.0"
    state = await rig.monitor.probe_now("a")
    assert state.version == "0.34.0" and rig.prober.calls[-1] == ("a", False)
    assert rig.monitor.try_probe("a") is False  # closed
    for _ in range(3):
        rig.monitor.record_failure("a", "HTTP 500")
    rig.time.advance(2.0)
    assert [rig.monitor.try_probe("a"), rig.monitor.try_probe("a")] == [True, False]
    assert rig.monitor.try_probe("missing") is False
    with pytest.raises(KeyError):
        await rig.monitor.probe_now("missing")


async def test_close_stops_every_loop(rig: Rig) -> None:
    await started(rig, "a", "b")
    await rig.monitor.close()
    assert rig.time.sleeping == 0
    calls = len(rig.prober.calls)
    rig.time.advance(100)
    await asyncio.sleep(0)
    assert len(rig.prober.calls) == calls


def test_host_label_hides_credentials() -> None:
    assert host_label(HostConfig(id="a", url="http://user:secret@10.0.0.1:11434/x")) == "http://10.0.0.1:11434/x"
    assert host_label(HostConfig(id="a", url="http://10.0.0.1:11434", name="gpu-1")) == "gpu-1"
    assert host_label(HostConfig(id="a", url="http://10.0.0.1:11434")) == "http://10.0.0.1:11434"
