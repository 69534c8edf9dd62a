"""Container health check: exit 0 when the gateway in this container answers GET /healthz with 200, else 1."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def probe_url() -> str:
    """The /healthz URL of this container's gateway, from the same HOST and PORT it listens on."""
    host = os.environ.get("HOST", "127.0.0.1")
    if host in ("", "0.0.0.0", "::", "[::]"):  # a wildcard bind answers on loopback
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{os.environ.get('PORT', '11535')}/healthz"


def main() -> int:
    """Probe once; print why it failed."""
    url = probe_url()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - our own http URL
            if response.status == 200:
                return 0
            print(f"unhealthy: {url} answered {response.status}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
