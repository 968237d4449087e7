// The matrix run: fetch every selected kernel, pick the accelerator once, boot the guests in
// parallel (each running the probe supervisor on a plan in its own reports/<id>/), judge each
// cell's observation stream here, and turn every outcome, including boot failures, panics and
// timeouts, into one CellResult per kernel.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CellResult, KernelHealth } from '../results.js';
import { healthFromConsole, healthFromTaint } from '../judge/health.js';
import { finishCell } from './finish-cell.js';
import type { ReportWriter } from '../report/writer.js';
import { harnessRevision } from './provenance.js';
import { MatrixError, defaultMatrixFile, kernelCmdlineExtra, type KernelEntry } from '../../kernels/matrix.js';
import { REPO_ROOT } from '../../suites/lib/paths.js';
import { withClone3Fallback } from '../../vm/clone3-fallback.js';
import { STREAM_FILE } from '../../suites/lib/plan.js';
import { loadKnownIssues } from '../judge/known-issues.js';
import { cellFromStream, planHelpers, preparePlan, selectedCases } from './run-suite.js';
import { oracleFor } from '../judge/commit-oracle.js';
import { catalogCommits } from '../judge/catalog.js';
import { watchRepeats } from './repeat-progress.js';
import { BuildFailedError, fetchKernel, MirrorUnreachable, type FetchedKernel } from '../../kernels/fetch.js';
import type { BuildFailure } from '../../kernels/build.js';
import { holdKernelCache } from '../../kernels/cache.js';
import { bootTarget, isGuest } from '../../kernels/sources/index.js';
import { axesLabel } from '../../kernels/sources/container.js';
import type { BootTarget } from '../../kernels/sources/types.js';
import { chooseAccel, type AccelChoice, type AccelRequest } from '../../vm/accel.js';
import type { RunResult, Sut } from '../../vm/sut.js';
import { sutFor } from '../../vm/sut-for.js';
import { ContainerSut } from '../../vm/container-sut.js';
import { prepareGuestRoot, type GuestRoot } from '../../vm/guest-root.js';
import { toolVersions, vngBinary } from '../../vm/tools.js';
import { killAllGroups } from '../../vm/process-group.js';
import { interruptedReason, unlessAborted } from './interrupt.js';
import { DEFAULT_CPUS, shellQuote, type Accel } from '../../vm/vng.js';

// Under TCG, boot + the whole suite in a 6.1 guest took 18 min (boot 2.5 min) on a busy 2-core
// host (JIT-heavy node code is slow to emulate), so the default limit is generous; --timeout
// or an entry's timeout: win.
export const DEFAULT_TIMEOUT_SEC = 2400;

export interface MatrixOptions {
  kernels: KernelEntry[];
  outDir: string;
  jobs: number;
  timeoutSec: number;
  accel: AccelRequest;
  /** The --matrix file, when not kernels/matrix.yaml (rerun lines name it). */
  matrixFile?: string;
  /** Only these tests (probe --test), for reruns. */
  tests?: string[];
  /** Runs of each selected case inside each cell's one boot (`--repeat N`). */
  repeat?: number;
  cpus?: number;
  memory?: string;
  /** One progress line (queued/booting/running/done ...). */
  progress?: (line: string) => void;
  /** The command line that started this run, for provenance. */
  command: string;
  /** Extra environment for the probe command in guests (tests use it to inject faults). */
  guestEnv?: Record<string, string>;
  /**
   * The words that select one cell again in its rerun lines (default: --kernels ID): an ad
   * hoc kernel says --kernel PATH or --kernel-tree DIR instead.
   */
  selectArgs?: (id: string) => string[];
  /**
   * Boots again, this many times, a guest that died before its command started (default 1).
   * Under TCG a stock 6.12 kernel once double-faulted in the slab allocator during udev
   * coldplug, before the suite ran; a kernel that panics every boot stays an error cell.
   */
  bootRetries?: number;
  /**
   * Aborted (reason: the signal's name) on Ctrl-C or SIGTERM: every guest is killed, no
   * further cell starts, and the unfinished cells become errors ("interrupted by SIGINT").
   */
  signal?: AbortSignal;
  /** The report formats of each cell's files (harness/report/formats.ts); default junit and ktap besides results.json. */
  writers?: ReportWriter[];
}

