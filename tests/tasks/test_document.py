"""The status document's wire layout, task id rules and failure reasons."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from ollama_gateway import errors
from ollama_gateway.tasks.document import (
    build_document,
    decode_document,
    encode_document,
    failure_reason,
    new_task_id,
    owner_of,
    validate_task_id,
    visible_to,
)
from ollama_gateway.tasks.redis_store import INDEX_ALL, index_key, task_key


def test_document_has_the_seed_layout() -> None:
    doc = build_document(
        task_id="demo-001",
        state="RUNNING",
        stage="streaming",
        message="stream alive",
        extensions={"method": "POST", "path": "/v1/chat/completions", "stream": True},
        algorithm_id="ollama-openai",
        now=1736400000.9,
    )
    assert list(doc) == [
        "version",
        "event_type",
        "event_id",
        "algorithm_id",
        "task_id",
        "state",
        "stage",
        "message",
        "extensions",
        "timestamp",
    ]
    assert doc["version"] == "1.0"
    assert doc["event_type"] == "task.status.update"
    assert uuid.UUID(doc["event_id"]).version == 4
    assert doc["timestamp"] == 1736400000 and isinstance(doc["timestamp"], int)
    assert doc["extensions"] == {"method": "POST", "path": "/v1/chat/completions", "stream": True}
    assert decode_document(encode_document(doc)) == doc


def test_every_write_gets_a_new_event_id() -> None:
    def make() -> str:
        doc = build_document(
            task_id="t", state="PENDING", stage="accepted", message="m", extensions={}, algorithm_id="a"
        )
        return doc["event_id"]

    assert make() != make()


@pytest.mark.parametrize("value", ["a", "demo-001", "A.b_c:d-e", "9" * 128, new_task_id(), "index"])
def test_valid_task_ids(value: str) -> None:
    assert validate_task_id(value) == value


@pytest.mark.parametrize("value", ["", "x" * 129, "a b", "a/b", "é", "a\n", "a*", "{x}", "a\x00"])
def test_invalid_task_ids_are_refused(value: str) -> None:
    with pytest.raises(errors.InvalidRequestError) as caught:
        validate_task_id(value)
    assert caught.value.param == "X-Task-Id"
    assert caught.value.http_status == 400


@pytest.mark.parametrize("value", ["index", "-index:all", "ollama-index:all", ":", "all"])
def test_no_task_id_can_name_an_index_key(value: str) -> None:
    validate_task_id(value)
    assert task_key(value).startswith("ts:ollama:")
    for index in (INDEX_ALL, index_key(value), index_key(None)):
        assert index.startswith("ts:ollama-index:")
        assert task_key(value) != index
    assert index_key("all") != INDEX_ALL


def test_new_task_id_is_a_uuid4() -> None:
    ids = [new_task_id() for _ in range(1000)]  # several batches of the id generator's entropy
    assert len(set(ids)) == len(ids)
    for task_id in ids:
        parsed = uuid.UUID(task_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == task_id


def test_owner_and_visibility() -> None:
    doc = build_document(
        task_id="t", state="SUCCESS", stage="done", message="completed", extensions={"key_id": "k1"}, algorithm_id="a"
    )
    assert owner_of(doc) == "k1"
    assert visible_to(doc, "k1") and visible_to(doc, None)
    assert not visible_to(doc, "k2")


@pytest.mark.parametrize("raw", [None, b"", b"not json", b"[]", b'{"state": "RUNNING"}', b'{"state": "X"}'])
def test_foreign_values_decode_to_none(raw: bytes | None) -> None:
    assert decode_document(raw) is None


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (errors.UpstreamStatusError(404, 'model "x" not found'), 'upstream status 404: model "x" not found'),
        (errors.UpstreamStreamError("out of memory"), "out of memory"),
        (errors.UpstreamTimeoutError("slow"), "timeout"),
        (TimeoutError(), "timeout"),
        (asyncio.CancelledError(), "client disconnected"),
        (errors.CancelledError("cancelled"), "cancelled"),
        (errors.UpstreamUnavailableError("upstream request error: refused"), "upstream request error: refused"),
        (ExceptionGroup("g", [errors.UpstreamTimeoutError("slow")]), "timeout"),
        (ValueError("boom"), "internal error: ValueError"),
    ],
)
def test_failure_reasons(exc: BaseException, reason: str) -> None:
    assert failure_reason(exc) == reason
