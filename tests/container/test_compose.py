"""compose.yaml: valid against the Compose specification, and the services each profile brings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.container.image import REPO, unavailable

COMPOSE = REPO / "compose.yaml"


def tool(name: str) -> str:
    """A command of the dev extras, next to this interpreter or on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        unavailable(f"{name} is missing (pip install -e '.[dev]')")
    assert found is not None
    return found


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the Compose specification's schema it ships."""
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def resolved(*profiles: str) -> dict[str, Any]:
    """`podman-compose config` with `profiles` enabled (no .env: the file's own defaults), as parsed YAML."""
    args = [tool("podman-compose"), "--env-file", "/dev/null", "-f", str(COMPOSE)]
    for profile in profiles:
        args += ["--profile", profile]
    result = subprocess.run([*args, "config"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = yaml.safe_load(result.stdout)
    return parsed


def test_compose_matches_the_specification() -> None:
    """The Compose specification's JSON schema accepts the file."""
    result = schema_check(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    """The schema check is really checking: an unknown service key fails."""
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    restart: unless-stopped\n", "    restrat: unless-stopped\n", 1))
    assert schema_check(broken).returncode != 0


def test_default_services_are_gateway_and_ollama() -> None:
    """Without profiles: the gateway (built from the Dockerfile) and Ollama; only the gateway is published."""
    config = resolved()
    services = config["services"]
    assert set(services) == {"gateway", "ollama"}
    gateway = services["gateway"]
    assert gateway["build"]["target"] == "gateway"
    assert gateway["environment"]["OLLAMA_URL"] == "http://ollama:11434"
    assert gateway["ports"] == ["127.0.0.1:11535:11535"]  # this machine only, unless GATEWAY_BIND says otherwise
    assert "gateway-data:/data" in gateway["volumes"]
    assert "ports" not in services["ollama"]


def test_profiles_add_redis_and_postgres() -> None:
    """Each profile adds its service; neither publishes a port."""
    assert set(resolved("redis")["services"]) == {"gateway", "ollama", "redis"}
    assert set(resolved("postgres")["services"]) == {"gateway", "ollama", "postgres"}
    services = resolved("redis", "postgres")["services"]
    assert set(services) == {"gateway", "ollama", "redis", "postgres"}
    assert "ports" not in services["redis"] and "ports" not in services["postgres"]


def test_gpu_reservation_is_there_to_uncomment() -> None:
    """The NVIDIA reservation for Ollama is written out, commented, under the ollama service."""
    text = COMPOSE.read_text()
    ollama = text.split("\n  ollama:\n", 1)[1].split("\n  redis:\n", 1)[0]
    assert "#           capabilities: [gpu]" in ollama
    assert "#         - driver: nvidia" in ollama