export interface MatrixRun {
  cells: CellResult[];
  accel: AccelChoice | null;
  /** Per kernel that ran: what was booted and how the run ended (bench uses this). */
  runs: { entry: KernelEntry; kernel: FetchedKernel; result: RunResult }[];
}

/** A kernel whose mirror could not be reached: the fetch error, which names the mirror option. */
export interface UnreachableMirror { ok: false; phase: 'fetch'; reason: string }

/** Why a kernel has no fetched kernel: its build failed, or its mirror was out of reach. */
export type NotFetched = BuildFailure | UnreachableMirror;

/**
 * Fetches (or builds) all selected kernels first, so a bad entry fails before anything boots.
 * A kernel that does not build, or whose mirror gives no answer (no network: `make boundary`
 * on a machine that cannot reach kernel.ubuntu.com), is not bad input: it is kept in `failed`
 * and becomes an error cell, and the other kernels still run.
 */
export async function fetchAll(kernels: KernelEntry[], say: (m: string) => void): Promise<{ fetched: Map<string, FetchedKernel>; failed: Map<string, NotFetched> }> {
  const fetched = new Map<string, FetchedKernel>();
  const failed = new Map<string, NotFetched>();
  for (const e of kernels) {
    try {
      fetched.set(e.id, await fetchKernel(e, { progress: say }));
    } catch (err) {
      if (err instanceof MirrorUnreachable) {
        say(err.message);
        failed.set(e.id, { ok: false, phase: 'fetch', reason: `not fetched: ${err.message.replace(`${e.id}: `, '')}` });
        continue;
      }
      if (!(err instanceof BuildFailedError)) throw err;
      say(`${e.id}: ${err.failure.reason}\n  log: ${err.failure.logPath}`);
      failed.set(e.id, err.failure);
    }
  }
  return { fetched, failed };
}

/**
 * The options of a run that shape a cell, as `matrix` arguments: a rerun line carries them all
 * (paths absolute), so it boots the same kernel the same way, from any directory. Options left
 * at their defaults are left out; --kernels, --jobs and --test are the caller's.
 */
/**
 * vCPUs per guest when --cpus is not given: the guests running at once share the host's
 * cores. Under TCG two 2-vCPU guests on 2 cores each ran at half speed (cells 41-105 s with
 * --jobs 2, 38-43 s with one vCPU each), so a guest gets its share: at least 1, at most
 * DEFAULT_CPUS.
 */
export function defaultGuestCpus(jobs: number, guests: number, cores: number): number {
  const atOnce = Math.max(1, Math.min(jobs, guests));
  return Math.max(1, Math.min(DEFAULT_CPUS, Math.floor(cores / atOnce)));
}

export function rerunArgs(o: Pick<MatrixOptions, 'matrixFile' | 'outDir' | 'timeoutSec' | 'accel' | 'cpus' | 'memory' | 'bootRetries'>): string[] {
  const a: string[] = [];
  if (o.matrixFile && resolve(o.matrixFile) !== defaultMatrixFile()) a.push('--matrix', resolve(o.matrixFile));
  if (resolve(o.outDir) !== join(REPO_ROOT, 'reports')) a.push('--out', resolve(o.outDir));
  if (o.timeoutSec !== DEFAULT_TIMEOUT_SEC) a.push('--timeout', String(o.timeoutSec));
  if (o.accel !== 'auto') a.push('--accel', o.accel);
  if (o.cpus !== undefined) a.push('--cpus', String(o.cpus));
  if (o.memory !== undefined) a.push('--memory', o.memory);
  if (o.bootRetries !== undefined && o.bootRetries !== 1) a.push('--boot-retries', String(o.bootRetries));
  return a;
}

/** `npx pidfd-matrix matrix --kernels ID <the run's options>`: what every rerun line starts with. */
export function rerunPrefix(
  id: string, o: Parameters<typeof rerunArgs>[0] & Pick<MatrixOptions, 'selectArgs'>, entry?: Pick<KernelEntry, 'arch'>,
): string {
  // A guest of another arch ran under TCG whatever --accel said: its line says so.
  const args = rerunArgs(entry?.arch ? { ...o, accel: FOREIGN_ACCEL.accel } : o);
  return ['npx pidfd-matrix matrix', ...(o.selectArgs ? o.selectArgs(id) : ['--kernels', id]), ...args].map((w, i) => (i === 0 ? w : shellQuote(w))).join(' ');
}

