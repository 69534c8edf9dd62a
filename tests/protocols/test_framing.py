"""NDJSON decoding across awkward chunk boundaries, and SSE frames."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ollama_gateway.errors import UpstreamStreamError
from ollama_gateway.protocols.framing import NDJSONDecoder, sse_frame, sse_json

OBJECTS = [{"message": {"content": "héllo ✓"}, "done": False}, {"done": True, "eval_count": 2}]
WIRE = b"".join(orjson.dumps(o) + b"\n" for o in OBJECTS)


@given(st.lists(st.integers(min_value=0, max_value=len(WIRE)), max_size=12))
def test_any_split_decodes_the_same(cuts: list[int]) -> None:
    points = sorted(set(cuts))
    pieces = [WIRE[a:b] for a, b in zip([0, *points], [*points, len(WIRE)], strict=True)]
    decoder = NDJSONDecoder()
    out = [obj for piece in pieces for obj in decoder.decode(piece)] + decoder.flush()
    assert out == OBJECTS


def test_mid_utf8_split_and_empty_chunks() -> None:
    decoder = NDJSONDecoder()
    cut = WIRE.index("é".encode()) + 1
    assert decoder.decode(b"") == []
    assert decoder.decode(WIRE[:cut]) == []
    assert decoder.decode(WIRE[cut:]) == OBJECTS


def test_last_line_without_newline_is_flushed() -> None:
    decoder = NDJSONDecoder()
    assert decoder.decode(b'{"a":1}\n{"b":2}') == [{"a": 1}]
    assert decoder.flush() == [{"b": 2}]
    assert decoder.flush() == []


def test_garbage_line_is_a_stream_error() -> None:
    with pytest.raises(UpstreamStreamError):
        NDJSONDecoder().decode(b"not json\n")


def test_sse_frames() -> None:
    assert sse_frame(b"{}") == b"data: {}\n\n"
    assert sse_json({"type": "ping"}, "ping") == b'event: ping\ndata: {"type":"ping"}\n\n'
