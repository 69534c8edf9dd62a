"""Override validation and the precedence request > model override > gateway default."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.requests import GenerationControls
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.policy.overrides import merge_controls, validate_overrides


def test_valid_overrides_are_kept() -> None:
    raw = {
        "num_ctx": 32768,
        "temperature": 0.8,
        "think": "high",
        "keep_alive": "10m",
        "exclude_reasoning": True,
        "request_timeout": 600000,
        "stop": ["###"],
    }
    assert validate_overrides(raw) == raw


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        ({"num_ctx": "big"}, "overrides.num_ctx"),
        ({"temperature": True}, "overrides.temperature"),
        ({"stop": "x"}, "overrides.stop"),
        ({"think": "extreme"}, "think"),
        ({"exclude_reasoning": 1}, "exclude_reasoning"),
        ({"timeout_ms": 0}, "timeout_ms"),
        ({"keep_alive": []}, "keep_alive"),
        ({"bogus": 1}, "overrides.bogus"),
    ],
)
def test_bad_overrides_are_refused_with_the_key(raw: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        validate_overrides(raw)
    assert info.value.param == param


def test_not_an_object() -> None:
    with pytest.raises(InvalidRequestError):
        validate_overrides(["num_ctx"])


def test_precedence_request_over_override_over_default() -> None:
    request = GenerationControls(options={"temperature": 0.1}, think=None, exclude_reasoning=None)
    merged = merge_controls(
        request,
        {"temperature": 0.9, "num_ctx": 8192, "think": True, "exclude_reasoning": True, "keep_alive": "1m"},
        {"num_ctx": 2048, "top_k": 5, "timeout_ms": 120000},
    )
    assert dict(merged.options) == {"temperature": 0.1, "num_ctx": 8192, "top_k": 5}
    assert (merged.think, merged.exclude_reasoning, merged.keep_alive) == (True, True, "1m")
    assert merged.timeout_ms == 120000


def test_request_values_win_for_controls() -> None:
    request = GenerationControls(think=False, exclude_reasoning=False, keep_alive=0)
    merged = merge_controls(request, {"think": "high", "exclude_reasoning": True, "keep_alive": "1h"})
    assert (merged.think, merged.exclude_reasoning, merged.keep_alive) == (False, False, 0)


@pytest.mark.parametrize(
    ("requested", "override", "expected"),
    [(None, 5000, 5000), (1000, 5000, 1000), (99999999, 5000, 5000), (0, None, 120000), (None, None, 120000)],
)
def test_clients_can_shorten_but_never_lengthen_or_disable_the_timeout(
    requested: int | None, override: int | None, expected: int
) -> None:
    overrides = {"request_timeout": override} if override else {}
    merged = merge_controls(GenerationControls(timeout_ms=requested), overrides, {"timeout_ms": 120000})
    assert merged.timeout_ms == expected


@pytest.mark.parametrize(
    ("request_controls", "expected"),
    [
        (GenerationControls(), GenerationControls()),
        (
            GenerationControls(options={"num_ctx": 4096}, think="low", keep_alive="5m", timeout_ms=1000),
            GenerationControls(options={"num_ctx": 4096}, think="low", keep_alive="5m", timeout_ms=1000),
        ),
        (GenerationControls(timeout_ms=0), GenerationControls(timeout_ms=None)),  # 0 never disables a limit
        (GenerationControls(timeout_ms=-5), GenerationControls(timeout_ms=None)),
    ],
)
@pytest.mark.parametrize("empty", [None, {}])
def test_nothing_configured_keeps_the_request_controls(
    request_controls: GenerationControls, expected: GenerationControls, empty: dict[str, Any] | None
) -> None:
    merged = merge_controls(request_controls, empty or {}, empty)
    assert merged == expected
    assert dict(merged.options) == dict(expected.options)
