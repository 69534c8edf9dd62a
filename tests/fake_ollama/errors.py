"""Ollama's native error texts (reference §2.4) and the exception handlers raise to produce them."""

from __future__ import annotations

from .wire import JSON_UTF8, go_quote

MISSING_BODY = "missing request body"
MODEL_REQUIRED = "model is required"
INVALID_MODEL_NAME = "invalid model name"
INVALID_INPUT_TYPE = "invalid input type"
TOP_LOGPROBS_RANGE = "top_logprobs must be between 0 and 20"
RAW_MODE = "raw mode does not support template, system, or context"
INPUT_TOO_LONG = "the input length exceeds the context length"
MID_STREAM = "an error was encountered while running the model"
PULL_NOT_FOUND = "pull model manifest: file does not exist"
SERVER_BUSY = "server busy, please try again.  maximum pending requests exceeded"
NOT_FOUND_PAGE = "404 page not found"
METHOD_NOT_ALLOWED_PAGE = "405 method not allowed"


class OllamaError(Exception):
    """An error Ollama answers with a status and `{"error": text}` before any output was written."""

    def __init__(self, status: int, text: str, content_type: str = JSON_UTF8) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.content_type = content_type


def model_not_found(name: str) -> str:
    """Chat / generate / show / delete wording: single quotes, name as given."""
    return f"model '{name}' not found"


def model_not_found_pull_first(name: str) -> str:
    """Embed / embeddings (handleScheduleError) wording: Go `%q`, name as sent."""
    return f"model {go_quote(name)} not found, try pulling it first"


def no_thinking(name: str) -> str:
    """A think value on a model without the thinking capability."""
    return f"{go_quote(name)} does not support thinking"


def no_completion(name: str, verb: str) -> str:
    """Chat or generate on a model without the completion capability (`verb` is chat or generate)."""
    return f"{go_quote(name)} does not support {verb}"


def missing_capability(full_name: str, capability: str) -> str:
    """CheckCapabilities wording, prefixed by the full internal name (`registry.ollama.ai/library/x:tag`)."""
    return f"{full_name} does not support {capability}"


def invalid_format(raw_value: str) -> str:
    """A `format` that is neither "json" nor a schema object; fails during generation, hence a 500."""
    return f'invalid format: {raw_value}; expected "json" or a valid JSON Schema object'


def option_type(key: str, kind: str) -> str:
    """Options.FromMap wording for a wrongly typed option."""
    return f"option {go_quote(key)} must be of type {kind}"
