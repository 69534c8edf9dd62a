"""Bytes on the wire as Ollama's gin server writes them: Go-flavoured JSON, timestamps, content types."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

JSON_UTF8 = "application/json; charset=utf-8"  # gin's c.JSON
JSON_PLAIN = "application/json"  # streamResponse / waitForStream set this before writing an error
NDJSON = "application/x-ndjson"
TEXT_PLAIN = "text/plain"  # gin's 404 / 405 bodies
TEXT_UTF8 = "text/plain; charset=utf-8"  # gin's c.String

# Go's encoding/json escapes these inside strings; they can only occur inside strings in valid JSON.
_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)

MAX_DURATION_NS = 2**63 - 1


def dumps(obj: Any) -> bytes:
    """Encode compact JSON the way Go's json.Marshal does (key order kept, HTML characters escaped)."""
    data = orjson.dumps(obj)
    for raw, escaped in _GO_ESCAPES:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


def rfc3339_nano(ns: int | None = None) -> str:
    """Format a UTC instant like Go's time.RFC3339Nano: up to 9 fraction digits, trailing zeros trimmed."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


def json_response(obj: Any, status: int = 200, content_type: str = JSON_UTF8) -> web.Response:
    """A complete JSON response with an exact Content-Type header."""
    return web.Response(body=dumps(obj), status=status, headers={"Content-Type": content_type})


def error_response(text: str, status: int, content_type: str = JSON_UTF8) -> web.Response:
    """Ollama's native error body `{"error": text}`."""
    return json_response({"error": text}, status, content_type)


def text_response(text: str, status: int = 200, content_type: str = TEXT_PLAIN) -> web.Response:
    """A plain-text response such as `404 page not found`."""
    return web.Response(body=text.encode(), status=status, headers={"Content-Type": content_type})


def go_quote(value: str) -> str:
    """Quote a string like Go's `%q` (strconv.Quote) for the printable cases that matter here."""
    out = ['"']
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
