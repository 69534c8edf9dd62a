"""The task status document (the seed's wire layout), task ids, and failure reasons."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Final, Literal, TypedDict, cast

import orjson

from ollama_gateway import errors
from ollama_gateway.core.ids import uuid4_string

TaskState = Literal["PENDING", "RUNNING", "SUCCESS", "FAILED"]

ACTIVE_STATES: Final[frozenset[str]] = frozenset({"PENDING", "RUNNING"})
FINAL_STATES: Final[frozenset[str]] = frozenset({"SUCCESS", "FAILED"})

VERSION: Final = "1.0"
EVENT_TYPE: Final = "task.status.update"

# (state, stage, message) for each step of the lifecycle; FAILED carries its reason as the message.
ACCEPTED: Final[tuple[TaskState, str, str]] = ("PENDING", "accepted", "request accepted")
FORWARDING: Final[tuple[TaskState, str, str]] = ("RUNNING", "forwarding", "forwarding to upstream")
STREAMING: Final[tuple[TaskState, str, str]] = ("RUNNING", "streaming", "stream alive")
DONE: Final[tuple[TaskState, str, str]] = ("SUCCESS", "done", "completed")
ERROR_STAGE: Final = "error"
QUEUED_STAGE: Final = "queued"  # a request waiting for a free Ollama host; its state stays PENDING

TASK_ID_HEADER: Final = "X-Task-Id"
TASK_ID_MAX_LENGTH: Final = 128
_TASK_ID_RE: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class TaskDocument(TypedDict):
    """One status document, exactly as stored under `ts:ollama:<task_id>` and served to clients."""

    version: str
    event_type: str
    event_id: str
    algorithm_id: str
    task_id: str
    state: TaskState
    stage: str
    message: str
    extensions: dict[str, Any]
    timestamp: int


def new_task_id() -> str:
    """A fresh task id (a random uuid4 string) for requests that did not send `X-Task-Id`."""
    return uuid4_string()


def validate_task_id(value: str) -> str:
    """Return `value` if it is 1..128 characters of `[A-Za-z0-9._:-]`, else raise InvalidRequestError."""
    if _TASK_ID_RE.fullmatch(value) is None:
        raise errors.InvalidRequestError(
            f"X-Task-Id must be 1 to {TASK_ID_MAX_LENGTH} characters of letters, digits, '.', '_', ':' or '-'",
            param=TASK_ID_HEADER,
            code="invalid_task_id",
        )
    return value


def build_document(
    *,
    task_id: str,
    state: TaskState,
    stage: str,
    message: str,
    extensions: dict[str, Any],
    algorithm_id: str,
    now: float | None = None,
) -> TaskDocument:
    """A new status document with a fresh `event_id` and an integer Unix `timestamp`."""
    return TaskDocument(
        version=VERSION,
        event_type=EVENT_TYPE,
        event_id=uuid4_string(),
        algorithm_id=algorithm_id,
        task_id=task_id,
        state=state,
        stage=stage,
        message=message,
        extensions=dict(extensions),
        timestamp=int(time.time() if now is None else now),
    )


def is_final(doc: TaskDocument) -> bool:
    """True once the task reached SUCCESS or FAILED."""
    return doc["state"] in FINAL_STATES


def owner_of(doc: TaskDocument) -> str | None:
    """The key id that owns the task (None: made by the admin)."""
    owner = doc["extensions"].get("key_id")
    return owner if isinstance(owner, str) else None


def visible_to(doc: TaskDocument, viewer: str | None) -> bool:
    """Whether `viewer` (a key id, or None for the admin, who sees everything) may see this task."""
    return viewer is None or owner_of(doc) == viewer


def encode_document(doc: TaskDocument) -> bytes:
    """The stored JSON form of a document."""
    # default=str: an odd extension value (a Path, an enum) is recorded as text rather than losing the write.
    return orjson.dumps(doc, default=str)


def decode_document(raw: bytes | str | None) -> TaskDocument | None:
    """Parse a stored document; None for a missing or foreign value rather than an error."""
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("extensions"), dict):
        return None
    if value.get("state") not in ACTIVE_STATES | FINAL_STATES or not isinstance(value.get("timestamp"), int):
        return None
    return cast(TaskDocument, value)


def failure_reason(exc: BaseException) -> str:
    """The FAILED message for an exception that ended a request."""
    if isinstance(exc, errors.UpstreamStatusError):
        return f"upstream status {exc.upstream_status}: {exc.message}"
    if isinstance(exc, errors.UpstreamTimeoutError | TimeoutError):
        return "timeout"
    if isinstance(exc, errors.CancelledError):
        return exc.message or "cancelled"
    if isinstance(exc, errors.GatewayError):
        return exc.message
    if isinstance(exc, BaseExceptionGroup):
        return failure_reason(exc.exceptions[0]) if exc.exceptions else "error"
    if isinstance(exc, asyncio.CancelledError):  # the request task was cancelled: the client went away
        return "client disconnected"
    return f"internal error: {type(exc).__name__}"


def queued_message(ahead: int) -> str:
    """The task message of a waiting request, e.g. `queued: 3 ahead`."""
    return f"queued: {ahead} ahead"
