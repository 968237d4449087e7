// Glue between the catalog and vitest: one `it` per catalog case of a feature. Each test runs
// its probe, lets harness/judge.ts decide the status from the catalog, records the result for
// results.json, and maps the status onto vitest (fail/error throw, skip/xfail skip).
import { appendFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { loadCatalog, type CatalogCase } from '../../harness/catalog.js';
import { judge, PREREQ, unmetNeed, type Verdict } from '../../harness/judge.js';
import type { CaseResult, KernelFacts, Observation } from '../../harness/results.js';
import { kernelFacts } from './kernel.js';
import { markCaseEnd, markCaseStart } from './kmsg.js';
import { injectFault } from './fault.js';
import { closeTracked, PrereqMissing } from './pidfd.js';
import { reapAll } from './process.js';

export type Probe = (facts: KernelFacts) => Observation | Promise<Observation>;

function rerunCommand(c: CatalogCase): string {
  const prefix = process.env.PIDFD_MATRIX_RERUN_PREFIX ?? 'npx pidfd-matrix probe';
  return `${prefix} --test ${c.id}`;
}

function record(r: CaseResult): void {
  const file = process.env.PIDFD_MATRIX_RECORD;
  if (file) appendFileSync(file, JSON.stringify(r) + '\n');
}

/** Run one case outside vitest too (the harness self-tests use it). */
export async function runCase(c: CatalogCase, probe: Probe, facts = kernelFacts()): Promise<{ verdict: Verdict; observed: Observation }> {
  const need = unmetNeed(c.needs, facts);
  if (need) return { verdict: { status: 'skip', reason: need, expected: null, expectedAnswer: null }, observed: {} };
  let observed: Observation;
  try {
    observed = await probe(facts);
  } catch (e) {
    if (e instanceof PrereqMissing) observed = { [PREREQ]: e.step, errno: e.errno };
    else {
      const msg = e instanceof Error ? e.stack ?? e.message : String(e);
      return { verdict: { status: 'error', reason: `${c.id}: probe crashed: ${msg}`, expected: null, expectedAnswer: null }, observed: {} };
    }
  } finally {
    closeTracked();
    reapAll();
  }
  return { verdict: judge(c, facts, observed), observed };
}

/** Optional per-case hook: text captured around the probe (e.g. AVC lines) for JUnit system-out. */
export interface SuiteOptions { takeLog?: () => string }

export function featureSuite(featureId: string, probes: Record<string, Probe>, opts: SuiteOptions = {}): void {
  const feature = loadCatalog().find((f) => f.id === featureId);
  if (!feature) throw new Error(`feature '${featureId}' is not in suites/catalog/*.yaml`);
  const extra = Object.keys(probes).filter((k) => !feature.cases.some((c) => c.case === k));
  if (extra.length) throw new Error(`${featureId}: probes ${extra.join(', ')} have no catalog case`);

  // `probe --test` selects cases with vitest's -t name filter ("<feature> <case>").
  describe(featureId, () => {
    for (const c of feature.cases) {
      it(c.case, async (ctx) => {
        const probe = probes[c.case];
        if (!probe) throw new Error(`catalog case ${c.id} has no probe in its suite file`);
        opts.takeLog?.(); // drop whatever the previous case left behind
        const t0 = performance.now();
        markCaseStart(c.id);
        injectFault(c.id);
        const { verdict, observed } = await runCase(c, probe).finally(() => markCaseEnd(c.id));
        const log = opts.takeLog?.() ?? '';
        record({
          id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title,
          status: verdict.status, reason: verdict.reason, expected: verdict.expected,
          expectedAnswer: verdict.expectedAnswer, observed, durationMs: Math.round(performance.now() - t0),
          rerun: rerunCommand(c),
          ...(log ? { log } : {}),
        });
        if (verdict.status === 'fail' || verdict.status === 'error') throw new Error(log ? `${verdict.reason}\n${log}` : verdict.reason);
        if (verdict.status === 'skip' || verdict.status === 'xfail') ctx.skip(`${verdict.status}: ${verdict.reason}`);
      });
    }
  });
}
