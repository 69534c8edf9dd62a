"""Which hosts may serve a request, best first: a pure function of the model and the hosts' states.

The rules, in order of precedence (issue #9):

1. Candidates are the routable hosts that list the model. When no routable host lists it but some are
   routable, every routable host is a candidate: the catalog may lag behind, and Ollama answers for itself.
2. A higher `config.priority` comes first.
3. Within a priority, hosts whose breaker is half-open (being probed) come after every closed one.
4. The conversation's affinity host comes first while it has a free slot (Ollama reuses its KV cache).
5. A host with the model already loaded (per `/api/ps`) comes before one that would have to load it.
6. Less load relative to capacity comes first: `(in_flight + 1) / (max_concurrent * weight)`.
7. Lower recent latency comes first; a host with no measurement yet comes last.
8. The host id breaks every remaining tie, so the order is deterministic.

Hosts at capacity stay in the list: whether to queue is the fleet's decision, not the router's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

from ollama_gateway.errors import GatewayError, UpstreamStatusError, UpstreamUnavailableError
from ollama_gateway.upstream.hosts import HostState

DEFAULT_TAG = "latest"
_DEFAULT_PREFIXES = ("registry.ollama.ai/library/", "library/")


def canonical_model(name: str) -> str:
    """Ollama's normalised short name: `x` → `x:latest`, `x:tag` unchanged, the default registry dropped."""
    base = name.split("@", 1)[0]
    for prefix in _DEFAULT_PREFIXES:
        if base.startswith(prefix) and len(base) > len(prefix):
            base = base[len(prefix) :]
            break
    if not base:
        return name
    # A colon before the last slash belongs to a host:port, not to a tag.
    if base.rfind(":") <= base.rfind("/"):
        base = f"{base}:{DEFAULT_TAG}"
    return base


@lru_cache(maxsize=4096)
def _model_key(name: str) -> str:
    """Names compare case-insensitively, as Ollama matches existing models."""
    return canonical_model(name).casefold()


@lru_cache(maxsize=256)
def _model_keys(names: frozenset[str]) -> frozenset[str]:
    # A host's model sets change only when a probe finds a change, so each set is folded once.
    return frozenset(_model_key(m) for m in names)


def load_factor(host: HostState) -> float:
    """The host's load if it took one more request, relative to its weighted capacity (lower is better)."""
    capacity = host.config.max_concurrent * host.config.weight
    if capacity <= 0:
        return math.inf
    return (host.in_flight + 1) / capacity


def has_model(host: HostState, model: str) -> bool:
    """Whether the host's catalog lists `model` (canonical names, case-insensitive)."""
    return _model_key(model) in _model_keys(host.models)


def candidates(model: str, hosts: Sequence[HostState]) -> list[HostState]:
    """The hosts that may serve `model`, unordered: routable ones listing it, else every routable one."""
    routable = [h for h in hosts if h.routable]
    listing = [h for h in routable if has_model(h, model)]
    return listing or routable


def rank_hosts(model: str, hosts: Sequence[HostState], *, affinity: str | None = None) -> list[HostState]:
    """The candidate hosts for `model`, best first (see the module docstring for the rules)."""
    key = _model_key(model)

    def order(host: HostState) -> tuple[int, int, int, int, float, int, float, str]:
        cfg = host.config
        loaded = key in _model_keys(host.loaded)
        latency = host.latency_ms
        return (
            -cfg.priority,
            1 if host.breaker == "half_open" else 0,
            0 if affinity is not None and cfg.id == affinity and host.free > 0 else 1,
            0 if loaded else 1,
            load_factor(host),
            1 if latency is None else 0,
            0.0 if latency is None else latency,
            cfg.id,
        )

    found = candidates(model, hosts)
    return found if len(found) < 2 else sorted(found, key=order)  # one host (the usual case): nothing to rank


def retryable(error: GatewayError) -> bool:
    """Whether another host may succeed where this one failed before sending anything."""
    if isinstance(error, UpstreamUnavailableError):
        return True
    return isinstance(error, UpstreamStatusError) and error.upstream_status >= 500


def host_fault(error: GatewayError) -> bool:
    """Whether the failure says something about the host's health (not about the request)."""
    return retryable(error) and not (isinstance(error, UpstreamStatusError) and error.upstream_status == 503)
