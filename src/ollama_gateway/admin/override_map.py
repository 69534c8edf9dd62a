"""Overrides as one JSON document keyed by model (Ollama2OpenAI's format), for export and atomic import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ollama_gateway.policy.overrides import validate_override_map
from ollama_gateway.storage.models import ModelRecord, ModelStore, name_variants


def export_map(records: Sequence[ModelRecord]) -> dict[str, dict[str, Any]]:
    """`{ollama name: overrides}` for every model that has any, sorted by name."""
    return {r.name: dict(r.overrides) for r in sorted(records, key=lambda r: r.name) if r.overrides}


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: the models set (by Ollama name), and whether the others were cleared."""

    applied: dict[str, dict[str, Any]]
    cleared_others: bool


def canonical_names(document: dict[str, dict[str, Any]], records: Sequence[ModelRecord]) -> dict[str, dict[str, Any]]:
    """Keys given as display names (or without `:latest`) turned into the Ollama names they mean."""
    aliases: dict[str, str] = {}
    for record in records:
        for name in (record.name, record.display_name):
            for variant in name_variants(name) if name else ():
                aliases.setdefault(variant, record.name)
    return {aliases.get(model, model): overrides for model, overrides in document.items()}


async def import_map(store: ModelStore, raw: Any, *, replace: bool) -> ImportResult:
    """Validate the whole document first (a 400 changes nothing), then apply it in one transaction."""
    document = canonical_names(validate_override_map(raw), await store.list())
    await store.replace_overrides(document, clear_others=replace)
    return ImportResult(applied=document, cleared_others=replace)
