#!/usr/bin/env bash
# Installs what building a kernel from source needs (`pidfd-matrix kernels build`, `source:
# build` matrix entries, `pidfd-matrix bisect`), idempotently, on Debian 12 or newer. Not part
# of `make deps`: only people who build kernels need a compiler toolchain.
set -euo pipefail
say() { echo "kernels/build-setup: $*"; }
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
# ccache: a rebuild of the same sources (bisect steps, a second config) reuses the objects.
PKGS=(make gcc libc6-dev flex bison bc libelf-dev libssl-dev cpio kmod ccache xz-utils git)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  say "build tools present: ${PKGS[*]}"
  exit 0
fi
say "installing: ${missing[*]}"
apt_install() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
if ! apt_install; then
  say "apt-get update (package lists missing or stale)"
  "${SUDO[@]}" apt-get update -q
  apt_install
fi
