"""The native error contract (reference §2.4): statuses, exact texts, and which check wins."""

from __future__ import annotations

from typing import Any

import httpx
import ollama
import pytest

from .server import FakeOllama

HI = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]

CASES: list[tuple[str, str, Any, int, str]] = [
    # (id, path, body, status, error text)
    ("empty-body", "/api/chat", b"", 400, "missing request body"),
    ("whitespace-body", "/api/generate", b"  \n", 400, "missing request body"),
    ("empty-body-embed", "/api/embed", b"", 400, "missing request body"),
    ("empty-body-pull", "/api/pull", b"", 400, "missing request body"),
    ("truncated-json", "/api/chat", b'{"model":"llama3.2"', 400, "unexpected EOF"),
    ("bad-json", "/api/chat", b"{model}", 400, "invalid character 'm' looking for beginning of object key string"),
    ("nan", "/api/chat", b'{"model":NaN}', 400, "invalid character 'N' looking for beginning of value"),
    ("top-level-array", "/api/chat", [], 400, "json: cannot unmarshal array into Go value of type api.ChatRequest"),
    ("wrong-type", "/api/chat", {"model": 1}, 400,
     "json: cannot unmarshal number into Go struct field ChatRequest.model of type string"),
    ("wrong-stream", "/api/generate", {"model": "llama3.2", "stream": "yes"}, 400,
     "json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool"),
    ("nested-type", "/api/chat", {"model": "llama3.2", "messages": [{"role": "user", "content": ["x"]}]}, 400,
     "json: cannot unmarshal array into Go struct field Message.messages.content of type string"),
    ("args-not-object", "/api/chat",
     {"model": "llama3.2", "messages": [{"role": "assistant", "tool_calls": [{"function": {"arguments": "{}"}}]}]},
     400, "json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments"
     " of type api.ToolCallFunctionArguments"),
    ("options-not-object", "/api/chat", {"model": "llama3.2", "options": []}, 400,
     "json: cannot unmarshal array into Go struct field ChatRequest.options of type map[string]interface {}"),
    ("bad-image", "/api/generate", {"model": "llava", "prompt": "x", "images": ["@@@@"]}, 400,
     "illegal base64 data at input byte 0"),
    ("chat-no-model", "/api/chat", {"messages": HI}, 400, "model is required"),
    ("chat-bad-name", "/api/chat", {"model": "bad name!"}, 400, "model is required"),
    ("embeddings-no-model", "/api/embeddings", {"prompt": "x"}, 400, "model is required"),
    ("generate-no-model", "/api/generate", {"prompt": "x"}, 404, "model '' not found"),
    ("embed-no-model", "/api/embed", {"input": "x"}, 404, "model '' not found"),
    ("chat-unknown", "/api/chat", {"model": "Nope:7b", "messages": HI}, 404, "model 'Nope:7b' not found"),
    ("generate-unknown", "/api/generate", {"model": "nope", "prompt": "x"}, 404, "model 'nope' not found"),
    ("embed-unknown", "/api/embed", {"model": "nope", "input": "x"}, 404,
     'model "nope" not found, try pulling it first'),
    ("embeddings-unknown", "/api/embeddings", {"model": "nope", "prompt": "x"}, 404,
     'model "nope" not found, try pulling it first'),
    ("show-unknown", "/api/show", {"model": "nope"}, 404, "model 'nope:latest' not found"),
    ("show-no-model", "/api/show", {}, 400, "model is required"),
    ("show-bad-name", "/api/show", {"name": "bad name"}, 400, "invalid model name"),
    ("think-unsupported", "/api/chat", {"model": "llama3.2", "messages": HI, "think": True}, 400,
     '"llama3.2" does not support thinking'),
    ("think-level-unsupported", "/api/generate", {"model": "llava", "prompt": "x", "think": "low"}, 400,
     '"llava" does not support thinking'),
    ("think-invalid", "/api/chat", {"model": "qwen3", "think": "ultra"}, 400,
     'invalid think value: "ultra" (must be "high", "medium", "low", "max", true, or false)'),
    ("think-wrong-type", "/api/chat", {"model": "qwen3", "think": 1}, 400,
     'think must be a boolean or string ("high", "medium", "low", "max", true, or false)'),
    ("tools-unsupported", "/api/chat", {"model": "llava", "messages": HI, "tools": TOOLS}, 400,
     "registry.ollama.ai/library/llava:latest does not support tools"),
    ("suffix-unsupported", "/api/generate", {"model": "llama3.2", "prompt": "x", "suffix": "y"}, 400,
     "registry.ollama.ai/library/llama3.2:latest does not support insert"),
    ("chat-on-embedding", "/api/chat", {"model": "all-minilm", "messages": HI, "tools": TOOLS}, 400,
     '"all-minilm" does not support chat'),
    ("generate-on-embedding", "/api/generate", {"model": "all-minilm", "prompt": "x"}, 400,
     '"all-minilm" does not support generate'),
    ("top-logprobs-high", "/api/chat", {"model": "llama3.2", "top_logprobs": 21}, 400,
     "top_logprobs must be between 0 and 20"),
    ("top-logprobs-negative", "/api/generate", {"model": "nope", "top_logprobs": -1}, 400,
     "top_logprobs must be between 0 and 20"),
    ("raw-with-system", "/api/generate", {"model": "llama3.2", "prompt": "x", "raw": True, "system": "s"}, 400,
     "raw mode does not support template, system, or context"),
    ("keep-alive-bad", "/api/chat", {"model": "llama3.2", "keep_alive": "soon"}, 400,
     'time: invalid duration "soon"'),
    ("keep-alive-no-unit", "/api/chat", {"model": "llama3.2", "keep_alive": "5"}, 400,
     'time: missing unit in duration "5"'),
    ("option-float", "/api/chat", {"model": "llama3.2", "messages": HI, "options": {"temperature": "hot"}}, 500,
     'option "temperature" must be of type float32'),
    ("option-int", "/api/generate", {"model": "llama3.2", "prompt": "x", "options": {"num_ctx": "big"}}, 500,
     'option "num_ctx" must be of type integer'),
    ("option-bool", "/api/embed", {"model": "all-minilm", "input": "x", "options": {"use_mmap": 1}}, 500,
     'option "use_mmap" must be of type boolean'),
    ("option-array", "/api/chat", {"model": "llama3.2", "options": {"stop": "x"}}, 500,
     'option "stop" must be of type array'),
    ("option-array-items", "/api/chat", {"model": "llama3.2", "options": {"stop": [1]}}, 500,
     'option "stop" must be of an array of strings'),
    ("format-invalid", "/api/chat", {"model": "llama3.2", "messages": HI, "format": "xml", "stream": False}, 500,
     'invalid format: "xml"; expected "json" or a valid JSON Schema object'),
    ("embed-input-type", "/api/embed", {"model": "all-minilm", "input": ["a", 1]}, 400, "invalid input type"),
    ("embed-too-long", "/api/embed", {"model": "all-minilm", "input": "w " * 300, "truncate": False}, 400,
     "the input length exceeds the context length"),
    ("pull-bad-name", "/api/pull", {"model": "bad name"}, 400, "invalid model name"),
    ("copy-unknown", "/api/copy", {"source": "nope", "destination": "x"}, 404, 'model "nope" not found'),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "status", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_contract(http: httpx.Client, path: str, body: Any, status: int, text: str) -> None:
    response = http.post(path, content=body) if isinstance(body, bytes) else http.post(path, json=body)
    assert (response.status_code, response.json()) == (status, {"error": text})
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_unknown_option_keys_and_doc_leftovers_are_ignored(http: httpx.Client) -> None:
    options = {"penalize_newline": True, "numa": False, "whatever": "x", "num_predict": 3.9, "temperature": 1}
    response = http.post("/api/chat", json={"model": "llama3.2", "messages": HI, "options": options, "stream": False})
    assert response.status_code == 200 and response.json()["eval_count"] == 3


def test_unknown_fields_are_ignored_and_keys_fold_case(http: httpx.Client) -> None:
    body = {"MODEL": "llama3.2", "Messages": HI, "stream": False, "surprise": {"nested": True}}
    assert http.post("/api/chat", json=body).json()["message"]["content"] == "You said: hi"


def test_trailing_data_after_the_body_is_ignored(http: httpx.Client) -> None:
    response = http.post("/api/chat", content=b'{"model":"llama3.2","messages":[],"stream":false} trailing')
    assert response.json()["done_reason"] == "load"


def test_think_false_is_fine_on_any_model(http: httpx.Client) -> None:
    response = http.post("/api/chat", json={"model": "llama3.2", "messages": HI, "think": False, "stream": False})
    assert response.status_code == 200


def test_go_html_escaping_in_error_texts(http: httpx.Client) -> None:
    response = http.post("/api/chat", json={"model": "a<b>&c", "messages": HI})
    assert response.content == b'{"error":"model is required"}'
    response = http.post("/api/generate", json={"model": "x<y>", "prompt": "p"})
    assert response.content == b'{"error":"model \'x\\u003cy\\u003e\' not found"}'


def test_sdk_raises_response_error(sdk: ollama.Client, fake_ollama: FakeOllama) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        sdk.chat(model="nope", messages=HI)
    assert (caught.value.status_code, caught.value.error) == (404, "model 'nope' not found")
    with pytest.raises(ollama.ResponseError) as caught:
        sdk.chat(model="llama3.2", messages=HI, think=True)
    assert caught.value.error == '"llama3.2" does not support thinking'
