#!/usr/bin/env bash
# Runs ci-templates/gitlab-ci.yml for real with gitlab-ci-local (shell executor, artifact
# isolation, so each job sees only its own files and the artifacts it needs): 2 shard jobs and
# the merge job, on a clean clone of this checkout. Then runs the same cells on one machine and
# checks that both give the same (kernel, test, status) grid. Slow (real guests): a Makefile
# target (make gitlab-demo), not a CI step.
#   KERNELS=host,bookworm,trixie (default)   ARGS="--accel tcg" (default)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
KERNELS=${KERNELS:-host,bookworm,trixie}
ARGS=${ARGS:---accel tcg}
GLCI_VERSION=4.65.0   # the newest gitlab-ci-local that runs on Node 20 (4.66+ use Node 22 APIs)
tools="${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix/tools/gitlab-ci-local"
if [ ! -x "$tools/node_modules/.bin/gitlab-ci-local" ] || [ "$("$tools/node_modules/.bin/gitlab-ci-local" --version 2>/dev/null)" != "$GLCI_VERSION" ]; then
  echo "gitlab-demo: installing gitlab-ci-local $GLCI_VERSION into $tools"
  mkdir -p "$tools" && npm install --prefix "$tools" --no-audit --no-fund "gitlab-ci-local@$GLCI_VERSION" >/dev/null
fi
glci="$tools/node_modules/.bin/gitlab-ci-local"
# gitlab-ci-local copies the project into per-job build dirs with rsync.
command -v rsync >/dev/null || { echo "gitlab-demo: installing rsync"; apt-get install -y -qq rsync >/dev/null; }

work=$(mktemp -d /tmp/pidfd-gitlab-demo.XXXXXX)
echo "gitlab-demo: clean clone in $work/p (kernels $KERNELS, $ARGS)"
git clone -q "$repo" "$work/p"
cd "$work/p"
# gitlab-ci-local derives CI_PROJECT_* from the origin URL; a reserved .invalid name is never contacted.
git remote set-url origin https://gitlab.invalid/demo/pidfd-matrix.git
cp ci-templates/gitlab-ci.yml .gitlab-ci.yml
git add .gitlab-ci.yml && git -c user.name=demo -c user.email=demo@localhost commit -qm "gitlab-demo: .gitlab-ci.yml"

t0=$(date +%s)
set +e
"$glci" --shell-isolation --concurrency 1 --variable "PIDFD_MATRIX_KERNELS=$KERNELS" --variable "PIDFD_MATRIX_ARGS=$ARGS" 2>&1 | tee "$work/gitlab-ci-local.log"
glci_rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s)
merged=$(find "$work/p/.gitlab-ci-local/artifacts" -path '*pidfd-matrix-merge*' -name junit.xml -path '*reports/junit.xml' | head -1)
[ -n "$merged" ] || { echo "gitlab-demo: the merge job left no reports/junit.xml (gitlab-ci-local exit $glci_rc); see $work/gitlab-ci-local.log" >&2; exit 1; }

echo "gitlab-demo: the same cells on one machine"
make -s setup >/dev/null
set +e
# shellcheck disable=SC2086
node bin/pidfd-matrix.js matrix --kernels "$KERNELS" --out "$work/one" $ARGS > "$work/one.log" 2>&1
one_rc=$?
set -e
t2=$(date +%s)
node -e '
  const fs = require("fs");
  const grid = (f) => [...fs.readFileSync(f, "utf8").matchAll(/<testcase classname="([^"]*)" name="([^"]*)"[^>]*>\s*(?:<(failure|error|skipped))?/g)].map((m) => `${m[1]} ${m[2]} ${m[3] ?? "pass"}`).sort();
  const a = grid(process.argv[1]), b = grid(process.argv[2]);
  const onlyA = a.filter((x) => !b.includes(x)), onlyB = b.filter((x) => !a.includes(x));
  console.log(`gitlab-demo: merged shards ${a.length} testcases, one machine ${b.length}; differing: ${onlyA.length + onlyB.length}`);
  for (const x of onlyA) console.log(`  only in shards:      ${x}`);
  for (const x of onlyB) console.log(`  only in one machine: ${x}`);
  process.exit(onlyA.length + onlyB.length ? 1 : 0);
' "$merged" "$work/one/junit.xml"
same=$?
echo "gitlab-demo: pipeline $((t1 - t0)) s (gitlab-ci-local exit $glci_rc), one machine $((t2 - t1)) s (exit $one_rc); merged JUnit: $merged"
exit $same
