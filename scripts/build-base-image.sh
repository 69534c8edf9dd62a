#!/usr/bin/env bash
# Builds a local Python base image for the Dockerfile's `ARG BASE` from Debian packages, without any image
# registry: mmdebstrap (minbase + python3) into a tarball, then `podman import`. Prints the image name on stdout;
# everything else goes to stderr.
#
# The suite and the apt sources are the host's own (/etc/os-release, /etc/apt/sources.list*), so no mirror host
# is written here. Tarball and image are cached, keyed by suite, architecture, package list and options:
#   tarball  $BASE_CACHE_DIR/base-<key>.tar   (default /var/tmp/ollama-gateway-base; rebuilt after 30 days so
#                                              security updates arrive)
#   image    localhost/ollama-gateway-base:<key>
# Usage: scripts/build-base-image.sh [--rebuild]
set -euo pipefail

PACKAGES=(python3 python3-venv passwd ca-certificates)
# Documentation and translations are dead weight in a server image.
DPKG_OPTS=(
  'path-exclude=/usr/share/man/*'
  'path-exclude=/usr/share/doc/*'
  'path-include=/usr/share/doc/*/copyright'
  'path-exclude=/usr/share/locale/*'
  'path-exclude=/usr/share/info/*'
)
FORMAT_VERSION=1  # bump when the way the image is made changes
MAX_AGE_DAYS=30
IMAGE_REPO=localhost/ollama-gateway-base
CACHE_DIR=${BASE_CACHE_DIR:-/var/tmp/ollama-gateway-base}

rebuild=false
[ "${1:-}" = "--rebuild" ] && rebuild=true

log() { echo "build-base-image: $*" >&2; }

for tool in mmdebstrap podman sha256sum flock; do
  command -v "$tool" >/dev/null 2>&1 || { log "missing $tool (scripts/system-deps.sh installs it)"; exit 2; }
done

# shellcheck source=/dev/null
suite=${BASE_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
[ -n "$suite" ] || { log "cannot tell the Debian suite from /etc/os-release; set BASE_SUITE"; exit 2; }
arch=$(dpkg --print-architecture)

# The host's apt sources for this suite (one-line or deb822 files), handed to mmdebstrap as its mirror list.
sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$file" ] || continue
  grep -Eq "^[^#]*\b${suite}\b" "$file" || continue
  sources+=("$file")
done
[ "${#sources[@]}" -gt 0 ] || { log "no apt source for $suite under /etc/apt"; exit 2; }

key=$(printf '%s\n' "$FORMAT_VERSION" "$suite" "$arch" "${PACKAGES[@]}" "${DPKG_OPTS[@]}" | sha256sum | cut -c1-12)
image="$IMAGE_REPO:$key"
tarball="$CACHE_DIR/base-$key.tar"
mkdir -p "$CACHE_DIR"

# One builder at a time per cache directory; the others wait and then find the result.
exec 9>"$CACHE_DIR/.lock"
flock 9

if [ -f "$tarball" ] && { $rebuild || [ -n "$(find "$tarball" -mtime +"$MAX_AGE_DAYS")" ]; }; then
  log "dropping the cached $tarball"
  rm -f "$tarball"
  podman image rm --force "$image" >/dev/null 2>&1 || true
fi

if podman image exists "$image"; then
  echo "$image"
  exit 0
fi

if [ ! -f "$tarball" ]; then
  log "mmdebstrap $suite ($arch) with ${PACKAGES[*]} (about a minute)"
  partial="$tarball.partial.$$"
  trap 'rm -f "$partial"' EXIT
  dpkg_args=()
  for opt in "${DPKG_OPTS[@]}"; do dpkg_args+=("--dpkgopt=$opt"); done
  include=$(IFS=,; echo "${PACKAGES[*]}")
  mmdebstrap --quiet --variant=minbase --format=tar --include="$include" "${dpkg_args[@]}" \
    "$suite" "$partial" "${sources[@]}" >&2
  mv "$partial" "$tarball"
  trap - EXIT
fi

log "podman import $tarball as $image"
podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' \
  --message "ollama-gateway test base: debian $suite minbase + ${PACKAGES[*]}" \
  "$tarball" "$image" >/dev/null
echo "$image"
