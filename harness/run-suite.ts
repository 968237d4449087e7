// Exec + parse phases of one kernel cell: run the vitest probe suite on the running kernel,
// collect the per-case records it appends, and turn them into a CellResult.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT as REPO } from './paths.js';
import { allCases, loadCatalog, type CatalogCase } from './catalog.js';
import type { CaseResult, CellResult, KernelFacts } from './results.js';
import { kernelFacts } from '../suites/lib/kernel.js';
import { KMSG_MARKERS_ENV, kernelTaint, markSuite } from '../suites/lib/kmsg.js';
import { harnessRevision } from './provenance.js';


export interface SuiteRequest {
  kernelId: string;
  /** Limit to these test ids (`feature/case`) or feature ids. */
  tests?: string[];
  /** Prefix of the per-test rerun command (the matrix points it at one kernel). */
  rerunPrefix?: string;
  /** The command line of the whole cell, recorded as provenance and cell rerun. */
  command: string;
  /** Echo vitest's own output (progress); otherwise only kept for error messages. */
  echo?: boolean;
  /** Write case markers to /dev/kmsg (in a guest, whose console the host reads). */
  kmsgMarkers?: boolean;
}

export interface SuiteRun { cell: CellResult; vitestExit: number; vitestOutput: string }

function vitestBin(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('vitest/package.json')), 'vitest.mjs');
}

/** vitest's -t filter: a test's full name is "<feature> <case>" (ids are [a-z0-9_]). */
export function testNamePattern(tests: string[]): string {
  return '^(' + tests.map((t) => (t.includes('/') ? t.replace('/', ' ') + '$' : `${t} `)).join('|') + ')';
}

function selected(c: CatalogCase, tests?: string[]): boolean {
  return !tests?.length || tests.some((t) => t === c.id || t === c.feature);
}

/** Cases the suite never reported (a file that failed to load, a crashed worker) are errors. */
function missingCase(c: CatalogCase, rerun: string, output: string): CaseResult {
  return {
    id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title, status: 'error',
    reason: `no result recorded for ${c.id}: its suite file did not load or its worker crashed (vitest output tail below)`,
    expected: null, expectedAnswer: null, observed: {}, durationMs: 0, rerun,
    log: output.split('\n').slice(-40).join('\n'),
  };
}

export async function runSuite(req: SuiteRequest): Promise<SuiteRun> {
  const started = new Date();
  const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-'));
  const recordFile = join(work, 'records.jsonl');
  const rerunPrefix = req.rerunPrefix ?? 'npx pidfd-matrix probe';
  const env = {
    ...process.env,
    PIDFD_MATRIX_RECORD: recordFile,
    PIDFD_MATRIX_RERUN_PREFIX: rerunPrefix,
    // vitest must not write into the checkout: inside a guest it is a read-only share.
    PIDFD_MATRIX_VITE_CACHE: join(work, 'vite-cache'),
    [KMSG_MARKERS_ENV]: req.kmsgMarkers ? '1' : '0',
  };
  if (req.kmsgMarkers) process.env[KMSG_MARKERS_ENV] = '1';
  const taintStart = kernelTaint();
  markSuite('start');
  const args = [vitestBin(), 'run', '--config', join(REPO, 'suites/vitest.config.ts'), '--configLoader', 'runner', '--reporter', 'dot'];
  if (req.tests?.length) args.push('-t', testNamePattern(req.tests));
  let output = '';
  const vitestExit = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer) => {
      output += d.toString();
      if (req.echo) process.stderr.write(d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });

  markSuite('end');
  const taintEnd = kernelTaint();
  let records: CaseResult[] = [];
  try {
    records = readFileSync(recordFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as CaseResult);
  } catch {
    records = [];
  }
  rmSync(work, { recursive: true, force: true });

  const byId = new Map(records.map((r) => [r.id, r]));
  const cases = allCases(loadCatalog())
    .filter((c) => selected(c, req.tests))
    .map((c) => byId.get(c.id) ?? missingCase(c, `${rerunPrefix} --test ${c.id}`, output));

  const facts: KernelFacts = kernelFacts();
  const cell: CellResult = {
    schema: 1,
    kernelId: req.kernelId,
    mode: 'host',
    accel: null,
    lsm: facts.selinux === 'enforcing' ? 'selinux' : null,
    facts,
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    hostname: hostname(),
    error: null,
    provenance: { harnessRev: harnessRevision(), node: process.version, command: req.command },
    rerun: req.command,
    ...(taintStart !== null && taintEnd !== null ? { taint: { start: taintStart, end: taintEnd } } : {}),
    cases,
  };
  return { cell, vitestExit, vitestOutput: output };
}
