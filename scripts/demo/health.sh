#!/usr/bin/env bash
# Kernel health on a real guest with a real WARN (`make health-demo`; not a CI step: it
# downloads ~14 MB of Debian kernel headers and boots one TCG guest, about 3 minutes).
#
# Debian kernels have no lkdtm and no fault injection, so a stock kernel is made to WARN by
# an unsigned out-of-tree module whose init does WARN_ON_ONCE(1) (vm/fixtures/kmod/), built
# against the exact headers of the bookworm kernel the matrix boots. The suite's test-only
# fault hook (suites/lib/fault.ts) loads it while pidfd_getfd/self_cloexec runs: that case
# must come out as an `error` carrying the WARNING and the new taint (W, O, E) in JUnit, and
# the run must exit 1. Wrap it in the guest lock on a shared machine:
#   flock /tmp/pidfd-guest.lock make health-demo
set -euo pipefail
cd "$(dirname "$0")/../.."
PM="node bin/pidfd-matrix.js"
CASE=${HEALTH_DEMO_CASE:-pidfd_getfd/self_cloexec}
OUT=${HEALTH_DEMO_OUT:-reports/health-demo}
work=${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix/health-demo
mkdir -p "$work"

# "bookworm: cached 6.1.0-50-amd64 (debian bookworm linux-image-6.1.0-50-amd64=6.1.176-1) in 6.4s -> ..."
line=$($PM kernels fetch bookworm | tail -n 1)
rel=$(echo "$line" | sed -n 's/^bookworm: [a-z]* \([^ ]*\) .*/\1/p')     # 6.1.0-50-amd64
ver=$(echo "$line" | sed -n 's/.*=\([^)]*\)).*/\1/p')                   # 6.1.176-1
[ -n "$rel" ] && [ -n "$ver" ] || { echo "health-demo: cannot read the bookworm kernel from: $line" >&2; exit 1; }
flavour=${rel##*-}; abi=${rel%-"$flavour"}                           # amd64, 6.1.0-50
series=$(echo "$abi" | cut -d. -f1,2)                                 # 6.1
echo "health-demo: kernel $rel ($ver), headers from Debian"
if [ ! -d "$work/root/usr/src/linux-headers-$rel" ]; then
  (cd "$work" && apt-get download "linux-headers-$rel=$ver" "linux-headers-$abi-common=$ver" "linux-kbuild-$series=$ver")
  for d in "$work"/*.deb; do dpkg -x "$d" "$work/root"; done
  # The headers' Makefile includes the -common tree by its installed path: point it here.
  sed -i "s#/usr/src/#$work/root/usr/src/#" "$work/root/usr/src/linux-headers-$rel/Makefile"
fi
rm -rf "$work/mod" && mkdir -p "$work/mod"
cp vm/fixtures/kmod/pidfd_matrix_warn.c vm/fixtures/kmod/Kbuild "$work/mod/"
nice -n 19 make -s -C "$work/root/usr/src/linux-headers-$rel" M="$work/mod" modules
ko=$work/mod/pidfd_matrix_warn.ko
echo "health-demo: built $ko; loading it in the guest while $CASE runs"

set +e
PIDFD_MATRIX_FAULT_CASE=$CASE PIDFD_MATRIX_FAULT_CMD="/usr/sbin/insmod $ko" \
  $PM matrix --kernels bookworm --accel tcg --test "${CASE%%/*}" --out "$OUT"
rc=$?
set -e
echo "health-demo: matrix exited $rc (1 expected: the WARN makes $CASE an error)"
grep -A3 "name=\"$CASE\"" "$OUT/junit.xml" | head -n 4
[ "$rc" -eq 1 ] && grep -q "<error message=\"kernel health: warning: WARNING: CPU:" "$OUT/junit.xml"
