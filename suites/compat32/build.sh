#!/bin/bash
# Builds the i386 compat probe helper (suites/compat32/pidfd-compat32.c) with Debian's gcc -m32,
# static, so it runs as a 32-bit process on any x86_64 kernel with IA32 emulation: on the host,
# in containers and in guests, whatever root they have. Output: the cache, keyed by the hash of
# this script and the source (harness/run/compat32-helper.ts hashes the same two files):
#   ${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pidfd-matrix}/compat32/<key>/pidfd-compat32
# Run by the harness the first time a run selects a compat32 case. Installs gcc-N-multilib (the
# i386 libc.a comes with it, in libc6-dev-i386) when gcc cannot link a static -m32 program
# (root, or sudo). Not the gcc-multilib metapackage: Debian makes it conflict with the cross
# compilers (apt removes gcc-aarch64-linux-gnu, which `make build-deps` installs for arm64
# kernels); it only adds the /usr/include/asm link, which the build makes itself (below).
# Under a flock: two runs wait for one build. `--path` prints where the binary goes (and builds
# nothing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
key=$(cat "$here/pidfd-compat32.c" "$here/build.sh" | sha256sum | cut -c1-16)
dir="$CACHE/compat32/$key"
bin="$dir/pidfd-compat32"
if [ "${1:-}" = --path ]; then echo "$bin"; exit 0; fi
say() { echo "compat32: $*"; }
mkdir -p "$CACHE/locks"
exec 9>"$CACHE/locks/compat32-$key.lock"
flock 9
if [ -x "$bin" ]; then say "cached $bin"; exit 0; fi
mkdir -p "$dir"
tmp=$(mktemp "$dir/.pidfd-compat32.XXXXXX")
inc=$(mktemp -d)
trap 'rm -f "$tmp"; rm -rf "$inc"' EXIT
# <sys/syscall.h> includes <asm/unistd.h>: -m32 looks for it under /usr/include (no multiarch dir
# for i386 here); the x86 uapi asm headers serve -m32 and -m64 alike.
ln -s /usr/include/x86_64-linux-gnu/asm "$inc/asm"
build() { gcc -m32 -static -O2 -Wall -Werror -idirafter "$inc" -o "$tmp" "$here/pidfd-compat32.c"; }
multilib="gcc-$(gcc -dumpversion 2>/dev/null | cut -d. -f1)-multilib"
if ! build 2>/dev/null; then
  SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo -n)
  if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    echo "compat32: gcc cannot build i386 programs and installing $multilib needs root: run 'sudo apt-get install $multilib'" >&2; exit 1
  fi
  say "installing $multilib (gcc -m32, the i386 libc.a) with apt-get"
  apt() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  # A fresh machine may have no package lists yet: update once, then try again.
  apt install -y -qq "$multilib" >/dev/null 2>&1 || { apt update -qq >/dev/null && apt install -y -qq "$multilib" >/dev/null; } ||
    { echo "compat32: could not apt-get install $multilib: run 'apt-get update && apt-get install $multilib' as root" >&2; exit 1; }
  build
fi
chmod 755 "$tmp"
mv "$tmp" "$bin"   # a rename: a reader sees the whole binary or none
say "built $bin ($(file -b "$bin" 2>/dev/null | cut -d, -f1-2 || echo i386))"
