"""Per-model parameter overrides: validation when saved, and the merge request > override > default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ollama_gateway.core.options import OLLAMA_OPTIONS, option_type_error
from ollama_gateway.core.requests import THINK_LEVELS, GenerationControls
from ollama_gateway.errors import InvalidRequestError

# Keys an override may hold besides Ollama's options. `request_timeout` and `timeout_ms` are the same
# setting (milliseconds); neither ever reaches Ollama.
CONTROL_KEYS: frozenset[str] = frozenset({"think", "keep_alive", "exclude_reasoning", "request_timeout", "timeout_ms"})


def validate_overrides(raw: Any) -> dict[str, Any]:
    """The overrides as stored, or a 400 naming the first bad key or value."""
    if not isinstance(raw, dict):
        raise InvalidRequestError("overrides must be a JSON object", param="overrides")
    for key, value in raw.items():
        if key in OLLAMA_OPTIONS:
            problem = option_type_error(key, value)
            if problem:
                raise InvalidRequestError(problem, param=f"overrides.{key}")
        elif key == "think":
            if not (isinstance(value, bool) or value in THINK_LEVELS):
                raise InvalidRequestError("think must be true, false or one of low, medium, high, max", param=key)
        elif key == "keep_alive":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidRequestError("keep_alive must be a number of seconds or a duration like '5m'", param=key)
        elif key == "exclude_reasoning":
            if not isinstance(value, bool):
                raise InvalidRequestError("exclude_reasoning must be a boolean", param=key)
        elif key in ("request_timeout", "timeout_ms"):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InvalidRequestError(f"{key} must be a positive integer of milliseconds", param=key)
        else:
            raise InvalidRequestError(f"unknown override key: {key}", param=f"overrides.{key}")
    return dict(raw)


def merge_controls(
    request: GenerationControls, overrides: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
) -> GenerationControls:
    """Fill what the request left unset from the model's overrides, then from gateway defaults."""
    options: dict[str, Any] = {}
    think, keep_alive, exclude, timeout_ms = None, None, None, None
    for layer in (defaults, overrides):
        if not layer:
            continue
        for key, value in layer.items():
            if key in OLLAMA_OPTIONS:
                options[key] = value
        think = layer.get("think", think)
        keep_alive = layer.get("keep_alive", keep_alive)
        exclude = layer.get("exclude_reasoning", exclude)
        timeout_ms = layer.get("timeout_ms", layer.get("request_timeout", timeout_ms))
    if request.options:
        options.update(request.options)
    return GenerationControls(  # every field is set: no `replace` walk on the request path
        options=options,
        think=request.think if request.think is not None else think,
        keep_alive=request.keep_alive if request.keep_alive is not None else keep_alive,
        exclude_reasoning=request.exclude_reasoning if request.exclude_reasoning is not None else exclude,
        timeout_ms=_capped_timeout(request.timeout_ms, timeout_ms),
    )


def _capped_timeout(requested: int | None, operator: int | None) -> int | None:
    # A client may shorten the operator's time limit but never lengthen or disable it.
    if requested is None or requested <= 0:
        return operator
    return requested if operator is None else min(requested, operator)


def merge_native(body: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A native Ollama body with the model's overrides filled in where the request left them unset."""
    merged = dict(body)
    options = {k: v for k, v in overrides.items() if k in OLLAMA_OPTIONS}
    given = body.get("options")
    if isinstance(given, Mapping):
        options.update(given)
    if options:
        merged["options"] = options
    for key in ("think", "keep_alive"):
        if key in overrides and key not in body:
            merged[key] = overrides[key]
    return merged


def validate_override_map(raw: Any) -> dict[str, dict[str, Any]]:
    """A whole `{model: overrides}` document checked at once; a 400 naming the first bad model or field."""
    if not isinstance(raw, dict):
        raise InvalidRequestError("the overrides document must be a JSON object keyed by model", param="overrides")
    checked: dict[str, dict[str, Any]] = {}
    for model, overrides in raw.items():
        if not isinstance(model, str) or not model.strip():
            raise InvalidRequestError("every key of the overrides document must be a model name", param="overrides")
        try:
            checked[model.strip()] = validate_overrides(overrides)
        except InvalidRequestError as exc:
            param = (exc.param or "overrides").removeprefix("overrides")
            raise InvalidRequestError(f"{model}: {exc.message}", param=f"{model}{param}") from exc
    return checked
