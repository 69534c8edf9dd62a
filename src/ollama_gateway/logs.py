"""Log output: readable text by default, one JSON object per line with LOG_FORMAT=json; configured per app."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

import orjson

ACCESS_LOGGER: Final = "ollama_gateway.access"
TEXT_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else was passed in `extra=` and belongs in the JSON line.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and every `extra=` field."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (orjson)."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of the write (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class _QueueHandler(logging.handlers.QueueHandler):
    """Hands records to a writer thread, so a slow stderr (a pipe, a full disk) never blocks the event loop."""

    def __init__(self, formatter: logging.Formatter) -> None:
        records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        super().__init__(records)
        writer = _StderrHandler()
        writer.setFormatter(formatter)
        self.listener = logging.handlers.QueueListener(records, writer, respect_handler_level=False)
        self.listener.start()
        self._running = True
        atexit.register(self._stop)

    def _stop(self) -> None:
        if self._running:
            self._running = False
            self.listener.stop()

    def shutdown(self) -> None:
        """Stop the writer thread after it has written everything queued (not `close`: logging.config's
        dictConfig closes every existing handler, and uvicorn runs it after the app is built)."""
        self._stop()
        atexit.unregister(self._stop)
        self.close()


def configure_logging(log_format: str, level: str, *, server: bool = False) -> None:
    """Send the gateway's logs (and uvicorn's when `server`) to stderr in `log_format`; idempotent."""
    formatter: logging.Formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    names = ["ollama_gateway", *(["uvicorn"] if server else [])]
    for name in names:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _QueueHandler)]:
            logger.removeHandler(old)
            old.shutdown()
        logger.addHandler(_QueueHandler(formatter))
        logger.setLevel(level.upper())
        # The gateway's records stay visible to handlers further up (test log capture), which production
        # does not configure; uvicorn's do not, or they would print twice under `serve`.
        logger.propagate = not server or name == "ollama_gateway"
