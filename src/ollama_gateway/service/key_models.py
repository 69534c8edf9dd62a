"""A key's model list checked against the catalog when it is created or changed (CLI and admin API alike)."""

from __future__ import annotations

from collections.abc import Sequence

from ollama_gateway.errors import InvalidRequestError
from ollama_gateway.policy.names import CheckedNames, check_names, suggestions
from ollama_gateway.service.catalog import servable_names
from ollama_gateway.storage.models import ModelStore


async def check_key_models(store: ModelStore, requested: Sequence[str], *, allow_unknown: bool) -> CheckedNames:
    """Each name matched to a catalog model (a bare family to its only tag); unknown names are a 400 unless allowed."""
    known = servable_names([r for r in await store.list() if r.present])
    checked = check_names(requested, known)
    if checked.unknown and not allow_unknown:
        listed = ", ".join(f"'{n}'" for n in checked.unknown)
        if known:
            hint = f"known models: {', '.join(suggestions(checked.unknown[0], known))}"
        else:
            hint = "the catalog is empty (is Ollama reachable? try `ollama-gateway models refresh`)"
        raise InvalidRequestError(
            f"no model named {listed}; {hint}. Pull it first, or allow names not pulled yet "
            '(--allow-unknown / "allow_unknown": true)',
            param="models",
        )
    return checked
