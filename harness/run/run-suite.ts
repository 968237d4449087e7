// Exec + parse phases of one kernel cell. Exec: write the plan (selected cases, deadlines) and
// start the supervisor (dist/suites/lib/supervisor.js), here on the host or inside a guest.
// Parse: read the observation stream it appended and judge it here, on the host.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { repoPath } from '../../suites/lib/paths.js';
import { allCases, catalogCommits, loadCatalog, type CatalogCase } from '../judge/catalog.js';
import { namedCommits, versionOracle, type CommitOracle } from '../judge/commit-oracle.js';
import { HOST_IDENTITY, type KernelIdentity } from '../../kernels/identity.js';
import type { CellResult } from '../results.js';
import { harnessRevision } from './provenance.js';
import { judgeStream, parseStream, planFor } from './stream.js';
import { watchRepeats } from './repeat-progress.js';
import { PLAN_FILE, STREAM_FILE, type BuiltHelper } from '../../suites/lib/plan.js';
import type { ForeignArch } from '../../kernels/matrix.js';
import { ensureMuslHelper, needsMusl } from './musl-helper.js';
import { ensureCompat32Helper, needsCompat32 } from './compat32-helper.js';

export const SUPERVISOR = repoPath('dist/suites/lib/supervisor.js');

export function selectedCases(tests?: string[]): CatalogCase[] {
  return allCases(loadCatalog()).filter((c) => !tests?.length || tests.some((t) => t === c.id || t === c.feature));
}

/**
 * Writes DIR/plan.json for the selected cases and empties DIR/observations.jsonl; returns the
 * argv that runs the plan (the same on the host and in a guest, where DIR is a --rwdir).
 */
export function preparePlan(dir: string, cases: CatalogCase[], o: { kmsg: boolean; ownCorePattern?: boolean } & PlanHelpers & { repeat?: number }): string[] {
  if (!existsSync(SUPERVISOR)) throw new Error(`${SUPERVISOR} is missing: build the harness first (npm run build, or make setup)`);
  mkdirSync(dir, { recursive: true });
  const planPath = join(dir, PLAN_FILE);
  const stream = join(dir, STREAM_FILE);
  rmSync(stream, { force: true });
  writeFileSync(stream, '');
  const plan = {
    ...planFor(cases, stream, o), ...(o.musl ? { musl: o.musl } : {}), ...(o.compat32 ? { compat32: o.compat32 } : {}),
    ...(o.ownCorePattern ? { ownCorePattern: true } : {}),
  };
  writeFileSync(planPath, JSON.stringify(plan, null, 1) + '\n');
  return [process.execPath, SUPERVISOR, planPath];
}

/** The test binaries a plan names, built before the run when its cases need them. */
export interface PlanHelpers { musl?: BuiltHelper; compat32?: BuiltHelper }

/** Builds (once, into the cache) the helpers the selected cases run; their dirs must be visible where the suite runs. */
export async function planHelpers(cases: CatalogCase[], progress?: (m: string) => void, arch?: ForeignArch): Promise<PlanHelpers & { dirs: string[] }> {
  // The musl binary of the guest's own architecture (an arm64 one for an arm64 guest).
  const musl = needsMusl(cases) ? await ensureMuslHelper({ progress, arch }) : undefined;
  const compat32 = needsCompat32(cases) ? await ensureCompat32Helper({ progress }) : undefined;
  const dirs = [musl, compat32].flatMap((h) => (h && 'bin' in h ? [dirname(h.bin)] : []));
  return { musl, compat32, dirs };
}

export interface SuiteRequest {
  kernelId: string;
  /** Limit to these test ids (`feature/case`) or feature ids. */
  tests?: string[];
  /** Prefix of the per-test rerun command (the matrix points it at one kernel). */
  rerunPrefix?: string;
  /** The command line of the whole cell, recorded as provenance and cell rerun. */
  command: string;
  /** Where plan.json and observations.jsonl go (the cell's output dir). */
  dir: string;
  /** Echo the runner's own output (progress); otherwise only kept for error messages. */
  echo?: boolean;
  /** Write case markers to /dev/kmsg (in a guest, whose console the host reads). */
  kmsgMarkers?: boolean;
  /** Runs of each case (`--repeat N`), all in this one run of the supervisor. */
  repeat?: number;
  /** Progress lines of a long repeat (every few seconds). */
  progress?: (line: string) => void;
  /** The user lets the coredump cases set (and restore) the system's kernel.core_pattern. */
  ownCorePattern?: boolean;
}

