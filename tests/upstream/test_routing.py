"""The router: candidates and their order, rule by rule (tables), plus properties over random fleets."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ollama_gateway.errors import (
    GatewayError,
    UpstreamStatusError,
    UpstreamStreamError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from ollama_gateway.upstream.hosts import BreakerState, HostConfig, HostState
from ollama_gateway.upstream.routing import (
    candidates,
    canonical_model,
    has_model,
    host_fault,
    load_factor,
    rank_hosts,
    retryable,
)


def host(
    host_id: str,
    *,
    models: tuple[str, ...] = ("llama3.2:latest",),
    loaded: tuple[str, ...] = (),
    in_flight: int = 0,
    latency: float | None = 10.0,
    reachable: bool = True,
    breaker: BreakerState = "closed",
    priority: int = 0,
    weight: int = 1,
    max_concurrent: int = 4,
    enabled: bool = True,
    draining: bool = False,
) -> HostState:
    config = HostConfig(
        id=host_id,
        url=f"http://127.0.0.1:1/{host_id}",
        priority=priority,
        weight=weight,
        max_concurrent=max_concurrent,
        enabled=enabled,
        draining=draining,
    )
    return HostState(
        config=config,
        reachable=reachable,
        breaker=breaker,
        models=frozenset(models),
        loaded=frozenset(loaded),
        in_flight=in_flight,
        latency_ms=latency,
    )


def ids(states: list[HostState]) -> list[str]:
    return [s.config.id for s in states]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llama3.2", "llama3.2:latest"),
        ("llama3.2:latest", "llama3.2:latest"),
        ("qwen3:8b", "qwen3:8b"),
        ("gpt-oss:20b", "gpt-oss:20b"),
        ("library/qwen3", "qwen3:latest"),
        ("registry.ollama.ai/library/qwen3:8b", "qwen3:8b"),
        ("someone/model", "someone/model:latest"),
        ("example.com:5000/team/model", "example.com:5000/team/model:latest"),
        ("example.com:5000/team/model:v2", "example.com:5000/team/model:v2"),
        ("qwen3@sha256:abc", "qwen3:latest"),
        ("", ""),
    ],
)
def test_canonical_model(name: str, expected: str) -> None:
    assert canonical_model(name) == expected


@pytest.mark.parametrize(
    ("listed", "asked", "found"),
    [
        ("llama3.2:latest", "llama3.2", True),
        ("llama3.2", "llama3.2:latest", True),
        ("Llama3.2:Latest", "llama3.2", True),
        ("llama3.2:1b", "llama3.2", False),
        ("qwen3:latest", "llama3.2", False),
    ],
)
def test_has_model_compares_canonical_names(listed: str, asked: str, found: bool) -> None:
    assert has_model(host("a", models=(listed,)), asked) is found


# Each case: the hosts, the model asked for, the affinity host, and the expected order.
RANKING_CASES = {
    "only hosts listing the model": (
        [host("a", models=("qwen3:latest",)), host("b"), host("c", models=("llama3.2", "qwen3"))],
        "llama3.2",
        None,
        ["b", "c"],
    ),
    "unreachable, open, disabled and draining hosts are never candidates": (
        [
            host("down", reachable=False),
            host("open", breaker="open"),
            host("off", enabled=False),
            host("drain", draining=True),
            host("ok"),
        ],
        "llama3.2",
        None,
        ["ok"],
    ),
    "no routable host lists the model: every routable host": (
        [host("a", models=("qwen3",)), host("b", models=()), host("down", reachable=False, models=("x:1",))],
        "x:1",
        None,
        ["a", "b"],
    ),
    "only a non-routable host lists it: still every routable host": (
        [host("a", models=("qwen3",)), host("down", reachable=False)],
        "llama3.2",
        None,
        ["a"],
    ),
    "no routable host at all": ([host("down", reachable=False)], "llama3.2", None, []),
    "higher priority first, even when busier and without the model loaded": (
        [host("low", loaded=("llama3.2:latest",)), host("high", priority=5, in_flight=3, latency=900.0)],
        "llama3.2",
        None,
        ["high", "low"],
    ),
    "half-open after every closed host of the same priority": (
        [host("probe", breaker="half_open", loaded=("llama3.2:latest",)), host("busy", in_flight=3)],
        "llama3.2",
        None,
        ["busy", "probe"],
    ),
    "half-open still before a lower priority": (
        [host("low"), host("probe", breaker="half_open", priority=1)],
        "llama3.2",
        None,
        ["probe", "low"],
    ),
    "affinity host first when it has a free slot": (
        [host("a", loaded=("llama3.2:latest",)), host("b", in_flight=2)],
        "llama3.2",
        "b",
        ["b", "a"],
    ),
    "affinity ignored when the host is full": (
        [host("a"), host("b", in_flight=4)],
        "llama3.2",
        "b",
        ["a", "b"],
    ),
    "affinity ignored when the host is not a candidate": (
        [host("a"), host("b", models=("qwen3",)), host("c", reachable=False)],
        "llama3.2",
        "b",
        ["a"],
    ),
    "affinity does not beat priority": (
        [host("a", priority=1), host("b")],
        "llama3.2",
        "b",
        ["a", "b"],
    ),
    "affinity to a half-open host does not beat a closed one": (
        [host("a", in_flight=3), host("b", breaker="half_open")],
        "llama3.2",
        "b",
        ["a", "b"],
    ),
    "loaded before not loaded, regardless of load": (
        [host("cold"), host("warm", loaded=("llama3.2",), in_flight=3)],
        "llama3.2:latest",
        None,
        ["warm", "cold"],
    ),
    "a different loaded model does not count": (
        [host("a", loaded=("qwen3:latest",), in_flight=1), host("b")],
        "llama3.2",
        None,
        ["b", "a"],
    ),
    "least in-flight relative to capacity": (
        [host("a", in_flight=2), host("b", in_flight=1), host("c", in_flight=3)],
        "llama3.2",
        None,
        ["b", "a", "c"],
    ),
    "capacity scales the load": (
        # a: (1+1)/4 = 0.5, b: (3+1)/16 = 0.25
        [host("a", in_flight=1), host("b", in_flight=3, max_concurrent=16)],
        "llama3.2",
        None,
        ["b", "a"],
    ),
    "weight scales the load": (
        # a: (1+1)/4 = 0.5, b: (2+1)/(4*3) = 0.25
        [host("a", in_flight=1), host("b", in_flight=2, weight=3)],
        "llama3.2",
        None,
        ["b", "a"],
    ),
    "zero capacity or weight sorts last within its group": (
        [host("zero", weight=0, latency=1.0), host("full", in_flight=9)],
        "llama3.2",
        None,
        ["full", "zero"],
    ),
    "hosts at capacity stay in the list": (
        [host("a", in_flight=4), host("b", in_flight=5)],
        "llama3.2",
        None,
        ["a", "b"],
    ),
    "equal load: lower latency first, unmeasured last": (
        [host("none", latency=None), host("slow", latency=80.0), host("fast", latency=5.0)],
        "llama3.2",
        None,
        ["fast", "slow", "none"],
    ),
    "everything equal: by id": (
        [host("c"), host("a"), host("b")],
        "llama3.2",
        None,
        ["a", "b", "c"],
    ),
}


@pytest.mark.parametrize(
    ("hosts", "model", "affinity", "expected"), list(RANKING_CASES.values()), ids=list(RANKING_CASES)
)
def test_rank_hosts(hosts: list[HostState], model: str, affinity: str | None, expected: list[str]) -> None:
    assert ids(rank_hosts(model, hosts, affinity=affinity)) == expected


def test_load_factor() -> None:
    assert load_factor(host("a", in_flight=1, max_concurrent=4, weight=2)) == pytest.approx(0.25)
    assert load_factor(host("a", max_concurrent=0)) == float("inf")


def test_rank_does_not_change_its_input() -> None:
    hosts = [host("b"), host("a")]
    before = list(hosts)
    rank_hosts("llama3.2", hosts)
    assert hosts == before


# -- properties ------------------------------------------------------------------------------------------------

MODELS = ["llama3.2:latest", "qwen3:latest", "qwen3:8b"]

host_states = st.builds(
    lambda i, models, loaded, in_flight, latency, reachable, breaker, priority, weight, cap, enabled, draining: host(
        f"h{i}",
        models=tuple(models),
        loaded=tuple(loaded),
        in_flight=in_flight,
        latency=latency,
        reachable=reachable,
        breaker=breaker,
        priority=priority,
        weight=weight,
        max_concurrent=cap,
        enabled=enabled,
        draining=draining,
    ),
    st.integers(0, 10_000),
    st.lists(st.sampled_from(MODELS), max_size=3),
    st.lists(st.sampled_from(MODELS), max_size=2),
    st.integers(0, 8),
    st.none() | st.floats(0, 1000, allow_nan=False),
    st.booleans(),
    st.sampled_from(["closed", "open", "half_open"]),
    st.integers(-1, 2),
    st.integers(0, 3),
    st.integers(0, 8),
    st.booleans(),
    st.booleans(),
)
fleets = st.lists(host_states, max_size=8, unique_by=lambda s: s.config.id)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(fleets, st.sampled_from([*MODELS, "llama3.2", "other:1"]), st.none() | st.integers(0, 10_000), st.randoms())
def test_rank_properties(hosts: list[HostState], model: str, affinity_n: int | None, rnd: random.Random) -> None:
    affinity = None if affinity_n is None else f"h{affinity_n}"
    ranked = rank_hosts(model, hosts, affinity=affinity)
    # a permutation of the candidate set
    assert sorted(ids(ranked)) == sorted(ids(candidates(model, hosts)))
    assert len(set(ids(ranked))) == len(ranked)
    # never a non-routable host; some host whenever any is routable
    assert all(s.routable for s in ranked)
    assert bool(ranked) == any(s.routable for s in hosts)
    # deterministic, whatever the input order
    shuffled = list(hosts)
    rnd.shuffle(shuffled)
    assert rank_hosts(model, shuffled, affinity=affinity) == ranked
    # priorities never increase along the list; within one, closed hosts before half-open ones
    keys = [(-s.config.priority, s.breaker == "half_open") for s in ranked]
    assert keys == sorted(keys)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(fleets)
def test_listing_hosts_win_over_the_rest(hosts: list[HostState]) -> None:
    ranked = rank_hosts("qwen3:8b", hosts)
    if any(s.routable and "qwen3:8b" in s.models for s in hosts):
        assert all("qwen3:8b" in s.models for s in ranked)


def test_affinity_is_only_a_preference() -> None:
    base = [host("a"), host("b", in_flight=1)]
    assert ids(rank_hosts("llama3.2", base, affinity="zzz")) == ["a", "b"]
    assert ids(rank_hosts("llama3.2", base, affinity="b")) == ["b", "a"]
    assert ids(rank_hosts("llama3.2", base)) == ["a", "b"]


@pytest.mark.parametrize(
    ("error", "retry", "fault"),
    [
        (UpstreamUnavailableError("refused"), True, True),
        (UpstreamStatusError(500, "runner died"), True, True),
        (UpstreamStatusError(503, "server busy, please try again.  maximum pending requests exceeded"), True, False),
        (UpstreamStatusError(404, "model 'x' not found"), False, False),
        (UpstreamStatusError(400, "bad option"), False, False),
        (UpstreamTimeoutError("too slow"), False, False),
        (UpstreamStreamError("broke mid-stream"), False, False),
    ],
)
def test_which_failures_move_to_another_host(error: GatewayError, retry: bool, fault: bool) -> None:
    assert (retryable(error), host_fault(error)) == (retry, fault)
