"""A server-side signal for a client that drops its connection, so a request need not poll `receive()` for it.

The gateway's HTTP protocol (`serving.limits`) puts one `DisconnectSignal` per request into the ASGI scope's
`extensions` and fires it when the connection is lost before the response completed. Endpoints register a
callback for as long as they wait (usually: cancel the request's task). Under a server that does not provide
the signal (an in-process test transport, another ASGI server), `signal_of` is None and callers fall back to a
task that reads `receive()` until `http.disconnect`.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, Final

EXTENSION: Final = "ollama_gateway.disconnect"


class DisconnectSignal:
    """Callbacks to run once, when the client goes away before the response is complete."""

    __slots__ = ("_callbacks", "fired")

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], object]] = []
        self.fired = False

    def add(self, callback: Callable[[], object]) -> None:
        """Run `callback` on disconnect (at once if the client is already gone)."""
        if self.fired:
            callback()
        else:
            self._callbacks.append(callback)

    def discard(self, callback: Callable[[], object]) -> None:
        """No longer run `callback`."""
        try:  # noqa: SIM105  (not contextlib.suppress: this runs once per request)
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def fire(self) -> None:
        """The connection is gone: run every callback once."""
        if self.fired:
            return
        self.fired = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


def install(scope: MutableMapping[str, Any]) -> DisconnectSignal:
    """A new signal for the request of `scope` (called by the server)."""
    signal = DisconnectSignal()
    extensions = scope.get("extensions")
    if extensions is None:
        extensions = scope["extensions"] = {}
    extensions[EXTENSION] = signal
    return signal


def signal_of(scope: MutableMapping[str, Any]) -> DisconnectSignal | None:
    """The request's signal, if its server provides one."""
    extensions = scope.get("extensions")
    return extensions.get(EXTENSION) if extensions else None
