#!/usr/bin/env bash
# `make bisect-demo`: a real bisect, end to end, on a real kernel tree. Too slow for CI (tens
# of minutes on 2 cores under TCG): a script people run, and whose numbers the README quotes.
#
# It imports Debian's linux-source-6.12 (fetched like the kernel packages) into a git repo
# outside the checkout, adds 13 commits on top (most harmless; one that does not compile and is
# reverted three commits later; one that breaks pidfd_open's flag check, from
# harness/bisect-demo/*.patch), and runs
#   pidfd-matrix bisect --good demo-good --bad demo-bad --test pidfd_open/einval_flags
# which must name the pidfd_open commit and skip the ones that do not build.
#
# Env: PIDFD_MATRIX_BISECT_DEMO (default <cache>/bisect-demo), PIDFD_MATRIX_GUEST_LOCK (a
# flock file taken around each boot, on shared hosts), BISECT_DEMO_ARGS (extra bisect options),
# BISECT_DEMO_ACCEL (default auto), BISECT_DEMO_PREPARE_ONLY=1 (build the history, no bisect).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
DEMO="${PIDFD_MATRIX_BISECT_DEMO:-$CACHE/bisect-demo}"
REPO="$DEMO/linux"
PATCHES="$ROOT/harness/bisect-demo"
PM=(node "$ROOT/bin/pidfd-matrix.js")
say() { echo "bisect-demo: $*"; }
export GIT_AUTHOR_NAME="pidfd-matrix demo" GIT_AUTHOR_EMAIL="demo@pidfd-matrix.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

bash kernels/build-setup.sh

if ! git -C "$REPO" rev-parse -q --verify demo-good >/dev/null 2>&1; then
  src=$("${PM[@]}" kernels source --package linux-source-6.12 --suite trixie)
  say "importing $src into $REPO"
  rm -rf "$REPO" "$REPO.tmp"
  mkdir -p "$DEMO"
  cp -a "$src" "$REPO.tmp"
  git -C "$REPO.tmp" init -q -b main
  git -C "$REPO.tmp" add -A -f   # Debian's .gitignore ignores the whole top level (its packaging repo)
  git -C "$REPO.tmp" commit -qm "Import Debian's $(basename "$(dirname "$src")")"
  git -C "$REPO.tmp" tag demo-good
  mv "$REPO.tmp" "$REPO"
fi
if ! git -C "$REPO" rev-parse -q --verify demo-bad >/dev/null 2>&1; then
  cd "$REPO"
  git checkout -q -f -B main demo-good && rm -f Documentation/pidfd-demo-notes.rst
  note() { echo "- $1" >> Documentation/pidfd-demo-notes.rst; git add -f Documentation/pidfd-demo-notes.rst; git commit -qm "docs: $1"; }
  comment() { sed -i "2i /* $2 */" "$1"; git commit -qam "$(basename "$1" .c): $2"; }
  note "start pidfd demo notes"
  comment kernel/pid.c "find_get_pid() returns a counted reference"
  note "pidfd_open() takes PIDFD_NONBLOCK and PIDFD_THREAD"
  comment kernel/fork.c "CLONE_PIDFD stores the pidfd in parent_tid"
  git apply "$PATCHES/build-break.patch"; git commit -qam "pid: add pidfd_demo_lookup() (does not compile)"
  note "pidfd_getfd() needs PTRACE_MODE_ATTACH_REALCREDS"
  comment kernel/exit.c "do_notify_pidfd() wakes pidfd pollers"
  git revert --no-edit HEAD~2 >/dev/null; git commit -q --amend -m "Revert \"pid: add pidfd_demo_lookup()\" (fixes the build)"
  note "waitid(P_PIDFD) since 5.4"
  git apply "$PATCHES/pidfd-open-accepts-flag-1.patch"; git commit -qam "pidfd: accept a legacy no-op flag in pidfd_open()"
  comment kernel/signal.c "pidfd_send_signal() checks the pid namespace"
  note "PIDFD_GET_INFO since 6.13"
  note "end pidfd demo notes"
  git tag demo-bad
  cd "$ROOT"
  say "history: $(git -C "$REPO" rev-list --count demo-good..demo-bad) commits on top of the import"
fi
git -C "$REPO" log --oneline demo-good^!; git -C "$REPO" log --oneline demo-good..demo-bad
[ -z "${BISECT_DEMO_PREPARE_ONLY:-}" ] || exit 0
# A demo run starts fresh: an earlier interrupted demo bisect is ended, not resumed.
if [ -e "$REPO/.git/BISECT_START" ]; then git -C "$REPO" bisect reset main >/dev/null; fi
rm -f "$REPO/.git/pidfd-matrix-bisect.json"
lock=()
[ -n "${PIDFD_MATRIX_GUEST_LOCK:-}" ] && lock=(--guest-lock "$PIDFD_MATRIX_GUEST_LOCK")
start=$(date +%s)
set +e
# shellcheck disable=SC2086
"${PM[@]}" bisect --tree "$REPO" --good demo-good --bad demo-bad --test pidfd_open/einval_flags \
  --accel "${BISECT_DEMO_ACCEL:-auto}" --out "$ROOT/reports/bisect-demo" "${lock[@]}" ${BISECT_DEMO_ARGS:-}
rc=$?
set -e
say "wall time $(( $(date +%s) - start ))s, exit $rc (0: the culprit was found and re-checked)"
want=$(git -C "$REPO" log --format=%H --grep='pidfd: accept a legacy no-op flag' -1 demo-bad)
if grep -q "\"culprit\": \"$want\"" "$ROOT/reports/bisect-demo/bisect.json" 2>/dev/null; then
  say "the bisect named the breaking commit ${want:0:12}"
else
  say "the bisect did NOT name the breaking commit ${want:0:12}"; [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
