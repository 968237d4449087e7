#!/usr/bin/env bash
# Kernel health on a kernel people build, without printk timestamps (`make health-demo-built`;
# not a CI step: a kernel build, ~2 min incremental after `make bisect-demo`'s tree was built
# once, ~45 min from scratch on 2 cores, and one TCG guest, ~2-3 min).
#
# The bisect demo's tree (Debian's linux-source-6.12 as git, tag demo-good; made by
# `BISECT_DEMO_PREPARE_ONLY=1 make bisect-demo` when missing) gets a branch demo-warn with
# harness/bisect/demo-patches/fdinfo-warn-on-once.patch: a WARN_ON_ONCE in pidfd_show_fdinfo, so the
# first read of a pidfd's /proc/<pid>/fdinfo WARNs. `pidfd-matrix kernels build` builds it
# (tinyconfig + pidfd-minimal.config), the tree goes back to the branch it was on, and the
# kernel boots with printk.time=0 (`matrix --kernel ... --append`): a console without
# timestamps, as kernels without CONFIG_PRINTK_TIME print. The case that read fdinfo first must
# come out as an `error` carrying the WARNING's lines in JUnit and results.json; exit 0 when
# it does.
#
# On a shared machine: hold the build lock for the whole run (the tree is switched), and name
# the guest lock: flock /tmp/pm-build.lock env PIDFD_MATRIX_GUEST_LOCK=/tmp/pm-guest.lock make health-demo-built
# Env: PIDFD_MATRIX_BISECT_DEMO (default <cache>/bisect-demo), HEALTH_DEMO_OUT (default
# reports/health-demo-built), HEALTH_DEMO_ACCEL (default tcg), HEALTH_DEMO_TEST (--test ids;
# default: the whole suite).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PM=(node "$ROOT/bin/pidfd-matrix.js")
CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
DEMO="${PIDFD_MATRIX_BISECT_DEMO:-$CACHE/bisect-demo}"
REPO="$DEMO/linux"
OUT=$(realpath -m "${HEALTH_DEMO_OUT:-reports/health-demo-built}")
PATCH="$ROOT/harness/bisect/demo-patches/fdinfo-warn-on-once.patch"
say() { echo "health-demo-built: $*"; }
export GIT_AUTHOR_NAME="pidfd-matrix demo" GIT_AUTHOR_EMAIL="demo@pidfd-matrix.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"

if ! git -C "$REPO" rev-parse -q --verify demo-good >/dev/null 2>&1; then
  say "no demo tree at $REPO: making it (BISECT_DEMO_PREPARE_ONLY=1 scripts/demo/bisect.sh)"
  BISECT_DEMO_PREPARE_ONLY=1 bash scripts/demo/bisect.sh
fi
# The tree is switched to demo-warn for the build: not while a bisect or someone's edit uses it.
if git -C "$REPO" bisect log >/dev/null 2>&1; then
  say "a bisect is in progress in $REPO (git bisect log); run this after it ends"; exit 2
fi
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
  say "$REPO has uncommitted changes; not switching it"; exit 2
fi
back=$(git -C "$REPO" symbolic-ref -q --short HEAD || git -C "$REPO" rev-parse HEAD)
restore() { git -C "$REPO" checkout -q -f "$back" && say "tree back on $back"; }
trap restore EXIT

git -C "$REPO" checkout -q -f -B demo-warn demo-good
git -C "$REPO" apply "$PATCH"
git -C "$REPO" commit -qam "pidfs: WARN_ON_ONCE on the first pidfd fdinfo read (pidfd-matrix health demo)"
say "branch demo-warn = demo-good + $(basename "$PATCH") ($(git -C "$REPO" rev-parse --short HEAD))"

mkdir -p "$OUT"
kimg="$OUT/bzImage-demo-warn"
t0=$(date +%s)
"${PM[@]}" kernels build "$REPO" --out "$kimg"
say "built in $(( $(date +%s) - t0 ))s -> $kimg"
restore
trap - EXIT

boot=("${PM[@]}" matrix --kernel "$kimg" --id demo-warn-notime --append printk.time=0
  --accel "${HEALTH_DEMO_ACCEL:-tcg}" --out "$OUT" ${HEALTH_DEMO_TEST:+--test "$HEALTH_DEMO_TEST"})
[ -n "${PIDFD_MATRIX_GUEST_LOCK:-}" ] && boot=(flock "$PIDFD_MATRIX_GUEST_LOCK" "${boot[@]}")
set +e
"${boot[@]}"
rc=$?
set -e
cell="$OUT/demo-warn-notime"
say "matrix exited $rc (1 expected: the WARN makes the fdinfo reader an error)"
# The evidence, from the artifacts: no timestamps on the console, one case errored by the WARN.
node --input-type=module - "$cell" <<'EOF'
import { readFileSync } from 'node:fs';
const [cell] = process.argv.slice(2);
const lines = readFileSync(`${cell}/console.log`, 'latin1').replace(/\r/g, '').split('\n');
// printk.time applies from the kernel's parameter parsing on: the banner keeps its stamp.
const banner = lines.find((l) => /Linux version /.test(l)) ?? '(no banner)';
const marker = lines.find((l) => /pidfd-matrix: suite start/.test(l)) ?? '(no suite marker)';
const bare = marker.startsWith('pidfd-matrix: ');
const r = JSON.parse(readFileSync(`${cell}/results.json`, 'utf8'));
// Without CONFIG_KALLSYMS (tinyconfig) the WARN names the file and line, then an address.
const warned = r.cases.filter((c) => c.status === 'error' && /^kernel health: warning: WARNING: CPU: \d+ (?:UID: \d+ )?PID: \d+ at fs\/pidfs\.c:\d+ /.test(c.reason));
const others = r.cases.filter((c) => c.status === 'error' && !warned.includes(c));
const say = (s) => console.log(`health-demo-built: ${s}`);
say(`console: ${banner.slice(0, 60)}... / ${marker}`);
say(`kernelHealth.checked: ${r.kernelHealth?.checked}`);
for (const c of warned) say(`${c.id}: error: ${c.reason}\n${(c.log ?? '').split('\n').slice(0, 6).join('\n')}\n  ...`);
for (const c of others) say(`also an error (not the WARN): ${c.id}: ${c.reason.split('\n')[0]}`);
const ok = bare && /no printk timestamps/.test(r.kernelHealth?.checked ?? '') && warned.length === 1 && /Call Trace:/.test(warned[0].log ?? '');
say(`${ok ? 'ok' : 'FAILED'}: ${warned.length} case(s) an error by the fdinfo WARN; the suite's markers ${bare ? 'without' : 'WITH'} timestamps`);
process.exit(ok ? 0 : 1);
EOF
grep -q "<error message=\"kernel health: warning: WARNING: CPU:" "$OUT/junit.xml"
[ "$rc" -eq 1 ]
