"""Which Python a benchmark ran on, and how that interpreter was built.

The gateway's cost per request is Python bytecode, so the interpreter's build moves every timing: a CPython
built with profile-guided optimisation and link-time optimisation, and with libpython linked into the
executable (Debian's and Ubuntu's `python3`, the official `python` container images), runs the same code
clearly faster than a plain `./configure && make` build with a shared libpython (pyenv's default). Every
result file records this, so a figure is never compared with one from another kind of interpreter unawares.
`python -m bench.interpreter` prints it.
"""

from __future__ import annotations

import platform
import sys
import sysconfig
from pathlib import Path


def describe() -> dict[str, object]:
    """The running interpreter: path, version, and the build facts that move its speed."""
    configure = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    return {
        "executable": sys.executable,
        "base_executable": getattr(sys, "_base_executable", sys.executable),
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        # Debian and Ubuntu run PGO and LTO from their own build rules, so these two say nothing there.
        "configured_with_optimizations": "--enable-optimizations" in configure,
        "configured_with_lto": "--with-lto" in configure,
        "libpython_shared": _libpython_mapped(),
    }


def _libpython_mapped() -> bool | None:
    """Whether the interpreter runs from a shared libpython (position-independent, calls through the PLT)."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return None
    return any("/libpython" in line for line in maps.read_text().splitlines())


def summary(facts: dict[str, object] | None = None) -> str:
    """One line for a benchmark's output."""
    f = facts or describe()
    build = []
    if f["configured_with_optimizations"]:
        build.append("PGO")
    if f["configured_with_lto"]:
        build.append("LTO")
    if f["libpython_shared"] is not None:
        build.append("shared libpython" if f["libpython_shared"] else "static libpython")
    return f"{f['implementation']} {f['version']} at {f['base_executable']} ({', '.join(build) or 'build unknown'})"


if __name__ == "__main__":
    print(summary())
