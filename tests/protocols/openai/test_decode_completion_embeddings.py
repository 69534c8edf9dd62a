"""decode_completion and decode_embeddings, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from ollama_gateway.core.messages import ImagePart
from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.protocols.openai.decode import (
    CompletionOptions,
    EmbeddingOptions,
    decode_completion,
    decode_embeddings,
)

PNG = "iVBORw0KGgo="


def completion(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "llama3.2", "prompt": "Once upon"}
    body.update(fields)
    return body


def embedding(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "all-minilm", "input": "hello"}
    body.update(fields)
    return body


def test_minimal_completion() -> None:
    request, options = decode_completion(completion())
    assert request.model == "llama3.2"
    assert request.prompt == "Once upon"
    assert request.stream is False
    assert request.controls.options == {}
    assert (request.suffix, request.system, request.raw, request.images) == (None, None, None, ())
    assert (request.logprobs, request.top_logprobs) == (None, None)
    assert options == CompletionOptions()


@pytest.mark.parametrize(("prompt", "expected"), [("abc", "abc"), (["abc"], "abc"), ("", "")])
def test_prompt_shapes(prompt: Any, expected: str) -> None:
    assert decode_completion(completion(prompt=prompt))[0].prompt == expected


@pytest.mark.parametrize("prompt", [["a", "b"], [1, 2], [[1, 2]], 5, None, []])
def test_bad_prompts(prompt: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_completion(completion(prompt=prompt))
    assert info.value.param == "prompt"


def test_completion_mapping() -> None:
    request, options = decode_completion(
        completion(
            suffix="end",
            max_tokens=20,
            temperature=0.3,
            top_p=0.8,
            seed=1,
            stop=["\n"],
            presence_penalty=0.1,
            frequency_penalty=0.2,
            stream=True,
            stream_options={"include_usage": True},
            echo=True,
            think="high",
            raw=True,
            system="sys",
            num_ctx=2048,
            options={"top_k": 5},
            keep_alive="10m",
            response_format={"type": "json_object"},
            images=[f"data:image/png;base64,{PNG}", PNG, "https://example.com/a.png"],
            user="u1",
        )
    )
    assert request.suffix == "end"
    assert request.system == "sys"
    assert request.raw is True
    assert request.stream is True
    assert request.format == "json"
    assert request.controls.think == "high"
    assert request.controls.keep_alive == "10m"
    assert request.controls.options == {
        "top_k": 5,
        "num_ctx": 2048,
        "temperature": 0.3,
        "top_p": 0.8,
        "seed": 1,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "num_predict": 20,
        "stop": ["\n"],
    }
    assert request.images == (
        ImagePart(data=PNG, media_type="image/png"),
        ImagePart(data=PNG),
        ImagePart(url="https://example.com/a.png"),
    )
    assert options == CompletionOptions(include_usage=True, echo=True)


@pytest.mark.parametrize(("logprobs", "expected"), [(None, (None, None)), (0, (True, 0)), (5, (True, 5))])
def test_completion_logprobs(logprobs: Any, expected: tuple[Any, Any]) -> None:
    request, _ = decode_completion(completion(logprobs=logprobs))
    assert (request.logprobs, request.top_logprobs) == expected


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"logprobs": 21}, "logprobs"),
        ({"logprobs": True}, "logprobs"),
        ({"echo": True, "logprobs": 1}, "echo"),
        ({"best_of": 2}, "best_of"),
        ({"n": 3}, "n"),
        ({"images": ["not base64!"]}, "images[0]"),
        ({"images": "x"}, "images"),
        ({"raw": "yes"}, "raw"),
        ({"suffix": 1}, "suffix"),
        ({"metadata": {}}, "metadata"),
        ({"think": "lots"}, "think"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"logit_bias": {"1": 1}}, "logit_bias"),
    ],
)
def test_bad_completions(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_completion(completion(**fields))
    assert info.value.param == param


@pytest.mark.parametrize(
    ("value", "expected"),
    [("hello", ("hello",)), ("", ("",)), (["a", "b"], ("a", "b")), ([""], ("",))],
)
def test_embedding_inputs(value: Any, expected: tuple[str, ...]) -> None:
    request, options = decode_embeddings(embedding(input=value))
    assert request.inputs == expected
    assert options == EmbeddingOptions(encoding_format="float")


def test_embedding_fields() -> None:
    request, options = decode_embeddings(
        embedding(dimensions=256, encoding_format="base64", user="u", truncate=False, keep_alive=0, num_ctx=512)
    )
    assert request.model == "all-minilm"
    assert request.dimensions == 256
    assert request.truncate is False
    assert request.controls.keep_alive == 0
    assert request.controls.options == {"num_ctx": 512}
    assert options == EmbeddingOptions(encoding_format="base64")


@pytest.mark.parametrize(
    ("fields", "param", "message"),
    [
        ({"input": []}, "input", "invalid input"),
        ({"input": None}, "input", "invalid input"),
        ({"input": [1, 2, 3]}, "input", "Token id arrays are not supported"),
        ({"input": [[1, 2], [3]]}, "input", "Token id arrays are not supported"),
        ({"input": ["a", 1]}, "input", "Invalid type for 'input'"),
        ({"input": {"text": "x"}}, "input", "Invalid type for 'input'"),
        ({"dimensions": 0}, "dimensions", "'dimensions' must be a positive integer."),
        ({"dimensions": "8"}, "dimensions", "Invalid type for 'dimensions'"),
        ({"encoding_format": "int8"}, "encoding_format", "Invalid value for 'encoding_format'"),
        ({"model": None}, "model", "Invalid type for 'model'"),
        ({"options": {"nope": 1}}, "options.nope", "Unknown Ollama option 'nope'."),
        ({"extra": 1}, "extra", "Unrecognized request argument supplied: extra"),
    ],
)
def test_bad_embeddings(fields: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_embeddings(embedding(**fields))
    assert info.value.param == param
    assert info.value.message.startswith(message)


def test_embedding_without_input() -> None:
    with pytest.raises(InvalidRequestError) as info:
        decode_embeddings({"model": "m"})
    assert info.value.message == "invalid input"
