#!/usr/bin/env bash
# Build the DreamNet image with no registry: debootstrap a Debian release (trixie: Python 3.13), import the
# rootfs into podman as the base image, then `podman build` the Containerfile on it. The base (rootfs tarball
# and imported image) and podman's layer store are kept in DREAMNET_IMAGE_CACHE (default
# /var/cache/dreamnet-image), keyed by suite, so a second build reuses them. `make image` runs this.
#
#   DREAMNET_IMAGE        tag to build (default localhost/dreamnet:latest)
#   DREAMNET_IMAGE_SUITE  Debian suite to bootstrap (default trixie; it needs Python >= 3.12)
#   DREAMNET_IMAGE_CACHE  cache folder (default /var/cache/dreamnet-image)
set -euo pipefail
cd "$(dirname "$0")/.."

suite="${DREAMNET_IMAGE_SUITE:-trixie}"
tag="${DREAMNET_IMAGE:-localhost/dreamnet:latest}"
base="localhost/debian:$suite"

# The tools come from Debian; install what is missing and fail loudly when apt cannot.
missing=()
for tool in podman buildah debootstrap runc; do
  path="$(command -v "$tool" 2>/dev/null || true)"
  [ -n "$path" ] && [ -x "$path" ] || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]} (apt)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah debootstrap runc >/dev/null; }; then
    echo "make image: could not install podman, buildah, debootstrap and runc with apt-get; the image cannot be built" >&2
    exit 1
  fi
fi

# shellcheck source=containers/podman-env.sh
. containers/podman-env.sh
cache="$DREAMNET_IMAGE_CACHE"
rootfs_tar="$cache/debian-$suite.tar"

started=$SECONDS
if ! podman image exists "$base"; then
  if [ ! -s "$rootfs_tar" ]; then
    echo "== debootstrap --variant=minbase $suite (once; kept in $rootfs_tar)"
    work="$(mktemp -d "$cache/rootfs.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    if ! debootstrap --variant=minbase "$suite" "$work/rootfs" >"$work/debootstrap.log" 2>&1; then
      tail -20 "$work/debootstrap.log" >&2
      echo "make image: debootstrap of Debian $suite failed (log above)" >&2
      exit 1
    fi
    tar -C "$work/rootfs" -c . >"$rootfs_tar.part"
    mv "$rootfs_tar.part" "$rootfs_tar"
    rm -rf "$work"
    trap - EXIT
  fi
  echo "== podman import $rootfs_tar as $base"
  podman import --change 'CMD ["/bin/bash"]' "$rootfs_tar" "$base" >/dev/null
fi
echo "== base $base ready ($((SECONDS - started)) s)"

# HTTPS to the package index is trusted through the host's CA bundle; it is mounted for the build only.
ca_mount=()
for ca in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  if [ -s "$ca" ]; then
    ca_mount=(-v "$ca:/run/host-ca.crt:ro")
    break
  fi
done

started=$SECONDS
podman build --pull=never --network host "${ca_mount[@]}" \
  --format docker --build-arg "BASE=$base" -f Containerfile -t "$tag" .
# The previous build of the tag is now untagged; drop it so the cache holds one image (layers stay shared).
podman image prune -f >/dev/null || true
echo "== built $tag ($((SECONDS - started)) s)"
