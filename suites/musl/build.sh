#!/bin/bash
# Builds the musl test binary (suites/musl/pidfd-wrappers.c) with Debian's musl-gcc, static, so
# it runs on the host, in containers and in guests alike. Output: the cache, keyed by the hash of
# this script and the source, so every checkout and every CI job's copy of the repository finds it:
#   ${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pidfd-matrix}/musl/<key>/pidfd-wrappers
# Run by `make deps`, and by the harness the first time a run selects a musl case
# (harness/run/musl-helper.ts). Installs musl-tools when missing (root, or sudo). Under a flock: two
# runs wait for one build. `--path` prints where the binary goes (and builds nothing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
# Same bytes, same key: harness/run/musl-helper.ts hashes the same two files in the same order.
key=$(cat "$here/pidfd-wrappers.c" "$here/build.sh" | sha256sum | cut -c1-16)
dir="$CACHE/musl/$key"
bin="$dir/pidfd-wrappers"
if [ "${1:-}" = --path ]; then echo "$bin"; exit 0; fi
say() { echo "musl: $*"; }
mkdir -p "$CACHE/locks"
exec 9>"$CACHE/locks/musl-$key.lock"
flock 9
if [ -x "$bin" ]; then say "cached $bin: $("$bin")"; exit 0; fi
if ! command -v musl-gcc >/dev/null; then
  SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo -n)
  if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    echo "musl: musl-gcc is missing and installing musl-tools needs root: run 'sudo apt-get install musl-tools' (or make deps)" >&2; exit 1
  fi
  say "installing musl-tools (musl-gcc) with apt-get"
  apt() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  # A fresh machine may have no package lists yet: update once, then try again.
  apt install -y -qq musl-tools >/dev/null 2>&1 || { apt update -qq >/dev/null && apt install -y -qq musl-tools >/dev/null; } ||
    { echo "musl: could not apt-get install musl-tools: run 'apt-get update && apt-get install musl-tools' as root" >&2; exit 1; }
fi
version=$(dpkg-query -W -f '${Version}' musl-dev | sed 's/-[^-]*$//')
mkdir -p "$dir"
tmp=$(mktemp "$dir/.pidfd-wrappers.XXXXXX")
trap 'rm -f "$tmp"' EXIT
musl-gcc -static -O2 -Wall -DMUSL_VERSION="\"$version\"" -o "$tmp" "$here/pidfd-wrappers.c"
chmod 755 "$tmp"
mv "$tmp" "$bin"   # a rename: a reader sees the whole binary or none
say "built $bin (musl $version): $("$bin")"