export interface SuiteRun { cell: CellResult; exit: number; output: string }

/** The suite on the running kernel (host mode): the same supervisor and runner as in a guest. */
export async function runSuite(req: SuiteRequest): Promise<SuiteRun> {
  const started = new Date();
  const cases = selectedCases(req.tests);
  const { musl, compat32 } = await planHelpers(cases, (m) => console.error(m));
  const argv = preparePlan(req.dir, cases, { kmsg: !!req.kmsgMarkers, musl, compat32, repeat: req.repeat, ownCorePattern: req.ownCorePattern });
  const watch = req.repeat && req.repeat > 1 && req.progress ? watchRepeats(join(req.dir, STREAM_FILE), req.repeat, req.progress) : null;
  let output = '';
  const exit = await new Promise<number>((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: repoPath(), stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
      if (req.echo) process.stderr.write(d);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  }).finally(() => watch?.stop());
  const cell = cellFromStream({
    kernelId: req.kernelId, mode: 'host', cases, dir: req.dir, exit, stopped: null,
    rerunPrefix: req.rerunPrefix ?? 'npx pidfd-matrix probe', command: req.command, startedAt: started, identity: HOST_IDENTITY, repeat: req.repeat,
  });
  if (cell.error && output.trim()) cell.error.consoleExcerpt = output.trim().split('\n').slice(-30).join('\n');
  return { cell, exit, output };
}

export interface CellFromStream {
  kernelId: string;
  mode: 'host' | 'guest' | 'container';
  cases: CatalogCase[];
  dir: string;
  /** Exit status of the probe command (null: unknown, e.g. the guest died). */
  exit: number | null;
  /** How the run ended when not normally (panic, timeout ...), or null. */
  stopped: string | null;
  rerunPrefix: string;
  command: string;
  startedAt: Date;
  /** The commit oracle of this kernel (harness/judge/commit-oracle.ts); default: the version's stable table. */
  oracle?: CommitOracle;
  /** Where the kernel came from (kernels/identity.ts), stored in the cell's facts. */
  identity?: KernelIdentity;
  /** Runs of each case (`--repeat N`); the rerun lines carry it. */
  repeat?: number;
}

/** Judge DIR/observations.jsonl into a CellResult (the caller adds guest provenance). */
export function cellFromStream(o: CellFromStream): CellResult {
  let text = '';
  try {
    text = readFileSync(join(o.dir, STREAM_FILE), 'utf8');
  } catch { /* no stream at all: judged as "wrote no observations" */ }
  const stream = parseStream(text);
  // Which commits this kernel carries is asked before judging: by its git tree or Debian
  // changelog when the caller knows them (o.oracle), else by the version the guest reports.
  const oracle = o.oracle ?? versionOracle(catalogCommits(), namedCommits(o.cases));
  const again = o.repeat && o.repeat > 1 ? ` --repeat ${o.repeat}` : '';
  const judged = judgeStream(o.cases, stream, {
    rerun: (id) => `${o.rerunPrefix} --test ${id}${again}`, stopped: o.stopped, exit: o.exit, repeat: o.repeat,
    commits: (facts) => oracle.answer(facts),
  });
  if (judged.facts && o.identity) judged.facts.identity = o.identity;
  return {
    schema: 1,
    kernelId: o.kernelId,
    mode: o.mode,
    accel: null,
    lsm: judged.facts?.selinux === 'enforcing' ? 'selinux' : null,
    facts: judged.facts,
    startedAt: o.startedAt.toISOString(),
    durationMs: Date.now() - o.startedAt.getTime(),
    hostname: judged.facts?.hostname ?? hostname(),
    error: judged.error ? { reason: judged.error } : null,
    provenance: { harnessRev: harnessRevision(), node: process.version, command: o.command },
    rerun: o.command,
    ...(stream.end?.taint ? { taint: stream.end.taint } : {}),
    cases: judged.cases,
  };
}
