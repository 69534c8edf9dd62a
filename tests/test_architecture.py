"""Imports flow inward: core imports nothing of ours; protocols only core; and so on (design.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ollama_gateway"

# package → the gateway packages (and top-level modules) it may import
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "protocols": {"core", "protocols", "errors"},
    "upstream": {"core", "upstream", "errors", "settings", "protocols"},
    "policy": {"core", "policy", "errors", "settings"},
    "tasks": {"core", "tasks", "errors", "settings"},
    "storage": {"core", "storage", "errors", "settings"},
    # The per-request glue between the stores, the policy and the upstream port; never HTTP, pages or the CLI.
    "service": {"core", "service", "errors", "settings", "policy", "storage", "tasks", "upstream", "metrics", "logs"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "ollama_gateway" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_inward(package: str) -> None:
    offenders = {
        str(path.relative_to(SRC)): sorted(_imports(path) - ALLOWED[package])
        for path in (SRC / package).rglob("*.py")
        if _imports(path) - ALLOWED[package]
    }
    assert offenders == {}


def test_no_module_is_a_god_module() -> None:
    sizes = {str(p.relative_to(SRC)): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 400} == {}
