"""Building and inspecting the gateway image with podman, with the machine's own package-index settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BASE_SCRIPT = REPO / "scripts" / "build-base-image.sh"
TOOLS = ("podman", "mmdebstrap", "unshare", "chroot", "mount")


def unavailable(reason: str) -> None:
    """Fail under CI (the container test must run there), skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(f"container test needed under CI: {reason}")
    pytest.skip(reason)


def require_tools() -> None:
    """Root and the programs the image test drives, or fail/skip saying what is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        unavailable(f"missing {', '.join(missing)} (scripts/system-deps.sh installs them)")
    if os.geteuid() != 0:
        unavailable("needs root (podman mount, chroot, mount namespaces)")


def run(args: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, raising with its output when it fails."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def build_base_image() -> str:
    """The local Debian base image (built once, then cached by scripts/build-base-image.sh)."""
    return run(["bash", str(BASE_SCRIPT)], timeout=900).stdout.strip().splitlines()[-1]


def _pip_config(name: str) -> str | None:
    """A value of this machine's pip configuration (`pip config get global.NAME`), if set."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", f"global.{name}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    value = result.stdout.strip()
    return value if result.returncode == 0 and value else None


def pip_build_options() -> list[str]:
    """`podman build` options that hand the machine's package index, and the CA bundle pip trusts, to the build.

    Read at run time from PIP_* variables or pip's configuration, so no index host is written in the repository.
    Local `file://` indexes are left out: the build cannot see the host's files.
    """
    options: list[str] = []
    for name in ("index-url", "extra-index-url", "trusted-host"):
        env_name = "PIP_" + name.upper().replace("-", "_")
        value = os.environ.get(env_name) or _pip_config(name)
        if not value:
            continue
        kept = [part for part in value.split() if not part.startswith("file:")]
        if kept:
            options += ["--build-arg", f"{env_name}={' '.join(kept)}"]
    cert = os.environ.get("PIP_CERT") or _pip_config("cert")
    if cert and Path(cert).is_file():
        options += ["--secret", f"id=pip_cert,src={cert}"]
    return options


def build_image(base: str, tag: str, target: str = "gateway", build_args: dict[str, str] | None = None) -> None:
    """Build the repository's Dockerfile on `base` (layers cached between runs, so a rebuild is quick)."""
    extra = [option for name, value in (build_args or {}).items() for option in ("--build-arg", f"{name}={value}")]
    run(
        [
            "podman",
            "build",
            "--isolation",
            "chroot",
            "--format",
            "docker",
            "--layers",
            "--build-arg",
            f"BASE={base}",
            *extra,
            *pip_build_options(),
            "--target",
            target,
            "--tag",
            tag,
            str(REPO),
        ],
        timeout=1200,
    )


# The stand-in for ollama/ollama: `ollama serve` that idles until SIGTERM, and an empty library directory, where the
# real image keeps them. (The tests' fake Ollama, on the host's loopback, plays the server.)
OLLAMA_STAND_IN = r"""#!/bin/bash
[ "${1:-}" = serve ] || { echo "stand-in ollama: only 'serve'" >&2; exit 2; }
echo "stand-in ollama serving on $OLLAMA_HOST"
trap 'echo "stand-in ollama stopped"; kill "$idle"; exit 0' TERM
sleep infinity &
idle=$!
wait "$idle"
"""


def build_ollama_stand_in(base: str, tag: str, context: Path) -> None:
    """An image laid out like ollama/ollama (/usr/bin/ollama, /usr/lib/ollama) holding the stand-in."""
    (context / "ollama").write_text(OLLAMA_STAND_IN)
    (context / "ollama").chmod(0o755)
    (context / "Dockerfile").write_text(
        f"FROM {base}\nCOPY ollama /usr/bin/ollama\nRUN mkdir -p /usr/lib/ollama && touch /usr/lib/ollama/stand-in\n"
    )
    run(["podman", "build", "--isolation", "chroot", "--layers", "--tag", tag, str(context)], timeout=600)


@dataclass(frozen=True)
class ImageConfig:
    """What a container runtime reads from the image to start it."""

    user: str
    env: dict[str, str]
    workdir: str
    entrypoint: list[str]
    cmd: list[str]
    volumes: list[str]
    healthcheck: list[str]
    stop_signal: str

    @property
    def argv(self) -> list[str]:
        """Entrypoint followed by the default command."""
        return [*self.entrypoint, *self.cmd]


def inspect_image(tag: str) -> ImageConfig:
    """The runtime configuration of `tag` (`podman image inspect`)."""
    data = json.loads(run(["podman", "image", "inspect", tag], timeout=60).stdout)[0]
    config = data["Config"]
    health = data.get("Healthcheck") or config.get("Healthcheck") or {}
    return ImageConfig(
        user=config.get("User") or "",
        env=dict(item.split("=", 1) for item in config.get("Env") or []),
        workdir=config.get("WorkingDir") or "/",
        entrypoint=list(config.get("Entrypoint") or []),
        cmd=list(config.get("Cmd") or []),
        volumes=sorted(config.get("Volumes") or {}),
        healthcheck=list(health.get("Test") or []),
        stop_signal=config.get("StopSignal") or "",
    )
