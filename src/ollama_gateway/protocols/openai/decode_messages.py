"""OpenAI chat messages (content parts, images, tool calls, tool results) → core messages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from ollama_gateway.core.messages import ImagePart, Message, Part, Role, TextPart, ToolCall
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai import schemas

ROLES: Final[Mapping[str, Role]] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",  # legacy function-calling result; resolved by `name`
}
"""OpenAI message roles → core roles."""

PART_TYPES_BY_ROLE: Final[Mapping[str, frozenset[str]]] = {
    "system": frozenset({"text"}),
    "developer": frozenset({"text"}),
    "user": frozenset({"text", "image_url"}),
    "assistant": frozenset({"text", "refusal"}),
    "tool": frozenset({"text"}),
    "function": frozenset({"text"}),
}
"""Content part types each role may carry; any other type is refused, never dropped."""

IMAGE_URL_SCHEMES: Final[tuple[str, ...]] = ("http://", "https://")

ASSISTANT_ONLY_FIELDS: Final[tuple[str, ...]] = (
    "tool_calls",
    "function_call",
    "reasoning_content",
    "reasoning",
    "thinking",
    "refusal",
)
"""Message fields only an assistant message may carry (in the order they are reported)."""


def decode_messages(raw: Sequence[schemas.ChatMessage]) -> tuple[Message, ...]:
    """Translate the `messages` array; tool results are resolved to the name of the call they answer."""
    if not raw:
        raise InvalidRequestError("[] is too short - 'messages'", param="messages")
    call_names: dict[str, str] = {}
    out: list[Message] = []
    for i, msg in enumerate(raw):
        param = f"messages[{i}]"
        role = ROLES.get(msg.role)
        if role is None:
            allowed = ", ".join(f"'{name}'" for name in ROLES)
            raise InvalidRequestError(
                f"Invalid value for '{param}.role': {msg.role!r}; expected one of {allowed}.", param=f"{param}.role"
            )
        _check_role_fields(msg, param)
        if role == "assistant":
            message = _assistant(msg, param)
            for call in message.tool_calls:
                call_names[call.id] = call.name
        elif role == "tool":
            message = _tool_result(msg, param, call_names)
        else:
            message = Message(role=role, parts=_parts(msg, param, required=True))
        out.append(message)
    return tuple(out)


def _check_role_fields(msg: schemas.ChatMessage, param: str) -> None:
    """Refuse fields that make no sense for the message's role instead of ignoring them."""
    # Runs per message: one set test in C against the fields the client sent; the loop runs only when one was.
    if msg.role != "assistant" and not msg.model_fields_set.isdisjoint(ASSISTANT_ONLY_FIELDS):
        for name in ASSISTANT_ONLY_FIELDS:
            if getattr(msg, name) is not None:  # an explicit null is tolerated
                raise InvalidRequestError(
                    f"'{param}.{name}' is only allowed on assistant messages.", param=f"{param}.{name}"
                )
    if msg.role != "tool" and msg.tool_call_id is not None:
        raise InvalidRequestError(
            f"'{param}.tool_call_id' is only allowed on tool messages.", param=f"{param}.tool_call_id"
        )
    if msg.audio is not None:
        raise InvalidRequestError("Audio in messages is not supported.", param=f"{param}.audio")


def _assistant(msg: schemas.ChatMessage, param: str) -> Message:
    parts = _parts(msg, param, required=False)
    if not parts and msg.refusal:
        parts = (TextPart(msg.refusal),)
    calls: list[ToolCall] = []
    if msg.tool_calls is not None:
        for j, raw_call in enumerate(msg.tool_calls):
            arguments = parse_arguments(raw_call.function.arguments, f"{param}.tool_calls[{j}].function.arguments")
            calls.append(ToolCall(id=raw_call.id, name=raw_call.function.name, arguments=arguments, index=j))
    if msg.function_call is not None:
        if calls:
            raise InvalidRequestError(
                f"'{param}' has both tool_calls and function_call; send one.", param=f"{param}.function_call"
            )
        arguments = parse_arguments(msg.function_call.arguments, f"{param}.function_call.arguments")
        calls.append(ToolCall(id="", name=msg.function_call.name, arguments=arguments))
    thinking = next((t for t in (msg.reasoning_content, msg.reasoning, msg.thinking) if t is not None), None)
    return Message(role="assistant", parts=parts, thinking=thinking or None, tool_calls=tuple(calls))


