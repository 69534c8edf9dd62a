"""Model settings: catalog sync keeps operator choices; resolve by display name or `:latest` twin."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ollama_gateway.errors import ConflictError, InvalidRequestError
from ollama_gateway.storage import CatalogEntry, Storage
from ollama_gateway.storage.models import name_variants

MODIFIED = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


def entry(name: str, size: int = 1000, **details: str) -> CatalogEntry:
    return CatalogEntry(
        name=name, size=size, details=details or {"family": "llama"}, capabilities=("completion",), modified_at=MODIFIED
    )


async def test_sync_records_the_catalog(storage: Storage) -> None:
    records = await storage.models.sync_catalog([entry("qwen3:8b", 5), entry("llama3:latest", 4)])
    assert [record.name for record in records] == ["llama3:latest", "qwen3:8b"]
    llama = await storage.models.get("llama3:latest")
    assert llama is not None
    assert (llama.size, llama.details, llama.capabilities, llama.modified_at) == (
        4,
        {"family": "llama"},
        ("completion",),
        MODIFIED,
    )
    assert llama.present and llama.enabled and not llama.hidden
    assert llama.display_name is None and llama.overrides == {}
    assert llama.last_seen_at is not None
    assert await storage.models.get("llama3") is None  # get is exact; resolve knows about :latest


async def test_sync_preserves_operator_settings_and_marks_missing_models(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("a:latest"), entry("b:1b")])
    await storage.models.set(
        "a:latest", display_name="alpha", enabled=False, hidden=True, overrides={"options": {"num_ctx": 8192}}
    )
    await storage.models.sync_catalog([entry("b:1b", size=2000, family="gemma")])
    gone = await storage.models.get("a:latest")
    assert gone is not None
    assert not gone.present
    assert (gone.display_name, gone.enabled, gone.hidden) == ("alpha", False, True)
    assert gone.overrides == {"options": {"num_ctx": 8192}}
    updated = await storage.models.get("b:1b")
    assert updated is not None and updated.present and updated.size == 2000 and updated.details == {"family": "gemma"}

    await storage.models.sync_catalog([entry("a:latest", size=7)])  # pulled again
    back = await storage.models.get("a:latest")
    assert back is not None and back.present and back.size == 7 and back.display_name == "alpha"
    assert back.overrides == {"options": {"num_ctx": 8192}}


async def test_an_empty_catalog_marks_everything_missing(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("a"), entry("b")])
    records = await storage.models.sync_catalog([])
    assert [record.present for record in records] == [False, False]


async def test_duplicate_catalog_entries_keep_the_last(storage: Storage) -> None:
    records = await storage.models.sync_catalog([entry("a", size=1), entry("a", size=2)])
    assert [(record.name, record.size) for record in records] == [("a", 2)]


async def test_set_on_an_unknown_model_creates_a_row_not_present(storage: Storage) -> None:
    record = await storage.models.set("future:7b", display_name="future")
    assert record.name == "future:7b" and not record.present and record.enabled
    assert await storage.models.set("future:7b") == record  # nothing to change


async def test_set_changes_only_the_given_fields(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("m")])
    await storage.models.set("m", display_name="shown", overrides={"think": True})
    record = await storage.models.set("m", enabled=False)
    assert (record.display_name, record.overrides, record.enabled) == ("shown", {"think": True}, False)
    cleared = await storage.models.set("m", display_name=None, overrides={})
    assert (cleared.display_name, cleared.overrides, cleared.enabled) == (None, {}, False)


async def test_display_names_are_unique(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("a"), entry("b")])
    await storage.models.set("a", display_name="shared")
    with pytest.raises(ConflictError):
        await storage.models.set("b", display_name="shared")
    await storage.models.set("a", display_name="shared")  # setting it again on the same model is fine
    await storage.models.set("b", display_name=None)
    await storage.models.set("a", display_name=None)
    await storage.models.set("b", display_name="shared")  # free again


async def test_empty_display_name_is_refused(storage: Storage) -> None:
    with pytest.raises(InvalidRequestError):
        await storage.models.set("a", display_name="  ")


@pytest.mark.parametrize(
    ("name", "variants"),
    [("x", ("x", "x:latest")), ("x:latest", ("x:latest", "x")), ("x:7b", ("x:7b",)), ("ns/x", ("ns/x", "ns/x:latest"))],
)
def test_name_variants(name: str, variants: tuple[str, ...]) -> None:
    assert name_variants(name) == variants


async def test_resolve_by_ollama_name_with_latest_equivalence(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("llama3:latest"), entry("qwen"), entry("gemma:2b")])
    for asked, expected in [
        ("llama3", "llama3:latest"),
        ("llama3:latest", "llama3:latest"),
        ("qwen", "qwen"),
        ("qwen:latest", "qwen"),
        ("gemma:2b", "gemma:2b"),
    ]:
        record = await storage.models.resolve(asked)
        assert record is not None and record.name == expected, asked
    assert await storage.models.resolve("gemma") is None
    assert await storage.models.resolve("nothing") is None


async def test_resolve_by_display_name(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("llama3:latest"), entry("qwen3:8b")])
    await storage.models.set("qwen3:8b", display_name="gpt-4o")
    record = await storage.models.resolve("gpt-4o")
    assert record is not None and record.name == "qwen3:8b" and record.public_name == "gpt-4o"
    assert await storage.models.resolve("gpt-4o:latest") == record
    assert await storage.models.resolve("qwen3:8b") == record  # not hidden: the Ollama name still works


async def test_hidden_models_answer_only_to_their_display_name(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("qwen3:8b"), entry("phi:latest")])
    await storage.models.set("qwen3:8b", display_name="house-model", hidden=True)
    await storage.models.set("phi:latest", hidden=True)  # no display name: nothing to hide behind
    assert await storage.models.resolve("qwen3:8b") is None
    house = await storage.models.resolve("house-model")
    assert house is not None and house.name == "qwen3:8b" and not house.ollama_name_visible
    phi = await storage.models.resolve("phi")
    assert phi is not None and phi.name == "phi:latest"


async def test_a_display_name_beats_another_models_ollama_name(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("llama3:latest"), entry("qwen3:8b")])
    await storage.models.set("qwen3:8b", display_name="llama3")
    record = await storage.models.resolve("llama3")
    assert record is not None and record.name == "qwen3:8b"
    exact = await storage.models.resolve("llama3:latest")
    assert exact is not None and exact.name == "llama3:latest"  # the exact spelling beats the `:latest` twin


async def test_resolve_returns_disabled_and_missing_models_for_the_caller_to_judge(storage: Storage) -> None:
    await storage.models.sync_catalog([entry("a")])
    await storage.models.set("a", enabled=False)
    await storage.models.sync_catalog([])
    record = await storage.models.resolve("a")
    assert record is not None and not record.enabled and not record.present
