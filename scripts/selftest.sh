#!/usr/bin/env bash
# `make test`: the harness self-tests on recorded fixtures, a real probe run on the host
# kernel, and the guest smoke boots. Ends with one plain "N passed, N failed" line for CI logs.
set -uo pipefail
cd "$(dirname "$0")/.."
# The real guest smoke boots (vm/guest-smoke.test.ts) are part of `make test`; a casual
# `npx vitest run` leaves them out. PIDFD_MATRIX_GUEST_TESTS=0 skips them here too.
export PIDFD_MATRIX_GUEST_TESTS=${PIDFD_MATRIX_GUEST_TESTS:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json"
rc=$?
if [ -s "$out/vitest.json" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
    // A file whose beforeAll threw reports its tests as skipped, not failed: count it here.
    const broken = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed"));
    const extra = broken.length ? `, ${broken.length} file(s) failed outside a test: ${broken.map((f) => require("path").relative(process.cwd(), f.name)).join(" ")}` : "";
    console.log(`selftest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped${extra}`);
  ' "$out/vitest.json"
else
  echo "selftest: 0 passed, 1 failed (vitest wrote no results)"
  [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
