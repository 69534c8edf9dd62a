"""Decode a request body the way gin's ShouldBindJSON does into a Go struct, with Go's error texts."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import MISSING_BODY, OllamaError

_GO_WHITESPACE = " \t\r\n"
_INT64 = (-(2**63), 2**63 - 1)


class _Literal(float):
    """A JSON number with a fraction or exponent, remembering its source text for Go's error message."""

    literal: str

    def __new__(cls, text: str) -> _Literal:
        obj = super().__new__(cls, text)
        obj.literal = text
        return obj


@dataclass(frozen=True)
class Prim:
    """A scalar Go type: string, bool, int, float64, or `any` (json.RawMessage / interface{})."""

    go: str


@dataclass(frozen=True)
class Slice:
    """A Go slice; Go's error paths do not mention indices."""

    elem: Kind
    go: str


@dataclass(frozen=True)
class Map:
    """A Go map keyed by string."""

    elem: Kind
    go: str


@dataclass(frozen=True)
class Struct:
    """A Go struct; fields are matched exactly first, then case-insensitively, unknown keys ignored."""

    go: str
    fields: dict[str, Kind]

    @property
    def short(self) -> str:
        """The struct's bare name, as Go puts it in `Go struct field <Name>.<path>`."""
        return self.go.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Custom:
    """A type with its own UnmarshalJSON: `check` returns an error text (reported verbatim) or None."""

    check: Callable[[Any], str | None]
    go: str = ""


TYPE_ERROR = "\x00type-error"  # a Custom check's answer meaning "report Go's ordinary type error"


Kind = Prim | Slice | Map | Struct | Custom

STRING = Prim("string")
BOOL = Prim("bool")
INT = Prim("int")
FLOAT = Prim("float64")
ANY = Prim("any")


def decode_body(raw: bytes, schema: Struct) -> dict[str, Any]:
    """Parse `raw` as one JSON value and type-check it against `schema`; raise OllamaError(400) like gin."""
    text = raw.decode("utf-8", errors="replace").lstrip(_GO_WHITESPACE)
    if not text:
        raise OllamaError(400, MISSING_BODY)
    value = _parse(text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise OllamaError(400, f"json: cannot unmarshal {_json_kind(value)} into Go value of type {schema.go}")
    error = _check_struct(value, schema, "")
    if error is not None:
        raise OllamaError(400, error)
    return {_canonical_key(schema, key): val for key, val in value.items()}


def plain_json(raw: bytes) -> Any:
    """Parse a body for the recordings: plain Python JSON, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"constant {name}")


_DECODER = json.JSONDecoder(parse_float=_Literal, parse_constant=_reject_constant)


def _parse(text: str) -> Any:
    try:
        value, _end = _DECODER.raw_decode(text)  # like json.Decoder: data after the first value is ignored
    except json.JSONDecodeError as exc:
        raise OllamaError(400, _syntax_error(text, exc)) from None
    except ValueError:
        first = next(ch for ch in text if ch in "NI-")
        raise OllamaError(400, f"invalid character {_quote_char(first)} looking for beginning of value") from None
    return value


def _syntax_error(text: str, exc: json.JSONDecodeError) -> str:
    pos = exc.pos
    if pos >= len(text.rstrip(_GO_WHITESPACE)) or exc.msg.startswith("Unterminated string"):
        return "unexpected EOF"
    ch = _quote_char(text[pos])
    if exc.msg.startswith("Invalid control character"):
        return f"invalid character {ch} in string literal"
    if exc.msg.startswith("Invalid \\escape") or exc.msg.startswith("Invalid \\uXXXX"):
        return f"invalid character {ch} in string escape code"
    if exc.msg.startswith("Expecting property name"):
        return f"invalid character {ch} looking for beginning of object key string"
    if exc.msg.startswith("Expecting ':'"):
        return f"invalid character {ch} after object key"
    if exc.msg.startswith("Expecting ','"):
        where = "after object key:value pair" if _innermost_open(text[:pos]) == "{" else "after array element"
        return f"invalid character {ch} {where}"
    return f"invalid character {ch} looking for beginning of value"


def _innermost_open(prefix: str) -> str:
    stack: list[str] = []
    in_string = escaped = False
    for ch in prefix:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _quote_char(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + json.dumps(ch, ensure_ascii=False)[1:-1] + "'"


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def _field_for(schema: Struct, key: str) -> str | None:
    if key in schema.fields:
        return key
    folded = key.casefold()
    return next((name for name in schema.fields if name.casefold() == folded), None)


def _canonical_key(schema: Struct, key: str) -> str:
    return _field_for(schema, key) or key


def _check_struct(value: dict[str, Any], schema: Struct, path: str) -> str | None:
    for key, item in value.items():
        field = _field_for(schema, key)
        if field is None:
            continue
        error = _check(item, schema.fields[field], schema.short, f"{path}.{field}" if path else field)
        if error is not None:
            return error
    return None


def _type_error(value: Any, go: str, struct: str, path: str, number_literal: bool = False) -> str:
    what = _json_kind(value)
    if number_literal:
        what = f"number {getattr(value, 'literal', value)}"
    if struct:
        return f"json: cannot unmarshal {what} into Go struct field {struct}.{path} of type {go}"
    return f"json: cannot unmarshal {what} into Go value of type {go}"


def _check(value: Any, kind: Kind, struct: str, path: str) -> str | None:
    if value is None:
        return None  # null leaves a Go value untouched
    if isinstance(kind, Custom):
        error = kind.check(value)
        return _type_error(value, kind.go, struct, path) if error == TYPE_ERROR else error
    if isinstance(kind, Prim):
        return _check_prim(value, kind, struct, path)
    if isinstance(kind, Slice):
        if not isinstance(value, list):
            return _type_error(value, kind.go, struct, path)
        for item in value:
            error = _check(item, kind.elem, struct, path)
            if error is not None:
                return error
        return None
    if isinstance(kind, Map):
        if not isinstance(value, dict):
            return _type_error(value, kind.go, struct, path)
        for item in value.values():
            error = _check(item, kind.elem, struct, path)
            if error is not None:
                return error
        return None
    if not isinstance(value, dict):
        return _type_error(value, kind.go, struct, path)
    return _check_struct(value, kind, path)


def _check_prim(value: Any, kind: Prim, struct: str, path: str) -> str | None:
    go = kind.go
    if go == "any":
        return None
    if go == "string":
        return None if isinstance(value, str) else _type_error(value, go, struct, path)
    if go == "bool":
        return None if isinstance(value, bool) else _type_error(value, go, struct, path)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if not is_number:
        return _type_error(value, go, struct, path)
    if go == "int" and (isinstance(value, float) or not _INT64[0] <= value <= _INT64[1]):
        return _type_error(value, go, struct, path, number_literal=True)
    return None
