#!/bin/bash
# Builds dist/musl/pidfd-wrappers (suites/musl/pidfd-wrappers.c) with Debian's musl-gcc, static,
# so it runs on the host, in containers and in guests alike. Run by `make deps`; installs
# musl-tools when missing (root). The binary is build output: never committed.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "musl: $*"; }
if ! command -v musl-gcc >/dev/null; then
  say "installing musl-tools (musl-gcc)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi
version=$(dpkg-query -W -f '${Version}' musl-dev | sed 's/-[^-]*$//')
mkdir -p dist/musl
musl-gcc -static -O2 -Wall -DMUSL_VERSION="\"$version\"" -o dist/musl/pidfd-wrappers.tmp suites/musl/pidfd-wrappers.c
mv dist/musl/pidfd-wrappers.tmp dist/musl/pidfd-wrappers
say "built dist/musl/pidfd-wrappers (musl $version): $(dist/musl/pidfd-wrappers)"
