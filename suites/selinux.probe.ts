// SELinux and pidfds (reference §4, §7 R1/R15/R16): the catalog glue for suites/selinux/cases.ts.
// Probes run as children in confined domains of the test policy, which suites/selinux/guest-setup.sh
// loads inside the guest before the suite starts. Each test's AVCs go into its JUnit system-out.
import { appendFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { loadCatalog, type CatalogCase } from '../harness/catalog.js';
import type { CaseResult } from '../harness/results.js';
import { runCase, type Probe } from './lib/feature-test.js';
import { notReady, probes, takeLog } from './selinux/cases.js';

// ---- catalog glue (as suites/lib/feature-test.ts, plus the AVC log in CaseResult.log) ------
function selected(c: CatalogCase): boolean {
  const only = process.env.PIDFD_MATRIX_TESTS;
  return !only || only.split(',').some((s) => s === c.id || s === c.feature);
}

function record(r: CaseResult): void {
  const file = process.env.PIDFD_MATRIX_RECORD;
  if (file) appendFileSync(file, JSON.stringify(r) + '\n');
}

/** Skip (with the reason) when the policy is not there; the judge skips non-SELinux kernels. */
function guarded(p: Probe): Probe {
  return (facts) => {
    const why = notReady();
    return why ? { skip: why } : p(facts);
  };
}

const FEATURE = 'selinux_pidfd';
const feature = loadCatalog().find((f) => f.id === FEATURE);
if (!feature) throw new Error(`feature '${FEATURE}' is not in suites/catalog/*.yaml`);

describe(FEATURE, () => {
  for (const c of feature.cases) {
    if (!selected(c)) continue;
    it(c.case, async (ctx) => {
      const probe = probes[c.case];
      if (!probe) throw new Error(`catalog case ${c.id} has no probe in suites/selinux.probe.ts`);
      takeLog();
      const t0 = performance.now();
      const { verdict, observed } = await runCase(c, guarded(probe));
      const log = takeLog();
      record({
        id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title,
        status: verdict.status, reason: verdict.reason, expected: verdict.expected,
        expectedAnswer: verdict.expectedAnswer, observed, durationMs: Math.round(performance.now() - t0),
        rerun: `${process.env.PIDFD_MATRIX_RERUN_PREFIX ?? 'npx pidfd-matrix probe'} --test ${c.id}`,
        ...(log ? { log } : {}),
      });
      if (verdict.status === 'fail' || verdict.status === 'error') throw new Error(`${verdict.reason}\n${log}`);
      if (verdict.status === 'skip' || verdict.status === 'xfail') ctx.skip(`${verdict.status}: ${verdict.reason}`);
    });
  }
});

