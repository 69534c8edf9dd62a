"""The gateway's own stop-sequence detection."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_gateway.core.events import Event, Finished, TextDelta, ThinkingDelta
from ollama_gateway.core.stops import StopScanner, apply_stops
from ollama_gateway.core.usage import Usage


@pytest.mark.parametrize(
    ("chunks", "stops", "emitted", "matched"),
    [
        (["Hello wor", "ld END more"], ("END",), "Hello world ", "END"),
        (["abc", "E", "N", "D"], ("END",), "abc", "END"),
        (["no stop here"], ("END",), "no stop here", None),
        (["x</st", "op>y"], ("</stop>", "y"), "x", "</stop>"),
        (["aXbY"], ("Y", "X"), "a", "X"),
    ],
)
def test_scanner_cuts_at_first_stop(
    chunks: list[str], stops: tuple[str, ...], emitted: str, matched: str | None
) -> None:
    scanner = StopScanner(stops)
    out = "".join(scanner.feed(c) for c in chunks) + scanner.flush()
    assert out == emitted
    assert scanner.matched == matched


@given(st.text(max_size=60), st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_scanner_matches_plain_find_for_any_split(text: str, cuts: list[int]) -> None:
    stop = "STOP"
    full = text + stop + "tail"
    points = sorted({min(c, len(full)) for c in cuts})
    pieces = [full[a:b] for a, b in zip([0, *points], [*points, len(full)], strict=True)]
    scanner = StopScanner((stop,))
    out = "".join(scanner.feed(p) for p in pieces) + scanner.flush()
    assert out == full[: full.find(stop)]
    assert scanner.matched == stop


async def _events(items: list[Event], closed: list[bool]) -> AsyncIterator[Event]:
    try:
        for item in items:
            yield item
    finally:
        closed.append(True)


async def test_apply_stops_finishes_early_and_closes_upstream() -> None:
    closed: list[bool] = []
    source = [ThinkingDelta("hm"), TextDelta("one two "), TextDelta("STOP three"), Finished("stop", Usage(9, 9))]
    out = [e async for e in apply_stops(_events(source, closed), ("STOP",), prompt_tokens_estimate=5)]
    assert out[0] == ThinkingDelta("hm")
    assert "".join(e.text for e in out if isinstance(e, TextDelta)) == "one two "
    assert out[-1] == Finished("stop", Usage(5, 3), stop_sequence="STOP")
    assert closed == [True]


async def test_apply_stops_passes_through_without_match() -> None:
    closed: list[bool] = []
    source = [TextDelta("ab"), TextDelta("c"), Finished("length", Usage(1, 2))]
    out = [e async for e in apply_stops(_events(source, closed), ("zzz",))]
    assert "".join(e.text for e in out if isinstance(e, TextDelta)) == "abc"
    assert out[-1] == Finished("length", Usage(1, 2))