/** The command a cell runs (inside the guest, or on the host for `host`): the supervisor and its plan. */
export function cellCommand(argv: string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** The test-only fault hook (suites/lib/fault.ts) reaches guests from the matrix's own environment. */
function faultEnv(): Record<string, string> {
  return Object.fromEntries(['PIDFD_MATRIX_FAULT_CASE', 'PIDFD_MATRIX_FAULT_CMD'].flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
}

/** Runs async jobs with at most `n` at a time, keeping input order in the results. */
export async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return results;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(0)}s`;

/** The progress line of a cell starting, in the terms of its system under test. */
function startLine(t: BootTarget, kernel: FetchedKernel, accel: AccelChoice | null): string {
  if (t.sut === 'container') return `starting a container: ${axesLabel(t.axes)}`;
  return t.sut === 'host' ? 'running (host, no VM)' : `booting ${kernel.release} (${accel!.accel})`;
}

/** The start line of a cell: an arm64 guest says its arch and TCG. */
function cellStartLine(entry: KernelEntry, t: BootTarget, kernel: FetchedKernel, accel: AccelChoice | null): string {
  if (!entry.arch || t.sut !== 'guest') return startLine(t, kernel, accel);
  return `booting ${kernel.release} (${entry.arch}, ${FOREIGN_ACCEL.accel})`;
}

/** A guest of another architecture than the host's runs under TCG, whatever the others use. */
export const FOREIGN_ACCEL: AccelChoice = { accel: 'tcg', reason: 'another architecture than the host\'s: TCG only' };

/** The accelerator of one cell: the run's, except for a guest of another architecture (TCG). */
export function cellAccel(entry: KernelEntry, accel: AccelChoice | null): Accel | undefined {
  return entry.arch ? FOREIGN_ACCEL.accel : accel?.accel;
}

/** `--accel kvm` with an arm64 cell selected: bad input, said before anything is fetched. */
export function foreignAccelProblem(kernels: KernelEntry[], request: AccelRequest): string | null {
  const foreign = kernels.filter((k) => k.arch && isGuest(k));
  if (request !== 'kvm' || !foreign.length) return null;
  return `--accel kvm: ${foreign.map((k) => `'${k.id}' (arch: ${k.arch})`).join(', ')} cannot use KVM on this x86_64 host `
    + '(qemu emulates that architecture: TCG only); use --accel tcg, or --accel auto (KVM for the x86_64 cells), '
    + 'or leave those cells out with --kernels';
}

/** What every run needs before the first boot: virtme-ng present, all kernels fetched, the accelerator. */
export async function prepareMatrix(kernels: KernelEntry[], request: AccelRequest, say: (m: string) => void): Promise<{ fetched: Map<string, FetchedKernel>; failed: Map<string, NotFetched>; accel: AccelChoice | null }> {
  const foreignKvm = foreignAccelProblem(kernels, request);
  if (foreignKvm) throw new MatrixError(foreignKvm);
  if (kernels.some(isGuest)) vngBinary(); // no virtme-ng: say so (make deps) before fetching anything
  const { fetched, failed } = await fetchAll(kernels, say);
  let accel: AccelChoice | null = null;
  // The probe boot is an x86_64 guest's: an arm64 kernel under qemu-system-x86_64 proves nothing.
  const firstGuest = kernels.find((k) => isGuest(k) && !k.arch && fetched.has(k.id));
  if (!firstGuest && kernels.some((k) => isGuest(k) && fetched.has(k.id))) accel = FOREIGN_ACCEL;
  if (firstGuest) {
    accel = await chooseAccel(request, fetched.get(firstGuest.id)!.kimg, { progress: say });
    say(`accel: ${accel.accel} (${accel.reason})`);
  }
  return { fetched, failed, accel };
}

export async function runMatrix(o: MatrixOptions): Promise<MatrixRun> {
  const say = o.progress ?? (() => {});
  const stop = o.signal;
  // Kill every qemu/vng (and the host cell's probe) the moment the run is interrupted.
  const killAll = () => {
    const n = killAllGroups();
    say(`${interruptedReason(stop!)}: killed ${n} running guest/probe process group(s)`);
  };
  stop?.addEventListener('abort', killAll, { once: true });
  // Shared with other runs; `kernels clean` waits for no run to hold it.
  const cache = await holdKernelCache();
  try {
    return await runCells(o, say);
  } finally {
    stop?.removeEventListener('abort', killAll);
    await cache.release();
  }
}

async function runCells(o: MatrixOptions, say: (m: string) => void): Promise<MatrixRun> {
  const stop = o.signal;
  const prepared = await unlessAborted(prepareMatrix(o.kernels, o.accel, say), stop);
  if (!prepared) {
    say(`${interruptedReason(stop!)} before the first cell started`);
    const cells = [];
    for (const e of o.kernels) cells.push(await finishUnrun(notStartedCell(e, o), o));
    return { cells, accel: null, runs: [] };
  }
  const { fetched, failed, accel } = prepared;
  const width = Math.max(...o.kernels.map((k) => k.id.length));
  const t0 = Date.now();
  const line = (id: string, what: string) => say(`[${secs(Date.now() - t0).padStart(5)}] ${id.padEnd(width)}  ${what}`);
  for (const k of o.kernels) line(k.id, 'queued');
  const runs = await pool(o.kernels, o.jobs, async (entry) => {
    if (stop?.aborted) {
      line(entry.id, `not started: ${interruptedReason(stop)}`);
      return { entry, cell: await finishUnrun(notStartedCell(entry, o), o), ran: null };
    }
    const kernel = fetched.get(entry.id);
    if (!kernel) {
      const f = failed.get(entry.id)!;
      const cell = await finishUnrun(await (f.phase === 'fetch' ? unfetchedCell(entry, f, o) : buildFailureCell(entry, f, o)), o);
      line(entry.id, `ERROR ${cell.error!.reason}`);
      return { entry, cell, ran: null };
    }
    const started = Date.now();
    const target = bootTarget(entry);
    line(entry.id, cellStartLine(entry, target, kernel, accel));
    const onRunning = target.sut === 'host' ? undefined : () => line(entry.id, `running the suite (${target.sut === 'container' ? 'container started' : 'booted'} in ${secs(Date.now() - started)})`);
    const cellDir = join(resolve(o.outDir), entry.id);
    await removeEarlierAttempts(cellDir);
    const earlier: NonNullable<CellResult['earlierAttempts']> = [];
    let { cell, result, health } = await runSuiteIn(entry, kernel, accel, o, onRunning);
    while (!stop?.aborted && diedBeforeCommand(result) && earlier.length < (o.bootRetries ?? 1)) {
      const kept = `console-attempt${earlier.length + 1}.log`;
      await rename(join(cellDir, 'console.log'), join(cellDir, kept));
      earlier.push({ reason: result.reason, consoleLog: kept });
      line(entry.id, `${result.reason}, before the command started: booting again (console kept as ${kept})`);
      ({ cell, result, health } = await runSuiteIn(entry, kernel, accel, o, onRunning));
    }
    if (earlier.length) cell.earlierAttempts = earlier;
    // Killed by us, not by the kernel: whatever the console looks like, the cell is unfinished.
    if (stop?.aborted) cell.error = { reason: interruptedReason(stop), consoleExcerpt: (await logTail(result.logPath)) || undefined };
    cell = await finishRan(entry, cell, health, o);
    const verdict = cell.error ? `ERROR ${cell.error.reason}` : summarize(cell);
    line(entry.id, `done in ${secs(Date.now() - started)}: ${verdict}`);
    return { entry, cell, ran: { entry, kernel, result } };
  });
  return { cells: runs.map((r) => r.cell), accel, runs: runs.flatMap((r) => (r.ran ? [r.ran] : [])) };
}

/** The cell of a kernel that did not build: an error (could not run), with the build log's tail. */
export async function buildFailureCell(entry: KernelEntry, f: BuildFailure, o: MatrixOptions): Promise<CellResult> {
  const cellDir = join(resolve(o.outDir), entry.id);
  await mkdir(cellDir, { recursive: true });
  for (const name of ['results.json', 'junit.xml', 'console.log', 'probe.log']) await rm(join(cellDir, name), { force: true });
  // The build log travels with the report, so the HTML cell and CI artifacts show it.
  await copyFile(f.logPath, join(cellDir, 'build.log')).catch(() => undefined);
  const cell = emptyCell(entry, o, new Date().toISOString());
  cell.durationMs = Math.round(f.seconds * 1000);
  cell.error = { reason: `${f.reason} (log: ${f.logPath})`, consoleExcerpt: f.logTail };
  cell.consoleLog = existsSync(join(cellDir, 'build.log')) ? 'build.log' : null;
  cell.provenance.kernelSource = `build ${f.tree} ${f.identity.description}`;
  return cell;
}

/** The cell of a kernel whose mirror was out of reach: an error naming the mirror option; nothing was cached. */
export async function unfetchedCell(entry: KernelEntry, f: UnreachableMirror, o: MatrixOptions): Promise<CellResult> {
  const cellDir = join(resolve(o.outDir), entry.id);
  await mkdir(cellDir, { recursive: true });
  for (const name of ['results.json', 'junit.xml', 'console.log', 'probe.log', 'build.log']) await rm(join(cellDir, name), { force: true });
  const cell = emptyCell(entry, o, new Date().toISOString());
  cell.error = { reason: f.reason };
  cell.consoleLog = null;
  return cell;
}

/** A cell that never ran the suite (not built, not started): no known issues or health to apply, only its files. */
function finishUnrun(cell: CellResult, o: MatrixOptions): Promise<CellResult> {
  return finishCell(cell, { knownIssues: null, dir: join(resolve(o.outDir), cell.kernelId), writers: o.writers, warn: () => undefined });
}

/** The cell of a kernel the interrupted run never started: an error, so the grid keeps its shape. */
function notStartedCell(entry: KernelEntry, o: MatrixOptions): CellResult {
  const cell = emptyCell(entry, o, new Date().toISOString());
  cell.mode = bootTarget(entry).sut;
  cell.error = { reason: `${interruptedReason(o.signal!)} before it started` };
  return cell;
}

/** Reruns the whole cell: the same kernel, options and test selection. */
function cellRerun(entry: KernelEntry, o: MatrixOptions): string {
  return rerunPrefix(entry.id, o, entry) + (o.tests?.length ? ` --test ${shellQuote(o.tests.join(','))}` : '') + (o.repeat && o.repeat > 1 ? ` --repeat ${o.repeat}` : '');
}

/** A cell with no probe results (the probe never wrote any), filled in by the caller. */
function emptyCell(entry: KernelEntry, o: MatrixOptions, startedAt: string): CellResult {
  return {
    schema: 1, kernelId: entry.id, mode: 'guest', accel: null, lsm: entry.lsm ?? null, facts: null, startedAt, durationMs: 0,
    hostname: hostname(), error: null, provenance: { harnessRev: harnessRevision(), node: process.version, command: o.command }, rerun: cellRerun(entry, o), cases: [],
    ...(o.tests?.length ? { tests: o.tests } : {}),
  };
}

/** The guest died (panic, boot failure) before virtme-init started the command. */
export function diedBeforeCommand(r: RunResult): boolean {
  return (r.status === 'panic' || r.status === 'boot-failure') && r.boot?.findings.scriptStarted === false;
}

async function removeEarlierAttempts(cellDir: string): Promise<void> {
  const names = await readdir(cellDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => /^console-attempt\d+\.log$/.test(n)).map((n) => rm(join(cellDir, n), { force: true })));
}

function summarize(cell: CellResult): string {
  const n: Record<string, number> = {};
  for (const c of cell.cases) n[c.status] = (n[c.status] ?? 0) + 1;
  return Object.entries(n).map(([s, k]) => `${k} ${s}`).join(', ') || 'no cases';
}

/** One cell, finished and written (known issues, kernel health, its files): bisect and bench run cells this way. */
export async function runCell(entry: KernelEntry, kernel: FetchedKernel, accel: AccelChoice | null, o: MatrixOptions, onRunning?: () => void): Promise<{ cell: CellResult; result: RunResult }> {
  const { cell, result, health } = await runSuiteIn(entry, kernel, accel, o, onRunning);
  return { cell: await finishRan(entry, cell, health, o), result };
}

/** The post-judge chain and the files of a cell that ran, with this checkout's known issues. */
function finishRan(entry: KernelEntry, cell: CellResult, health: KernelHealth | undefined, o: MatrixOptions): Promise<CellResult> {
  const warn = (w: string) => o.progress?.(`${entry.id}: warning: ${w}`);
  return finishCell(cell, { knownIssues: loadKnownIssues(), health, dir: join(resolve(o.outDir), entry.id), writers: o.writers, warn });
}

/**
 * Boots (or runs on the host) one cell and builds its CellResult, never throwing for the guest's
 * sake; finishCell does the rest (the matrix once per cell, after its boot retries).
 */
async function runSuiteIn(entry: KernelEntry, kernel: FetchedKernel, accel: AccelChoice | null, o: MatrixOptions, onRunning?: () => void): Promise<{ cell: CellResult; result: RunResult; health?: KernelHealth }> {
  const cellDir = join(resolve(o.outDir), entry.id);
  await mkdir(cellDir, { recursive: true });
  // A stale results.json from an earlier run must never pass for this run's result.
  for (const f of ['results.json', 'junit.xml', 'console.log', 'probe.log']) await rm(join(cellDir, f), { force: true });
  const cases = selectedCases(o.tests);
  // The guest only observes: it runs the plan and streams observations into cellDir (a --rwdir);
  // this process judges them after the guest is gone, whatever way it went.
  const guest = isGuest(entry);
  // The musl and i386 test binaries, built once into the cache; their dirs must be visible wherever the suite runs.
  const { musl, compat32, dirs: helperDirs } = await planHelpers(cases, o.progress, guest ? entry.arch : undefined);
  // `root: trixie`: the guest boots that suite's own root (vm/guest-root.ts), node from the host.
  let guestRoot: GuestRoot | Error | null = null;
  // `arch: arm64` too: that arch's root, with its own node and koffi's module of that arch.
  if (entry.root && guest) {
    const rootOpts = {
      repo: REPO_ROOT, rwdirs: [cellDir], rodirs: helperDirs, modulesDir: kernel.modulesDir, progress: o.progress, arch: entry.arch,
    };
    guestRoot = await prepareGuestRoot(entry.root, rootOpts).catch((e: Error) => e);
  }
  const rootOk = guestRoot instanceof Error ? null : guestRoot;
  // Only a guest's console is read by this process: a container shares the host's /dev/kmsg.
  // A guest the harness booted is a system nobody else uses: its core_pattern is the run's to set.
  const planArgv = preparePlan(cellDir, cases, { kmsg: guest, musl, compat32, repeat: o.repeat, ownCorePattern: guest });
  if (rootOk) planArgv[0] = rootOk.node;
  let command = cellCommand(planArgv);
  // A foreign root's environment (NODE_PATH to koffi's module of its arch) comes first.
  const guestEnv = { ...rootOk?.env, ...(o.guestEnv ?? faultEnv()) };
  if (Object.keys(guestEnv).length && guest) command = `env ${Object.entries(guestEnv).map(([k, v]) => shellQuote(`${k}=${v}`)).join(' ')} ${command}`;
  // A kernel that crashes glibc's threads (5.3.0-5.3.10) gets the clone3 fallback, decided in the guest.
  if (guest) command = withClone3Fallback(command, join(cellDir, STREAM_FILE));
  // An SELinux cell loads the test policy in the guest first; if that fails, the probe does
  // not run and the cell is an error, not a row of skips (suites/selinux/README.md).
  if (entry.lsm === 'selinux' && guest) command = `bash ${shellQuote(join(REPO_ROOT, 'suites/selinux/guest-setup.sh'))} && ${command}`;
  const append = kernelCmdlineExtra(entry) || undefined;
  // The entry's source kind names the system under test; vm/sut-for.ts picks the implementation.
  const sut: Sut = sutFor(bootTarget(entry), {
    kimg: kernel.kimg ?? undefined, accel: cellAccel(entry, accel), append, cpus: o.cpus, memory: o.memory,
    ...(rootOk ? { root: rootOk.root, rodirs: rootOk.rodirs, arch: rootOk.arch, busybox: rootOk.busybox } : {}),
  }, o.progress);
  const logName = { host: 'probe.log', container: 'container.log', guest: 'console.log' }[sut.kind];
  const startedAt = new Date();
  const watch = o.repeat && o.repeat > 1 && o.progress ? watchRepeats(join(cellDir, STREAM_FILE), o.repeat, (l) => o.progress!(`${entry.id}: ${l}`)) : null;
  const result = guestRoot instanceof Error
    ? { exitCode: null, status: 'boot-failure', reason: `could not prepare the ${entry.root} root: ${guestRoot.message}`, logPath: join(cellDir, logName), excerpt: '', durationMs: 0 } satisfies RunResult
    : await sut.run(command, {
    timeoutSec: entry.timeout ?? o.timeoutSec,
    logPath: join(cellDir, logName),
    rwdirs: [cellDir],
    rodirs: helperDirs,
    cwd: REPO_ROOT,
    onRunning,
    signal: o.signal,
  }).catch((e: Error): RunResult => ({ exitCode: null, status: 'boot-failure', reason: `could not start: ${e.message}`, logPath: join(cellDir, logName), excerpt: '', durationMs: 0 }));
  watch?.stop();
  const tools = sut.kind === 'guest' ? await toolVersions() : { vng: null, qemu: null };
  const rerun = cellRerun(entry, o);
  // Which named commits this kernel carries: its tree, its Debian changelog, or its version's table.
  const oracle = await oracleFor(kernel.origin, cases, catalogCommits(), (m) => o.progress?.(`${entry.id}: ${m}`));
  const judged = cellFromStream({
    oracle, identity: kernel.identity,
    kernelId: entry.id, mode: sut.kind, cases, dir: cellDir,
    exit: result.exitCode, stopped: o.signal?.aborted ? interruptedReason(o.signal) : result.status === 'ok' ? null : result.reason,
    rerunPrefix: rerunPrefix(entry.id, o, entry), command: o.command, startedAt, repeat: o.repeat,
  });
  if (judged.error) judged.error.consoleExcerpt = result.excerpt || (await logTail(result.logPath)) || undefined;
  // The running kernel's own /proc/config.gz (as the guest read it) wins over the file it shipped with.
  const ownConfig = judged.facts?.procConfigSha256 ? { sha256: judged.facts.procConfigSha256, file: '/proc/config.gz' } : null;
  const config = ownConfig ?? kernel.config ?? null;
  const containerInfo = sut instanceof ContainerSut ? sut.info : null;
  const cell: CellResult = {
    ...judged,
    // A container has no kernel of its own: its facts say so, with the image's exact libc.
    facts: judged.facts && containerInfo ? { ...judged.facts, kernelOf: 'host', userspace: { suite: containerInfo.userspace, packages: containerInfo.packages } } : judged.facts,
    ...(containerInfo ? { container: containerInfo } : {}),
    accel: sut.accel,
    lsm: entry.lsm ?? null,
    durationMs: result.durationMs,
    consoleLog: logName,
    provenance: {
      ...judged.provenance,
      qemu: tools.qemu,
      vng: tools.vng,
      kernelSource: kernel.description,
      ...(kernel.packages?.length ? { kernelPackages: kernel.packages } : {}),
      configHash: config?.sha256 ?? null,
      configSource: config?.file ?? null,
      kernelCmdline: result.boot ? await cmdlineOf(result.logPath) : undefined,
      ...(rootOk ? { guestRoot: { suite: rootOk.suite, userspaceId: rootOk.userspaceId, libc6: rootOk.libc6 } } : {}),
    },
    rerun,
    // What the run selected: a cell that errors stands for these tests only.
    ...(o.tests?.length ? { tests: o.tests } : {}),
  };
  // Kernel health from the guest console: reports during a case make it an error, the rest
  // the cell's kernel_health test (harness/judge/health.ts). The host cell has its taint record only.
  let health: KernelHealth | undefined;
  if (sut.kind === 'guest' && judged.facts) {
    const text = await readFile(result.logPath, 'latin1').catch(() => '');
    if (text) health = healthFromConsole(text, cell.taint);
  } else if (sut.kind !== 'guest') health = healthFromTaint(cell.taint);
  // Known issues and health are applied by finishCell, on the host, like every other judgement.
  return { cell, result, health };
}

/** The kernel command line vng built, as the guest kernel printed it. */
async function cmdlineOf(consoleLog: string): Promise<string | undefined> {
  const text = await readFile(consoleLog, 'latin1').catch(() => '');
  return /Command line: (.*)/.exec(text)?.[1]?.trim();
}

async function logTail(path: string, lines = 30): Promise<string> {
  try {
    return (await readFile(path, 'latin1')).replace(/\r/g, '').split('\n').filter((l) => l.trim()).slice(-lines).join('\n');
  } catch {
    return '';
  }
}
