// `pidfd-matrix bench`: how much of a guest run is boot and how much is the suite. Per kernel:
// a bare `vng -- true` boot, a boot + full suite, their ratio; plus the suite on the host.
// One guest at a time, so the numbers are not skewed by guests competing for the CPUs.
import { KERNEL_HEALTH_ID } from '../judge/health.js';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from './types.js';
import { UsageError } from './types.js';
import { reportInputError } from './input-errors.js';
import { intOption, parseOptions } from './args.js';
import { DEFAULT_TIMEOUT_SEC, cellAccel, prepareMatrix, runCell, type MatrixOptions } from '../run/run-matrix.js';
import { prepareGuestRoot } from '../../vm/guest-root.js';
import { repoPath } from '../../suites/lib/paths.js';
import { parseAccel } from './matrix.js';
import { defaultMatrixFile, kernelCmdlineExtra, loadMatrix, selectKernels, type Matrix, type KernelEntry } from '../../kernels/matrix.js';
import { VngSut } from '../../vm/sut.js';
import { bootTarget } from '../../kernels/sources/index.js';
import { consolePhases, type Phases } from '../../vm/phases.js';
import { toolVersions } from '../../vm/tools.js';
import { holdKernelCache } from '../../kernels/cache.js';
import type { Lock } from '../../kernels/lock.js';

const usage = `Usage: pidfd-matrix bench [--kernels ID,...] [--matrix FILE] [--accel kvm|tcg|auto] [--timeout S] [--out DIR]

Per kernel of the matrix: the time of a bare boot (\`vng -- true\`), of a boot + the whole
suite, and their ratio; for the 'host' entry the suite time without a VM. A second table
splits each guest's boot + suite run into phases (qemu start, kernel init, virtme-init,
command start, node ready, suite, shutdown) from its console's timestamps. Guests run one at
a time. Default kernels: every entry of --matrix (default kernels/matrix.yaml) without an lsm or root
(each kernel once), and every arm64 entry (its kernel is no other entry's); --kernels takes ids,
'all' or 'ci' as in matrix. An entry with a root: boots that root for the bare boot too (an arm64
guest cannot boot the host's), and an arm64 entry runs under TCG whatever --accel says. A 'container' entry boots
nothing and is not benched. Prints one table and writes DIR/bench.json (default
reports/); the suite runs write DIR/bench/<id>/. Exit 0 unless the bench itself could not
run (failing tests do not count).`;

export interface BenchRow {
  kernelId: string;
  release: string;
  mode: 'host' | 'guest';
  accel: 'kvm' | 'tcg' | null;
  bootMs: number | null;       // bare `vng -- true`
  suiteMs: number;             // boot + suite (guest) or suite (host)
  ratio: number | null;        // suiteMs / bootMs
  status: string;              // how the suite run ended: ok, or the error
  cases: number;
  /** Guest only: where the boot + suite run's time went, from its console (vm/phases.ts). */
  phases?: Phases;
}

/**
 * Without --kernels, each kernel once: an lsm entry (e.g. bookworm-selinux) or a root entry
 * (trixie-root: the same kernel on its distro's root, whose bare boot here would be on the
 * host's root) boots the same kernel as its plain entry, so it would only repeat a row.
 */
export function benchKernels(matrix: Matrix, spec: string | undefined): KernelEntry[] {
  return spec ? selectKernels(matrix, spec) : matrix.kernels.filter((k) => !k.lsm && (!k.root || k.arch));
}

