"""docker/with-ollama.sh, the with-ollama target's entrypoint, driven on the host with stand-in programs.

The target itself needs the ollama/ollama image, which no registry here serves; its supervisor is tested here:
both programs start, Ollama only on loopback, SIGTERM reaches both and ends it with 0, one dying stops the other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.container.image import REPO

ENTRYPOINT = REPO / "docker" / "with-ollama.sh"

# Records how it was started (once its SIGTERM trap is set), then idles until SIGTERM (recorded); or, with
# $STUB_<NAME>_EXIT, exits with that status as soon as the program named by $STUB_<NAME>_AFTER has started.
STUB = r"""#!/bin/bash
name=$(basename "$0")
prefix="STUB_${name//-/_}"; prefix=${prefix^^}
exit_var="${prefix}_EXIT" after_var="${prefix}_AFTER"
trap 'echo term > "$STUB_DIR/$name.stopped"; kill "$idle" 2>/dev/null; exit 0' TERM
echo "OLLAMA_HOST=$OLLAMA_HOST args=$*" > "$STUB_DIR/$name.started"
if [ -n "${!exit_var:-}" ]; then
  for _ in $(seq 2000); do [ -e "$STUB_DIR/${!after_var}.started" ] && break; sleep 0.01; done
  exit "${!exit_var}"
fi
sleep infinity &
idle=$!
wait "$idle"
"""


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    """A directory with stand-in `ollama` and `ollama-gateway` programs."""
    for name in ("ollama", "ollama-gateway"):
        path = tmp_path / name
        path.write_text(STUB)
        path.chmod(0o755)
    return tmp_path


def start(stubs: Path, **env: str) -> subprocess.Popen[str]:
    """Run the entrypoint with the stand-ins first on PATH."""
    environment = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "STUB_DIR": str(stubs), **env}
    environment.pop("OLLAMA_HOST", None)
    environment.update(env)
    return subprocess.Popen(
        ["bash", str(ENTRYPOINT), "serve"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def finish(process: subprocess.Popen[str]) -> str:
    """Kill the entrypoint if it still runs; collect its output (closing the pipe)."""
    if process.poll() is None:
        process.kill()
    output, _ = process.communicate(timeout=20)
    return output


def wait_for(check: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    """Poll `check()` with a deadline while the entrypoint runs."""
    deadline = time.monotonic() + 20
    while not check():
        assert process.poll() is None, f"entrypoint exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)  # polling a condition with a deadline, not a fixed wait


def test_sigterm_stops_both_and_exits_zero(stubs: Path) -> None:
    """Ollama on 127.0.0.1:11434 and the gateway with the image's command; SIGTERM reaches both; exit 0."""
    process = start(stubs)
    try:
        wait_for(
            lambda: (stubs / "ollama.started").exists() and (stubs / "ollama-gateway.started").exists(),
            process,
            "both programs to start",
        )
        assert (stubs / "ollama.started").read_text().strip() == "OLLAMA_HOST=127.0.0.1:11434 args=serve"
        assert (stubs / "ollama-gateway.started").read_text().strip() == "OLLAMA_HOST=127.0.0.1:11434 args=serve"
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        finish(process)
    assert (stubs / "ollama.stopped").read_text().strip() == "term"
    assert (stubs / "ollama-gateway.stopped").read_text().strip() == "term"


def test_ollama_dying_stops_the_gateway(stubs: Path) -> None:
    """When Ollama exits, the gateway is stopped and the container ends with Ollama's status."""
    process = start(stubs, STUB_OLLAMA_EXIT="3", STUB_OLLAMA_AFTER="ollama-gateway")
    try:
        assert process.wait(20) == 3
    finally:
        finish(process)
    assert (stubs / "ollama-gateway.stopped").read_text().strip() == "term"


def test_refuses_ollama_on_other_interfaces(stubs: Path) -> None:
    """Ollama must stay on loopback: OLLAMA_HOST=0.0.0.0 is refused before anything starts."""
    process = start(stubs, OLLAMA_HOST="0.0.0.0:11434")
    output, _ = process.communicate(timeout=20)
    assert process.returncode == 64
    assert "loopback" in output
    assert not (stubs / "ollama.started").exists()
