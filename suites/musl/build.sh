#!/bin/bash
# Builds the musl test binary (suites/musl/pidfd-wrappers.c) with Debian's musl-gcc, static, so
# it runs on the host, in containers and in guests alike. Output: the cache, keyed by the hash of
# this script and the source, so every checkout and every CI job's copy of the repository finds it:
#   ${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pidfd-matrix}/musl/<key>/pidfd-wrappers
# Run by `make deps`, and by the harness the first time a run selects a musl case
# (harness/run/musl-helper.ts). Installs musl-tools when missing (root, or sudo). Under a flock: two
# runs wait for one build. `--path` prints where the binary goes (and builds nothing).
#
# PIDFD_MATRIX_MUSL_ARCH=arm64 builds the arm64 binary of an arm64 guest instead, into
# .../musl/<key>/arm64/pidfd-wrappers: Debian's cross compiler (gcc-aarch64-linux-gnu, installed
# when missing) with Debian's arm64 musl-dev, unpacked by the harness (never installed: a foreign
# architecture's package) into PIDFD_MATRIX_MUSL_SYSROOT, whose musl-gcc.specs is pointed there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
# Same bytes, same key: harness/run/musl-helper.ts hashes the same two files in the same order.
key=$(cat "$here/pidfd-wrappers.c" "$here/build.sh" | sha256sum | cut -c1-16)
arch="${PIDFD_MATRIX_MUSL_ARCH:-x86_64}"
case "$arch" in
  x86_64) dir="$CACHE/musl/$key" ;;
  arm64) dir="$CACHE/musl/$key/arm64" ;;
  *) echo "musl: PIDFD_MATRIX_MUSL_ARCH=$arch is not x86_64 or arm64" >&2; exit 2 ;;
esac
bin="$dir/pidfd-wrappers"
if [ "${1:-}" = --path ]; then echo "$bin"; exit 0; fi
say() { echo "musl: $*"; }
# The binary's own answer when this machine can run it (an arm64 one through qemu-user's binfmt).
answer() { "$bin" 2>/dev/null || echo "not run here: $(file -b "$bin" | cut -d, -f1-2)"; }
mkdir -p "$CACHE/locks"
exec 9>"$CACHE/locks/musl-$key-$arch.lock"
flock 9
if [ -x "$bin" ]; then say "cached $bin: $(answer)"; exit 0; fi
SUDO=(); [ "$(id -u)" = 0 ] || SUDO=(sudo -n)
# Installs a Debian package that provides the command $1, or says how.
need() {
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    echo "musl: $1 is missing and installing $2 needs root: run 'sudo apt-get install $2' (or make deps)" >&2; exit 1
  fi
  say "installing $2 ($1) with apt-get"
  apt() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=300 "$@"; }
  # A fresh machine may have no package lists yet: update once, then try again.
  apt install -y -qq "$2" >/dev/null 2>&1 || { apt update -qq >/dev/null && apt install -y -qq "$2" >/dev/null; } ||
    { echo "musl: could not apt-get install $2: run 'apt-get update && apt-get install $2' as root" >&2; exit 1; }
}
mkdir -p "$dir"
tmp=$(mktemp "$dir/.pidfd-wrappers.XXXXXX")
specs=$(mktemp)
trap 'rm -f "$tmp" "$specs"' EXIT
if [ "$arch" = x86_64 ]; then
  need musl-gcc musl-tools
  version=$(dpkg-query -W -f '${Version}' musl-dev | sed 's/-[^-]*$//')
  musl-gcc -static -O2 -Wall -DMUSL_VERSION="\"$version\"" -o "$tmp" "$here/pidfd-wrappers.c"
else
  sys="${PIDFD_MATRIX_MUSL_SYSROOT:-}"
  lib="$sys/usr/lib/aarch64-linux-musl"
  if [ -z "$sys" ] || [ ! -f "$lib/musl-gcc.specs" ]; then
    echo "musl: PIDFD_MATRIX_MUSL_SYSROOT must be Debian's arm64 musl-dev unpacked (the harness fetches it: run a matrix with an arm64 cell)" >&2; exit 1
  fi
  need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
  # "musl (1.2.5-3.1~deb13u1) ...": the upstream version, as musl-dev's dpkg version gives it for x86_64.
  version=$(zcat "$sys/usr/share/doc/musl-dev/changelog.Debian.gz" | sed -n '1s/^musl (\([^)]*\)).*/\1/p' | sed 's/-[^-]*$//')
  # Debian's musl-gcc.specs names /usr/lib/aarch64-linux-musl and /usr/include/...: the unpacked copies instead.
  sed -e "s#/usr/lib/aarch64-linux-musl#$lib#g" -e "s#/usr/include/aarch64-linux-musl#$sys/usr/include/aarch64-linux-musl#g" \
    "$lib/musl-gcc.specs" > "$specs"
  aarch64-linux-gnu-gcc -specs="$specs" -static -O2 -Wall -DMUSL_VERSION="\"$version\"" -o "$tmp" "$here/pidfd-wrappers.c"
fi
chmod 755 "$tmp"
mv "$tmp" "$bin"   # a rename: a reader sees the whole binary or none
say "built $bin (musl $version, $arch): $(answer)"
