"""Running an image's processes without a container runtime: its mounted filesystem, a chroot, namespaces.

A runtime cannot start here, so each process gets what one would give it: a private mount namespace and a PID
namespace (the process is PID 1, as in a container), /proc, a small /dev, a tmpfs /tmp, the volume directory
bound onto the image's volume path, the image's user (`chroot --userspec`), exactly the image's environment plus
the `-e` style overrides, and its working directory. The network is the host's, so loopback reaches the tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tests.container.image import ImageConfig, run

# $1 rootfs, $2 volume source, $3 volume path in the image, $4 uid:gid; the rest is the command in the chroot.
LAUNCH = r"""
set -eu
root=$1 volume_src=$2 volume_dst=$3 userspec=$4
shift 4
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,mode=0755 tmpfs "$root/dev"
for node in null zero full random urandom; do
  : > "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"
mount --bind "$volume_src" "$root$volume_dst"
exec chroot --userspec="$userspec" "$root" "$@"
"""


@contextmanager
def mounted_container(image: str) -> Iterator[Path]:
    """A container created from `image` (never started by a runtime) and its writable root filesystem."""
    cid = run(["podman", "create", "--no-healthcheck", "--image-volume", "ignore", image], timeout=120).stdout
    cid = cid.strip().splitlines()[-1]
    try:
        root = Path(run(["podman", "mount", cid], timeout=60).stdout.strip())
        yield root
    finally:
        subprocess.run(["podman", "umount", cid], capture_output=True, timeout=60, check=False)
        subprocess.run(["podman", "rm", "--force", cid], capture_output=True, timeout=60, check=False)


class ChrootRunner:
    """Starts commands of one image in its mounted root filesystem, as its user, with `volume` as its volume."""

    def __init__(self, root: Path, config: ImageConfig, volume: Path, env: dict[str, str]) -> None:
        if len(config.volumes) != 1:
            raise AssertionError(f"expected one image volume, got {config.volumes}")
        self.root = root
        self.config = config
        self.volume = volume
        self.env = {**config.env, **env}

    def argv(self, command: Sequence[str]) -> list[str]:
        """The host command line that runs `command` as the image would."""
        assignments = [f"{name}={value}" for name, value in self.env.items()]
        return [
            "unshare",
            "--mount",
            "--pid",
            "--fork",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            LAUNCH,
            "launch",
            str(self.root),
            str(self.volume),
            self.config.volumes[0],
            self.config.user,
            "/usr/bin/env",
            "-i",
            f"--chdir={self.config.workdir}",
            *assignments,
            *command,
        ]

    def run(self, command: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run `command` to completion; returns its output whatever its exit status."""
        return subprocess.run(self.argv(command), capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, command: Sequence[str], log: Path) -> ChrootProcess:
        """Start `command` in the background with its output going to `log`."""
        out = log.open("w")
        process = subprocess.Popen(self.argv(command), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        return ChrootProcess(process, out, log)


class ChrootProcess:
    """A process started by ChrootRunner: the `unshare` on the host and the image's process (PID 1 inside)."""

    def __init__(self, process: subprocess.Popen[bytes], out: IO[str], log: Path) -> None:
        self.process = process
        self._out = out
        self.log = log

    @property
    def pid(self) -> int:
        """The host PID of the image's process (the child of `unshare --fork`, PID 1 in its namespace)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        if not children:
            raise AssertionError(f"the process has not started or has ended; log:\n{self.output()}")
        return int(children[0])

    def output(self) -> str:
        """Everything the process printed so far (it writes to the log file directly)."""
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.process.poll() is None

    def terminate(self, timeout: float = 30) -> int:
        """Send SIGTERM to the image's process, as a runtime stopping the container would; returns the exit code."""
        os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Kill whatever is left (SIGKILL to PID 1 ends its whole namespace) and close the log."""
        if self.alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except (AssertionError, ProcessLookupError):
                self.process.kill()
            self.process.wait(30)
        self._out.close()


def wait_until(check: Callable[[], bool], what: str, process: ChrootProcess, deadline_seconds: float = 60) -> None:
    """Poll `check()` until it is true, the process dies, or the deadline passes."""
    deadline = time.monotonic() + deadline_seconds
    while not check():
        if not process.alive():
            raise AssertionError(
                f"the process exited ({process.process.returncode}) before {what}:\n{process.output()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}:\n{process.output()}")
        time.sleep(0.1)  # polling a condition with a deadline, not a fixed wait
