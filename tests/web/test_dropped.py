"""The memory behind "logged once per client and name", and the leniency read from settings."""

from __future__ import annotations

from pathlib import Path

from ollama_gateway.core.leniency import Leniency
from ollama_gateway.web import dropped
from ollama_gateway.web.dropped import DropNotices, leniency
from tests.support.gateway import gateway_settings


def test_first_time_per_client_kind_and_name() -> None:
    notices = DropNotices()
    assert notices.first_time("key 1", "tool", "web_search")
    assert not notices.first_time("key 1", "tool", "web_search")
    assert notices.first_time("key 2", "tool", "web_search")
    assert notices.first_time("key 1", "field", "web_search")


def test_memory_is_bounded() -> None:
    notices = DropNotices()
    limit = dropped.MAX_REMEMBERED
    for i in range(limit):
        assert notices.first_time(f"key {i}", "tool", "t")
    # Full: the memory starts over instead of growing, so an old pair may be logged again.
    assert notices.first_time("key new", "tool", "t")
    assert notices.first_time("key 0", "tool", "t")


def test_leniency_from_settings(tmp_path: Path) -> None:
    assert leniency(gateway_settings(tmp_path, "http://127.0.0.1:1")) == Leniency("drop", "refuse")
    strict = gateway_settings(tmp_path, "http://127.0.0.1:1", hosted_tools="refuse", unsupported_fields="drop")
    assert leniency(strict) == Leniency("refuse", "drop")