def _tool_result(msg: schemas.ChatMessage, param: str, call_names: Mapping[str, str]) -> Message:
    parts = _parts(msg, param, required=True)
    call_id = msg.tool_call_id
    name = call_names.get(call_id) if call_id is not None else None
    if name is None:
        name = msg.name
    if name is None:
        if call_id is None:
            raise InvalidRequestError(
                f"Missing required parameter: '{param}.tool_call_id'.", param=f"{param}.tool_call_id"
            )
        raise InvalidRequestError(
            f"'{param}.tool_call_id' {call_id!r} does not match any earlier assistant tool call.",
            param=f"{param}.tool_call_id",
        )
    return Message(role="tool", parts=parts, tool_name=name, tool_call_id=call_id)


def parse_arguments(value: Any, param: str) -> dict[str, Any]:
    """Tool call arguments: a JSON string holding an object (an object itself is tolerated)."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
    raise InvalidRequestError(f"invalid tool call arguments: '{param}' must be a JSON object string.", param=param)


def _parts(msg: schemas.ChatMessage, param: str, *, required: bool) -> tuple[Part, ...]:
    content = msg.content
    if content is None:
        if required:
            raise InvalidRequestError(f"Missing required parameter: '{param}.content'.", param=f"{param}.content")
        return ()
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    if not isinstance(content, list):
        raise InvalidRequestError(
            f"Invalid type for '{param}.content': expected a string or an array of content parts.",
            param=f"{param}.content",
        )
    allowed = PART_TYPES_BY_ROLE[msg.role]
    parts: list[Part] = []
    for k, raw in enumerate(content):
        part_param = f"{param}.content[{k}]"
        part = schemas.parse_model(schemas.ContentPart, raw, part_param)
        if part.type not in allowed:
            if part.type in ("text", "image_url", "refusal"):
                message = f"Content part type '{part.type}' is not allowed in a {msg.role} message."
            else:
                message = f"Content part type '{part.type}' is not supported."
            raise InvalidRequestError(f"{message} ({part_param}.type)", param=f"{part_param}.type")
        parts.append(_part(part, part_param))
    return tuple(parts)


def _part(part: schemas.ContentPart, param: str) -> Part:
    match part.type:
        case "text":
            if part.text is None:
                raise InvalidRequestError(f"Missing required parameter: '{param}.text'.", param=f"{param}.text")
            return TextPart(part.text)
        case "refusal":
            if part.refusal is None:
                raise InvalidRequestError(f"Missing required parameter: '{param}.refusal'.", param=f"{param}.refusal")
            return TextPart(part.refusal)
        case _:  # "image_url": the only other type PART_TYPES_BY_ROLE lets through
            raw = part.image_url
            if raw is None:
                raise InvalidRequestError(
                    f"Missing required parameter: '{param}.image_url'.", param=f"{param}.image_url"
                )
            if isinstance(raw, str):
                return parse_image(raw, f"{param}.image_url")
            image_url = schemas.parse_model(schemas.ImageURL, raw, f"{param}.image_url")
            return parse_image(image_url.url, f"{param}.image_url.url")


def parse_image(url: str, param: str, *, allow_bare_base64: bool = False) -> ImagePart:
    """A `data:` URL (→ base64 data), an http(s) URL (→ fetched later), or with the flag bare base64."""
    if url[:5].lower() == "data:":
        header, sep, payload = url[5:].partition(",")
        attributes = header.split(";")
        if not sep or attributes[-1].lower() != "base64" or len(attributes) < 2:
            raise InvalidRequestError(
                f"Invalid image data URL in '{param}': expected 'data:<media type>;base64,<data>'.", param=param
            )
        media_type = attributes[0].strip().lower() or None
        if media_type is not None and not media_type.startswith("image/"):
            raise InvalidRequestError(f"Invalid image media type {media_type!r} in '{param}'.", param=param)
        return ImagePart(data=_check_base64(payload, param), media_type=media_type)
    if url.lower().startswith(IMAGE_URL_SCHEMES):
        return ImagePart(url=url)
    if allow_bare_base64:
        return ImagePart(data=_check_base64(url, param))
    raise InvalidRequestError(
        f"Unsupported image URL in '{param}': use an http(s) URL or a base64 data URL.", param=param
    )


def _check_base64(payload: str, param: str) -> str:
    if not payload:
        raise InvalidRequestError(f"Empty image data in '{param}'.", param=param)
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(f"Invalid base64 image data in '{param}'.", param=param) from None
    return payload
