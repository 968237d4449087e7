#!/usr/bin/env bash
# Installs what building a kernel from source needs (`pidfd-matrix kernels build`, `source:
# build` matrix entries, `pidfd-matrix bisect`), idempotently, on Debian 12 or newer. Not part
# of `make deps`: only people who build kernels need a compiler toolchain.
set -euo pipefail
say() { echo "setup/kernel-build: $*"; }
# shellcheck source=scripts/setup/apt-install.sh
. "$(dirname "$0")/apt-install.sh"
# ccache: a rebuild of the same sources (bisect steps, a second config) reuses the objects.
apt_install_missing "build tools" make gcc libc6-dev flex bison bc libelf-dev libssl-dev cpio kmod ccache xz-utils git
# `kernels build --arch arm64`: Debian's cross compiler (aarch64-linux-gnu-gcc and its binutils).
apt_install_missing "arm64 cross compiler" gcc-aarch64-linux-gnu
