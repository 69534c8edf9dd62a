#!/usr/bin/env bash
# Installs the system programs the test suite starts or drives, when missing: redis-server and PostgreSQL
# (throwaway servers started by the fixtures), node and npm (they install the agent CLIs of tests/clients),
# Debian's Chromium (browser tests, driven by Playwright; never `playwright install`, which downloads a
# browser), podman and mmdebstrap (tests/container builds the image on a base made from Debian packages).
# Needs root and apt; otherwise it says what is missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need+=(chromium)
# node and npm install the pinned agent CLIs (tests/clients) from the npm registry.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
[ "${#need[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
else
  echo "missing system packages: ${need[*]} (install them; tests that need them skip, or fail under CI=true)" >&2
fi
