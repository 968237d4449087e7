#!/bin/bash
# make boundary: ONE matrix run over every boundary kernel at hand, as the catalog record wants
# (README "Which claims were checked on real kernels"). Slow (21 kernels took 476-866 s of TCG guests here, README), never CI.
#   VANILLA  matrix file of prebuilt vanilla kernels (default ../shared/kernels/vanilla.yaml beside
#            the checkout, skipped with a note when absent; VANILLA= for none)
#   BUILT    your own matrix files of built kernels, space separated (`pidfd-matrix kernels build`
#            prints the entry for each tree it builds)
#   IDS      entries of kernels/matrix.yaml (default: the host and Debian's 5.10 to 7.3)
#   OUT      report dir (default reports/boundary); ACCEL (default tcg), JOBS (default 1)
set -uo pipefail
cd "$(dirname "$0")/.."
SHARED_VANILLA=../shared/kernels/vanilla.yaml
if [ -z "${VANILLA+set}" ]; then
  VANILLA=$SHARED_VANILLA
  # Absent from a plain clone: the run goes on with the host and Debian kernels (and BUILT).
  if [ ! -f "$VANILLA" ]; then
    echo "make boundary: no prebuilt vanilla kernels ($SHARED_VANILLA is absent from a plain clone): running the" >&2
    echo "  host and Debian kernels only. Older boundaries need your own builds (README 'Getting the boundary" >&2
    echo "  kernels': kernel.org tarball, 'npx pidfd-matrix kernels build DIR'), listed in a matrix file of" >&2
    echo "  'source: path' entries: make boundary BUILT=my-kernels.yaml" >&2
    VANILLA=
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
echo "  record what the kernels answered: npx pidfd-matrix catalog --record $OUT && npx pidfd-matrix catalog --table"
exit $rc
