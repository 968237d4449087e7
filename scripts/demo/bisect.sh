#!/usr/bin/env bash
# `make bisect-demo`: a real bisect, end to end, on a real kernel tree. Too slow for CI (tens
# of minutes on 2 cores under TCG): a script people run, and whose numbers the README quotes.
#
# It imports Debian's linux-source-6.12 (fetched like the kernel packages) into a git repo
# outside the checkout, adds 13 commits on top (most harmless; one that does not compile and is
# reverted three commits later; one that breaks pidfd_open's flag check, from
# harness/bisect/demo-patches/*.patch), and runs
#   pidfd-matrix bisect --good demo-good --bad demo-bad --test pidfd_open/einval_flags
# which must name the pidfd_open commit and skip the ones that do not build.
#
# BISECT_DEMO=fdinfo (`make bisect-demo-volatile`) is a second planted bug whose observed value
# varies from boot to boot: on branch demo-fdinfo (from the same demo-good import, so the build's
# object dir is shared; demo-good, demo-bad and main are left alone), 10 commits, one of which
# makes fdinfo's Pid: line off by one (harness/bisect/demo-patches/fdinfo-pid-off-by-one.patch). Every
# boot gives the child another pid, so the bad steps show another Pid: value each time:
#   pidfd-matrix bisect --good demo-good --bad demo-fdinfo-bad --test fdinfo_pid/pid_line
# must still name it (the signature names the class, "got another value", not the pid).
#
# Env: BISECT_DEMO (pidfd_open, the default, or fdinfo), PIDFD_MATRIX_BISECT_DEMO (default
# <cache>/bisect-demo), PIDFD_MATRIX_GUEST_LOCK (a flock file taken around each boot, on shared
# hosts), BISECT_DEMO_ARGS (extra bisect options), BISECT_DEMO_ACCEL (default auto),
# BISECT_DEMO_PREPARE_ONLY=1 (build the history, no bisect).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
DEMO="${PIDFD_MATRIX_BISECT_DEMO:-$CACHE/bisect-demo}"
REPO="$DEMO/linux"
PATCHES="$ROOT/harness/bisect/demo-patches"
PM=(node "$ROOT/bin/pidfd-matrix.js")
say() { echo "bisect-demo: $*"; }
export GIT_AUTHOR_NAME="pidfd-matrix demo" GIT_AUTHOR_EMAIL="demo@pidfd-matrix.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

case "${BISECT_DEMO:-pidfd_open}" in
  pidfd_open) BRANCH=main BAD=demo-bad TEST=pidfd_open/einval_flags OUT="$ROOT/reports/bisect-demo"
              CULPRIT='pidfd: accept a legacy no-op flag' ;;
  fdinfo) BRANCH=demo-fdinfo BAD=demo-fdinfo-bad TEST=fdinfo_pid/pid_line OUT="$ROOT/reports/bisect-demo-fdinfo"
          CULPRIT='pidfs: print the Pid: line of a live task' ;;
  *) echo "bisect-demo: BISECT_DEMO must be pidfd_open or fdinfo, not '$BISECT_DEMO'" >&2; exit 2 ;;
esac

bash scripts/setup/kernel-build.sh

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
if [ "$BRANCH" = main ] && ! git -C "$REPO" rev-parse -q --verify demo-bad >/dev/null 2>&1; then
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
# The second demo: its own branch and tag from demo-good; the first demo's history is not touched.
if [ "$BRANCH" = demo-fdinfo ] && ! git -C "$REPO" rev-parse -q --verify demo-fdinfo-bad >/dev/null 2>&1; then
  if [ -e "$REPO/.git/BISECT_START" ]; then git -C "$REPO" bisect reset >/dev/null; fi
  cd "$REPO"
  git checkout -q -f -B demo-fdinfo demo-good && rm -f Documentation/pidfd-fdinfo-demo-notes.rst
  notes=Documentation/pidfd-fdinfo-demo-notes.rst
  note() { echo "- $1" >> "$notes"; git add -f "$notes"; git commit -qm "docs: $1"; }
  comment() { sed -i "2i /* $2 */" "$1"; git commit -qam "$(basename "$1" .c): $2"; }
  note "start pidfd fdinfo demo notes"
  comment kernel/pid.c "pid_nr_ns() is the pid as seen from a namespace"
  note "fdinfo of a pidfd: Pid: and NSpid: since 5.2 and 5.5"
  git apply "$PATCHES/fdinfo-pid-off-by-one.patch"
  git commit -qam "pidfs: print the Pid: line of a live task relative to its namespace"
  note "a reaped task's pidfd shows Pid: -1"
  comment kernel/exit.c "a reaped task's pidfd shows Pid: -1 in fdinfo"
  note "glibc's pidfd_getpid() parses the Pid: line"
  comment kernel/signal.c "pidfd_send_signal() takes a pidfd from /proc/<pid> too"
  note "PIDFD_GET_INFO returns the pid without parsing text (6.13)"
  note "end pidfd fdinfo demo notes"
  git tag demo-fdinfo-bad
  cd "$ROOT"
  say "history: $(git -C "$REPO" rev-list --count demo-good..demo-fdinfo-bad) commits on top of the import (branch demo-fdinfo)"
fi
git -C "$REPO" log --oneline demo-good^!; git -C "$REPO" log --oneline "demo-good..$BAD"
[ -z "${BISECT_DEMO_PREPARE_ONLY:-}" ] || exit 0
# A demo run starts fresh: an earlier interrupted demo bisect is ended, not resumed.
if [ -e "$REPO/.git/BISECT_START" ]; then git -C "$REPO" bisect reset >/dev/null; fi
rm -f "$REPO/.git/pidfd-matrix-bisect.json"
git -C "$REPO" checkout -q "$BRANCH"   # where the bisect returns to
lock=()
[ -n "${PIDFD_MATRIX_GUEST_LOCK:-}" ] && lock=(--guest-lock "$PIDFD_MATRIX_GUEST_LOCK")
start=$(date +%s)
set +e
# shellcheck disable=SC2086
"${PM[@]}" bisect --tree "$REPO" --good demo-good --bad "$BAD" --test "$TEST" \
  --accel "${BISECT_DEMO_ACCEL:-auto}" --out "$OUT" "${lock[@]}" ${BISECT_DEMO_ARGS:-}
rc=$?
set -e
say "wall time $(( $(date +%s) - start ))s, exit $rc (0: the culprit was found and re-checked)"
if [ -e "$REPO/.git/BISECT_START" ]; then say "git bisect state left in $REPO (resume: bisect --tree $REPO --resume)"; fi
want=$(git -C "$REPO" log --format=%H --grep="$CULPRIT" -1 "$BAD")
if grep -q "\"culprit\": \"$want\"" "$OUT/bisect.json" 2>/dev/null; then
  say "the bisect named the breaking commit ${want:0:12}"
else
  say "the bisect did NOT name the breaking commit ${want:0:12}"; [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
