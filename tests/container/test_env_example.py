""".env.example lists every gateway setting, and nothing that is neither a setting nor a compose variable."""

from __future__ import annotations

import re

from pydantic import AliasChoices

from ollama_gateway.settings import Settings
from tests.container.image import REPO

ENV_EXAMPLE = REPO / ".env.example"
COMPOSE = REPO / "compose.yaml"


def setting_names() -> set[str]:
    """The environment variable of each Settings field (its first alias, else its name)."""
    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
            names.add(alias.choices[0].upper())
        else:
            names.add(field_name.upper())
    return names


def listed_names() -> set[str]:
    """Every `NAME=` line of .env.example, commented out or not."""
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))


def compose_variables() -> set[str]:
    """Variables compose.yaml interpolates, plus COMPOSE_PROFILES, which compose reads itself."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text())) | {"COMPOSE_PROFILES"}


def test_every_setting_is_listed() -> None:
    """A setting added to settings.py needs its line in .env.example."""
    missing = setting_names() - listed_names()
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_every_listed_name_is_known() -> None:
    """No stale or misspelt line: each is a setting or a compose variable."""
    unknown = listed_names() - setting_names() - compose_variables()
    assert not unknown, f"neither a setting nor a compose variable: {sorted(unknown)}"


def test_nothing_is_set_by_default() -> None:
    """Copied as it is, .env.example changes nothing (and holds no secret): every line is a comment."""
    lines = [line for line in ENV_EXAMPLE.read_text().splitlines() if line.strip()]
    assert all(line.startswith("#") for line in lines)
