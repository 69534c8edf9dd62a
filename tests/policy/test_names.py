"""Model names as people type them: bare families, suggestions, the 404 text, and key model lists."""

from __future__ import annotations

import pytest

from ollama_gateway.policy.names import check_names, not_found_message, resolve_family, suggestions

KNOWN = ["llama3.2:latest", "qwen3:8b", "gpt-oss:20b", "gpt-oss:120b", "all-minilm:latest", "fast"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("qwen3", "qwen3:8b"),  # the only qwen3 tag
        ("gpt-oss", None),  # two tags: ambiguous, never guessed
        ("qwen3:4b", None),  # a tag was given: no resolution
        ("mistral", None),  # no such family
        ("fast", None),  # a display name without a tag is not a family
        ("llama3.2", "llama3.2:latest"),  # the only tag (x ≡ x:latest also covers it elsewhere)
    ],
)
def test_resolve_family(name: str, expected: str | None) -> None:
    assert resolve_family(name, KNOWN) == expected


def test_suggestions_put_the_family_first_then_close_spellings() -> None:
    assert suggestions("gpt-oss", KNOWN)[:2] == ["gpt-oss:120b", "gpt-oss:20b"]
    assert suggestions("lama3.2:latest", KNOWN)[0] == "llama3.2:latest"
    assert len(suggestions("x", [f"m{i}" for i in range(20)], limit=5)) == 5


def test_not_found_message_lists_what_exists() -> None:
    assert not_found_message("gpt-oss", KNOWN).startswith("model 'gpt-oss' not found; available: gpt-oss:120b, ")
    many = not_found_message("x", [f"m{i:02d}" for i in range(20)])
    assert many.endswith("and 12 more (GET /v1/models)")
    assert "no models are available" in not_found_message("x", [])


def test_check_names() -> None:
    checked = check_names(["llama3.2", "qwen3", "fast", "mistral", "all-minilm:latest"], KNOWN)
    assert checked.names == ["llama3.2", "qwen3:8b", "fast", "mistral", "all-minilm:latest"]
    assert checked.resolved == {"qwen3": "qwen3:8b"}
    assert checked.unknown == ["mistral"]
