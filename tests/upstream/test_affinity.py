"""Conversation keys (pure) and the bounded, expiring affinity table (fake clock)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ollama_gateway.core.messages import ImagePart, Message, TextPart, ToolCall
from ollama_gateway.upstream.affinity import AffinityTable, conversation_key


def msg(role: str, *parts: str | ImagePart) -> Message:
    return Message(role=role, parts=tuple(TextPart(p) if isinstance(p, str) else p for p in parts))  # type: ignore[arg-type]


SYSTEM = msg("system", "You are terse.")
FIRST = msg("user", "Why is the sky blue?")
OPENING = [SYSTEM, FIRST]


def test_later_turns_keep_the_key() -> None:
    first = conversation_key("qwen3", OPENING)
    second_turn = [
        *OPENING,
        Message(role="assistant", parts=(TextPart("Rayleigh scattering."),), thinking="hmm"),
        msg("user", "And sunsets?"),
    ]
    tool_turn = [
        *second_turn,
        Message(role="assistant", tool_calls=(ToolCall(id="c1", name="look", arguments={}),)),
        Message(role="tool", parts=(TextPart("{}"),), tool_name="look"),
    ]
    assert first is not None and len(first) == 32
    assert conversation_key("qwen3", second_turn) == first
    assert conversation_key("qwen3", tool_turn) == first
    assert conversation_key("qwen3:latest", OPENING) == first  # the same model by its canonical name


@pytest.mark.parametrize(
    ("model", "messages"),
    [
        pytest.param("qwen3", [SYSTEM, msg("user", "Why is grass green?")], id="another first question"),
        pytest.param("llama3.2", OPENING, id="another model"),
        pytest.param("qwen3", [FIRST], id="no system message"),
        pytest.param("qwen3", [msg("system", "You are verbose."), FIRST], id="another system message"),
        pytest.param("qwen3", [SYSTEM, msg("system", "Extra."), FIRST], id="an extra system message"),
        pytest.param("qwen3", [SYSTEM, msg("user", "Why is the sky ", "blue?")], id="same text split in parts"),
        pytest.param("qwen3", [msg("user", "You are terse."), FIRST], id="system text sent as a user turn"),
        pytest.param(
            "qwen3", [SYSTEM, msg("user", "Why is the sky blue?", ImagePart(data="aGk="))], id="with an image"
        ),
    ],
)
def test_different_openings_give_different_keys(model: str, messages: list[Message]) -> None:
    assert conversation_key(model, messages) != conversation_key("qwen3", OPENING)


def test_images_count_by_content() -> None:
    def key(image: ImagePart) -> str | None:
        return conversation_key("llava", [msg("user", "what is this?", image)])

    assert key(ImagePart(data="aGk=")) == key(ImagePart(data="aGk=", media_type="image/png"))
    assert key(ImagePart(data="aGk=")) != key(ImagePart(data="aGVsbG8="))
    assert key(ImagePart(url="https://example.com/a.png")) == key(ImagePart(url="https://example.com/a.png"))
    assert key(ImagePart(url="https://example.com/a.png")) != key(ImagePart(url="https://example.com/b.png"))
    assert key(ImagePart(url="aGk=")) != key(ImagePart(data="aGk="))


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [SYSTEM],
        [SYSTEM, Message(role="assistant", parts=(TextPart("hello"),))],
    ],
)
def test_no_user_message_no_key(messages: list[Message]) -> None:
    assert conversation_key("qwen3", messages) is None


def test_odd_text_does_not_break_the_digest() -> None:
    assert conversation_key("qwen3", [msg("user", "\ud800 lone surrogate")]) is not None


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(st.lists(st.text(max_size=20), min_size=1, max_size=4), st.lists(st.text(max_size=20), max_size=4))
def test_appending_turns_never_changes_the_key(opening: list[str], later: list[str]) -> None:
    messages = [msg("system", opening[0]), msg("user", *opening[1:])]
    extended = [*messages, *(msg("assistant" if i % 2 else "user", t) for i, t in enumerate(later))]
    assert conversation_key("m", extended) == conversation_key("m", messages)


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(st.text(max_size=30), st.text(max_size=30))
def test_distinct_questions_distinct_keys(a: str, b: str) -> None:
    if a != b:
        assert conversation_key("m", [msg("user", a)]) != conversation_key("m", [msg("user", b)])


# -- table ----------------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_put_get_and_forget_host() -> None:
    table = AffinityTable(clock=Clock())
    assert table.get("k1") is None
    table.put("k1", "a")
    table.put("k2", "b")
    table.put("k3", "a")
    assert (table.get("k1"), table.get("k2"), len(table)) == ("a", "b", 3)
    table.put("k1", "b")  # the conversation moved
    assert table.get("k1") == "b"
    table.forget_host("b")
    assert (table.get("k1"), table.get("k2"), table.get("k3"), len(table)) == (None, None, "a", 1)


def test_entries_expire_after_the_ttl_and_hits_renew_them() -> None:
    clock = Clock()
    table = AffinityTable(ttl_seconds=10, clock=clock)
    table.put("idle", "a")
    table.put("busy", "b")
    clock.now += 6
    assert table.get("busy") == "b"  # renewed until now + 10
    clock.now += 4  # idle reaches its deadline
    assert (table.get("idle"), table.get("busy"), len(table)) == (None, "b", 1)
    clock.now += 10
    assert (table.get("busy"), len(table)) == (None, 0)


def test_least_recently_used_is_evicted() -> None:
    table = AffinityTable(max_entries=3, clock=Clock())
    for i in range(3):
        table.put(f"k{i}", f"h{i}")
    assert table.get("k0") == "h0"  # k1 is now the least recently used
    table.put("k3", "h3")
    assert [table.get(f"k{i}") for i in range(4)] == ["h0", None, "h2", "h3"]
    assert len(table) == 3


def test_memory_stays_flat_under_any_traffic() -> None:
    clock = Clock()
    table = AffinityTable(max_entries=100, ttl_seconds=5, clock=clock)
    for i in range(20_000):
        table.put(f"k{i}", f"h{i % 7}")
        if i % 1000 == 0:
            clock.now += 1
        assert len(table._entries) <= 100
    assert len(table) == 100
    clock.now += 5
    table.put("last", "h0")
    assert len(table) == 1  # expired entries are dropped, not kept until evicted


def test_rejects_an_empty_table() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        AffinityTable(max_entries=0)
