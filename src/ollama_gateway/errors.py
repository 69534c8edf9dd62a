"""Typed gateway errors; each protocol adapter maps them to its own wire shape, once, at its boundary.

    GatewayError                      status  kind
    ├── InvalidRequestError             400   invalid_request   (param names the field)
    ├── AuthenticationError             401   authentication
    ├── PermissionDeniedError           403   permission
    ├── NotFoundError                   404   not_found
    ├── MethodNotAllowedError           405   invalid_request
    ├── ConflictError                   409   conflict
    ├── PayloadTooLargeError            413   request_too_large
    ├── RateLimitError                  429   rate_limit        (retry_after seconds)
    ├── CancelledError                  499   cancelled         (client gone or task cancelled)
    ├── InternalError                   500   api_error
    ├── GatewayBusyError                503   overloaded        (retry_after seconds; every host at capacity)
    │   ├── QueueFullError              the gateway's queue holds QUEUE_MAX requests already
    │   └── QueueTimeoutError           waited QUEUE_TIMEOUT_SECONDS without a free host
    ├── DependencyUnavailableError      503   overloaded        (database away; retry_after seconds)
    ├── ShuttingDownError               503   overloaded        (ended by the shutdown grace)
    └── UpstreamError                   502   upstream          (Ollama answered with an error)
        ├── UpstreamStatusError         Ollama's own status (4xx kept, 5xx → 502)
        ├── UpstreamStreamError         an {"error": ...} line inside a 200 stream
        ├── UpstreamUnavailableError    502   cannot connect
        ├── UpstreamOverloadedError     503   Ollama's queue is full
        └── UpstreamTimeoutError        504   too slow

Nothing here knows HTTP beyond the status number each error suggests.
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorKind = Literal[
    "invalid_request",
    "authentication",
    "permission",
    "not_found",
    "conflict",
    "request_too_large",
    "rate_limit",
    "cancelled",
    "api_error",
    "upstream",
    "overloaded",
    "timeout",
]


class GatewayError(Exception):
    """Base of every error the gateway reports to a client."""

    status: ClassVar[int] = 500
    kind: ClassVar[ErrorKind] = "api_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code

    @property
    def http_status(self) -> int:
        """The HTTP status this error should be reported with."""
        return self.status


class InvalidRequestError(GatewayError):
    """The request is malformed or asks for something that cannot be done."""

    status = 400
    kind: ClassVar[ErrorKind] = "invalid_request"


class AuthenticationError(GatewayError):
    """No key, or a key that is unknown, revoked or expired."""

    status = 401
    kind: ClassVar[ErrorKind] = "authentication"


class PermissionDeniedError(GatewayError):
    """The key may not use this model or route."""

    status = 403
    kind: ClassVar[ErrorKind] = "permission"


class NotFoundError(GatewayError):
    """The model or resource does not exist (or is hidden from this key)."""

    status = 404
    kind: ClassVar[ErrorKind] = "not_found"


class MethodNotAllowedError(InvalidRequestError):
    """The route exists but not for this HTTP method."""

    status = 405


class ConflictError(GatewayError):
    """The request collides with one still running (for example a task id in use)."""

    status = 409
    kind: ClassVar[ErrorKind] = "conflict"


class PayloadTooLargeError(GatewayError):
    """The body or an image exceeds its size limit."""

    status = 413
    kind: ClassVar[ErrorKind] = "request_too_large"


class RateLimitError(GatewayError):
    """A key limit was reached; retry after `retry_after` seconds."""

    status = 429
    kind: ClassVar[ErrorKind] = "rate_limit"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class CancelledError(GatewayError):
    """The client went away or the task was cancelled."""

    status = 499
    kind: ClassVar[ErrorKind] = "cancelled"


class InternalError(GatewayError):
    """A fault inside the gateway itself."""

    status = 500
    kind: ClassVar[ErrorKind] = "api_error"


class GatewayBusyError(GatewayError):
    """Every host is at capacity and the gateway cannot hold the request any longer; retry after `retry_after` s."""

    status = 503
    kind: ClassVar[ErrorKind] = "overloaded"

    def __init__(self, message: str, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class DependencyUnavailableError(GatewayError):
    """A service the request needs (the database) is away right now; retry after `retry_after` seconds."""

    status = 503
    kind: ClassVar[ErrorKind] = "overloaded"

    def __init__(self, message: str, *, retry_after: int = 2, code: str | None = "dependency_unavailable") -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class QueueFullError(GatewayBusyError):
    """The gateway's queue already holds as many waiting requests as it may."""

    def __init__(
        self, message: str = "the gateway is busy: too many requests are waiting", *, retry_after: int = 1
    ) -> None:
        super().__init__(message, retry_after=retry_after, code="queue_full")


class QueueTimeoutError(GatewayBusyError):
    """The request waited in the gateway's queue for its whole time limit without a free host."""

    def __init__(self, message: str = "the gateway is busy: no host was free in time", *, retry_after: int = 1) -> None:
        super().__init__(message, retry_after=retry_after, code="queue_timeout")


class ShuttingDownError(GatewayError):
    """The gateway is shutting down and ended this request after the grace period."""

    status = 503
    kind: ClassVar[ErrorKind] = "overloaded"

    def __init__(self, message: str = "gateway shutting down") -> None:
        super().__init__(message, code="shutting_down")
        self.retry_after = 1


def retry_after(error: GatewayError) -> int | None:
    """Seconds a client should wait before retrying, for errors that say so (rate limits, outages)."""
    value = getattr(error, "retry_after", None)
    return value if isinstance(value, int) else None


class UpstreamError(GatewayError):
    """Ollama could not serve the request."""

    status = 502
    kind: ClassVar[ErrorKind] = "upstream"


class UpstreamStatusError(UpstreamError):
    """Ollama answered with an error status; its own text is kept as the message."""

    def __init__(self, upstream_status: int, message: str) -> None:
        super().__init__(message)
        self.upstream_status = upstream_status

    @property
    def http_status(self) -> int:
        """Client errors keep Ollama's status; server-side failures are a bad gateway."""
        if self.upstream_status in (400, 404, 413, 429):
            return self.upstream_status
        if self.upstream_status == 503:
            return 503
        return 502

    @property
    def upstream_kind(self) -> ErrorKind:
        """The kind matching the status this error is reported with."""
        return _KIND_BY_UPSTREAM_STATUS.get(self.http_status, "upstream")


_KIND_BY_UPSTREAM_STATUS: dict[int, ErrorKind] = {
    400: "invalid_request",
    404: "not_found",
    413: "request_too_large",
    429: "rate_limit",
    503: "overloaded",
}


class UpstreamStreamError(UpstreamError):
    """Ollama reported an error after the stream had started."""


class UpstreamUnavailableError(UpstreamError):
    """Ollama cannot be reached; `retry_after` (seconds) when the gateway knows when to try again."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamOverloadedError(UpstreamError):
    """Ollama (or every host) is too busy to take the request."""

    status = 503
    kind: ClassVar[ErrorKind] = "overloaded"


class UpstreamTimeoutError(UpstreamError):
    """Ollama did not answer in time."""

    status = 504
    kind: ClassVar[ErrorKind] = "timeout"


def effective_kind(error: GatewayError) -> ErrorKind:
    """The kind of an error as reported, taking Ollama's own status into account."""
    if isinstance(error, UpstreamStatusError):
        return error.upstream_kind
    return error.kind
