#!/bin/bash
# make boundary: ONE matrix run over every boundary kernel at hand, as the catalog record wants
# (README "Which claims were checked on real kernels"). Slow (21 kernels took 476-866 s of TCG guests here, README), never CI.
#   VANILLA  matrix file of the kernels below Debian's (default ../shared/kernels/vanilla.yaml beside
#            the checkout; when absent, kernels/boundary-mainline.yaml: the same versions as
#            Ubuntu's verified mainline builds; VANILLA= for none)
#   BUILT    your own matrix files of built kernels, space separated (`pidfd-matrix kernels build`
#            prints the entry for each tree it builds)
#   IDS      entries of kernels/matrix.yaml (default: the host and Debian's 5.10 to 7.3)
#   OUT      report dir (default reports/boundary); ACCEL (default tcg), JOBS (default 1)
#   SELINUX  1 (default): then the VANILLA and BUILT kernels again under SELinux enforcing, with
#            SELINUX_IDS (default: Debian's three SELinux cells), selinux_pidfd only, into OUT-selinux
set -uo pipefail
cd "$(dirname "$0")/.."
SHARED_VANILLA=../shared/kernels/vanilla.yaml
MAINLINE=kernels/boundary-mainline.yaml
if [ -z "${VANILLA+set}" ]; then
  VANILLA=$SHARED_VANILLA
  # Absent from a plain clone: the same versions as Ubuntu's mainline builds, fetched and verified.
  if [ ! -f "$VANILLA" ]; then
    echo "make boundary: no prebuilt vanilla kernels ($SHARED_VANILLA is absent from a plain clone): using" >&2
    echo "  $MAINLINE instead (Ubuntu's mainline builds of the same versions, CHECKSUMS.gpg checked with the" >&2
    echo "  pinned Kernel PPA key; README 'Kernel source kinds'). VANILLA= runs the host and Debian kernels only." >&2
    VANILLA=$MAINLINE
    # The key file is not shipped yet (kernels/keys/README.md): without it the mainline kind stops
    # before any download, so run what is at hand instead of failing the whole target. (With it
    # and no network, each mainline kernel is an error cell naming 'mirror:'; the rest still runs.)
    if [ ! -f kernels/keys/ubuntu-kernel-ppa.asc ]; then
      echo "make boundary: kernels/keys/ubuntu-kernel-ppa.asc is absent (kernels/keys/README.md says how to export it):" >&2
      echo "  no kernels below Debian's this run; the host and Debian kernels only." >&2
      VANILLA=
    fi
  fi
fi
BUILT=${BUILT-}
IDS=${IDS:-host,bullseye,bookworm,trixie,sid,trixie-backports}
OUT=${OUT:-reports/boundary}
PM="node bin/pidfd-matrix.js"

adds=()
for f in $VANILLA $BUILT; do
  if [ ! -f "$f" ]; then
    echo "make boundary: $f not found." >&2
    if [ "$f" = "$VANILLA" ]; then
      echo "  VANILLA names a matrix file of prebuilt vanilla kernels; fix the path, or VANILLA= for none." >&2
    else
      echo "  BUILT names matrix files of your built kernels; fix the path or leave it empty." >&2
    fi
    exit 2
  fi
  adds+=(--add "$f")
done
mkdir -p "$OUT"
$PM kernels compose "$IDS" "${adds[@]}" --out "$OUT/boundary.yaml" || exit 2
start=$(date +%s)
$PM matrix --matrix "$OUT/boundary.yaml" --accel "${ACCEL:-tcg}" --jobs "${JOBS:-1}" --out "$OUT"
rc=$?
echo "make boundary: $(( $(date +%s) - start ))s wall, exit $rc; reports in $OUT"

# The selinux_pidfd boundaries (5.3, 5.4, 5.6, 6.9) need SELinux cells on the kernels below
# Debian's: the same kernels again, enforcing, for that feature only (a minute or less each).
# SELINUX=0 skips it.
sel_out="$OUT-selinux"
sel_rc=0
if [ "${SELINUX:-1}" != 0 ] && [ ${#adds[@]} -gt 0 ]; then
  sels=()
  for f in $VANILLA $BUILT; do sels+=(--selinux "$f"); done
  mkdir -p "$sel_out"
  $PM kernels compose "${SELINUX_IDS:-bookworm-selinux,trixie-selinux,sid-selinux}" "${sels[@]}" --out "$sel_out/boundary.yaml" || exit 2
  start=$(date +%s)
  $PM matrix --matrix "$sel_out/boundary.yaml" --test selinux_pidfd --accel "${ACCEL:-tcg}" --jobs "${JOBS:-1}" --out "$sel_out"
  sel_rc=$?
  echo "make boundary (SELinux cells): $(( $(date +%s) - start ))s wall, exit $sel_rc; reports in $sel_out"
else
  [ "${SELINUX:-1}" != 0 ] && echo "make boundary: no SELinux pass: no vanilla or built kernels this run (Debian's SELinux cells are in make matrix)" >&2
  sel_out=
fi
echo "  record what the kernels answered: npx pidfd-matrix catalog --record $OUT $sel_out && npx pidfd-matrix catalog --table"
[ $rc -ne 0 ] && exit $rc
exit $sel_rc
