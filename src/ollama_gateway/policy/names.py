"""Model names as people type them: a bare family resolved to its only tag, unknown names, and suggestions.

Pure functions over plain name lists (the catalog's client-facing names), so they are table-tested alone.
`qwen3` means `qwen3:8b` when that is the only `qwen3:*` model; `x` and `x:latest` are always the same name,
so a family with a `latest` tag resolves to it by the ordinary rule before this one applies.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

SUGGESTION_LIMIT = 8


def family_of(name: str) -> str:
    """`qwen3:8b` → `qwen3`; a name without a tag is its own family."""
    return name.split(":", 1)[0]


def resolve_family(name: str, known: Iterable[str]) -> str | None:
    """The one known `name:<tag>` for a bare `name` (no tag given); None when there are none or several."""
    if ":" in name:
        return None
    tagged = {k for k in known if ":" in k and family_of(k) == name}
    return next(iter(tagged)) if len(tagged) == 1 else None


def suggestions(name: str, known: Iterable[str], limit: int = SUGGESTION_LIMIT) -> list[str]:
    """Names worth offering instead of `name`: the same family first, then close spellings, then the rest."""
    names = sorted(set(known))
    family = family_of(name).lower()
    ranked = [k for k in names if family_of(k).lower() == family]
    ranked += [k for k in difflib.get_close_matches(name, names, n=limit, cutoff=0.5) if k not in ranked]
    ranked += [k for k in names if k not in ranked]
    return ranked[:limit]


def not_found_message(name: str, known: Collection[str]) -> str:
    """`model 'x' not found`, followed by the names that do exist (a few, most similar first)."""
    if not known:
        return f"model '{name}' not found; no models are available (is Ollama reachable and has it any models?)"
    offered = suggestions(name, known)
    more = f" and {len(known) - len(offered)} more (GET /v1/models)" if len(known) > len(offered) else ""
    return f"model '{name}' not found; available: {', '.join(offered)}{more}"


@dataclass(slots=True)
class CheckedNames:
    """Names checked against the catalog: what to store, what was resolved, and what matched nothing."""

    names: list[str] = field(default_factory=list)
    resolved: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def check_names(requested: Sequence[str], known: Collection[str]) -> CheckedNames:
    """Match each requested name exactly (`x` ≡ `x:latest`), else as a bare family with one tag, else unknown."""
    spelled = set(known) | {k.removesuffix(":latest") for k in known} | {k + ":latest" for k in known if ":" not in k}
    checked = CheckedNames()
    for name in requested:
        if name in spelled:
            checked.names.append(name)
        elif (full := resolve_family(name, known)) is not None:
            checked.names.append(full)
            checked.resolved[name] = full
        else:
            checked.names.append(name)
            checked.unknown.append(name)
    return checked