const s = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)}s`);

export function benchTable(rows: BenchRow[]): string {
  const head = ['kernel', 'release', 'accel', 'boot (true)', 'boot+suite', 'ratio', 'cases', 'status'];
  const body = rows.map((r) => [r.kernelId, r.release, r.accel ?? 'host', s(r.bootMs), s(r.suiteMs), r.ratio === null ? '-' : `${r.ratio.toFixed(1)}x`, String(r.cases), r.status]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n');
}

const PHASES: [keyof Phases, string][] = [
  ['qemuStartMs', 'qemu start'], ['kernelInitMs', 'kernel init'], ['virtmeInitMs', 'virtme-init'], ['commandStartMs', 'command start'],
  ['nodeReadyMs', 'node ready'], ['suiteMs', 'suite'], ['shutdownMs', 'shutdown'],
];

/** One row per guest: the boot + suite run split into its phases. */
export function phaseTable(rows: BenchRow[]): string {
  const head = ['kernel', ...PHASES.map(([, h]) => h), 'total'];
  const body = rows.filter((r) => r.phases).map((r) => [r.kernelId, ...PHASES.map(([k]) => s(r.phases![k])), s(r.suiteMs)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  return [head, ...body].map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n');
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'boot time vs boot + suite time per kernel, and the host suite time',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      kernels: { type: 'string' }, accel: { type: 'string' }, timeout: { type: 'string' }, out: { type: 'string' }, matrix: { type: 'string' },
    }, usage);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${usage}`);
    const accelReq = parseAccel(values.accel);
    const timeoutSec = intOption(values.timeout, 'timeout') ?? DEFAULT_TIMEOUT_SEC;
    const outDir = resolve(values.out ?? repoPath('reports'));
    let cache: Lock | null = null;
    try {
      const kernels = benchKernels(loadMatrix(values.matrix ?? defaultMatrixFile()), values.kernels);
      const say = (m: string) => console.log(m);
      cache = await holdKernelCache(); // `kernels clean` must not delete what we boot
      const { fetched, failed, accel } = await prepareMatrix(kernels, accelReq, say);
      const opts: MatrixOptions = { kernels, outDir: join(outDir, 'bench'), jobs: 1, timeoutSec, accel: accelReq, matrixFile: values.matrix === undefined ? undefined : resolve(values.matrix), command: ['npx pidfd-matrix bench', ...argv].join(' ') };
      const rows: BenchRow[] = [];
      for (const e of kernels) {
        const k = fetched.get(e.id);
        if (!k) {
          say(`${e.id}: not benched: ${failed.get(e.id)?.reason}`);
          continue;
        }
        const sut = bootTarget(e).sut;
        if (sut === 'container') {
          say(`${e.id}: not benched: a container cell boots nothing (its whole time is in results.json durationMs)`);
          continue;
        }
        let bootMs: number | null = null;
        if (sut === 'guest') {
          say(`${e.id}: bare boot (vng -- true) ...`);
          // The entry's own root (its arch's, for arm64), as its cell boots: the bare boot is that boot without the suite.
          const gr = e.root ? await prepareGuestRoot(e.root, { repo: repoPath(), rwdirs: [], modulesDir: k.modulesDir, arch: e.arch, progress: say }) : null;
          const sut = new VngSut({
            kimg: k.kimg!, accel: cellAccel(e, accel)!, append: kernelCmdlineExtra(e) || undefined,
            ...(gr ? { root: gr.root, rodirs: gr.rodirs, arch: gr.arch, busybox: gr.busybox } : {}),
          });
          const r = await sut.run('true', { timeoutSec, logPath: join(outDir, 'bench', e.id, 'boot-console.log'), cwd: tmpdir() });
          bootMs = r.status === 'ok' ? r.durationMs : null;
          say(`${e.id}: bare boot ${r.status === 'ok' ? s(r.durationMs) : `failed: ${r.reason}`}`);
        }
        say(`${e.id}: ${sut === 'host' ? 'suite on the host' : 'boot + suite'} ...`);
        const { cell, result } = await runCell(e, k, accel, opts);
        const suiteMs = result.durationMs;
        const ran = cell.cases.filter((c) => c.id !== KERNEL_HEALTH_ID).length; // the suite's cases, not the health verdict
        const phases = result.boot ? consolePhases(await readFile(result.logPath, 'latin1').catch(() => ''), result.boot.marks, result.durationMs) : undefined;
        rows.push({
          kernelId: e.id, release: k.release, mode: sut === 'host' ? 'host' : 'guest', accel: cell.accel, bootMs, suiteMs,
          ratio: bootMs ? suiteMs / bootMs : null, status: cell.error ? `error: ${cell.error.reason}` : 'ok', cases: ran,
          ...(phases ? { phases } : {}),
        });
        say(`${e.id}: ${s(suiteMs)} (${cell.error ? cell.error.reason : `${ran} cases`})`);
      }
      const tools = await toolVersions();
      await mkdir(outDir, { recursive: true });
      const file = join(outDir, 'bench.json');
      await writeFile(file, JSON.stringify({ schema: 1, at: new Date().toISOString(), accel, qemu: tools.qemu, vng: tools.vng, rows }, null, 2) + '\n');
      console.log('');
      console.log(benchTable(rows));
      if (rows.some((r) => r.phases)) console.log(`\n${phaseTable(rows)}`);
      console.log(`\nbench: ${file}`);
      return 0;
    } catch (e) {
      const code = reportInputError(this.name, values.matrix, e);
      if (code !== null) return code;
      throw e;
    } finally {
      await cache?.release();
    }
  },
};
