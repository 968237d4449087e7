#!/usr/bin/env bash
# The kernel's own KTAP parser (tools/testing/kunit/kunit.py) as an independent consumer of our
# KTAP output: the self-tests check that its counts match our JUnit. It comes from Debian's
# linux-source-6.1 package (bookworm main); only tools/testing/kunit is unpacked, into
# ~/.cache/pidfd-matrix/tools/linux-kunit/tools/testing/kunit (kunit.py finds the kernel tree
# root from its own path and exits 1 unless that path contains tools/testing/kunit).
# Nothing is installed. Idempotent.
set -euo pipefail
cache="${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix/tools"
dest="$cache/linux-kunit/tools/testing/kunit"
if [ -x "$dest/kunit.py" ] && [ -f "$dest/SOURCE" ]; then
  echo "scripts/setup/kunit.sh: kunit.py present ($(cat "$dest/SOURCE"))"
  exit 0
fi
command -v python3 >/dev/null || { echo "scripts/setup/kunit.sh: python3 is missing (apt-get install python3)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"   # apt-get download drops privileges to _apt when it can write here
echo "scripts/setup/kunit.sh: fetching linux-source-6.1 for tools/testing/kunit (about 140 MB, once)"
( cd "$work" && apt-get download -q linux-source-6.1 2>&1 | grep -v '^W: Download is performed unsandboxed' ) || {
  echo "scripts/setup/kunit.sh: apt-get download linux-source-6.1 failed; run 'apt-get update' (needs Debian 12 sources)" >&2; exit 1; }
deb=$(ls "$work"/linux-source-6.1_*.deb)
mkdir -p "$work/x"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.1.tar.xz | xz -dc | tar -x -C "$work/x" --wildcards '*/tools/testing/kunit/*'
rm -rf "$dest" && mkdir -p "$(dirname "$dest")"
mv "$work"/x/*/tools/testing/kunit "$dest"
basename "$deb" .deb > "$dest/SOURCE"
echo "scripts/setup/kunit.sh: kunit.py from $(cat "$dest/SOURCE") in $dest"
