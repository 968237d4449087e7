// `pidfd-matrix matrix`: the product. Boots every kernel of kernels/matrix.yaml (or --kernels),
// runs the suite in each, writes reports/<id>/ per kernel plus the merged reports.
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from './types.js';
import { UsageError } from './types.js';
import { reportInputError } from './input-errors.js';
import { intOption, parseOptions } from './args.js';
import { DEFAULT_TIMEOUT_SEC, defaultGuestCpus, runMatrix } from '../run/run-matrix.js';
import { writeMatrixReports } from '../report/reports.js';
import { DEFAULT_REPORTS, writersHelp } from '../report/formats.js';
import { kcidbContext, reportsOption } from './reports-option.js';
import { statusTable } from '../report/table.js';
import type { CaseResult } from '../results.js';
import { isBad } from '../status.js';
import { repoPath } from '../../suites/lib/paths.js';
import { catchInterrupts } from '../run/interrupt.js';
import { parseShard, shardOf } from '../run/shard.js';
import { listTests } from '../run/list-tests.js';
import { defaultMatrixFile, loadMatrix, selectKernels, type KernelEntry } from '../../kernels/matrix.js';
import { isGuest } from '../../kernels/sources/index.js';
import { adhocEntry } from '../run/adhoc.js';
import type { AccelRequest } from '../../vm/accel.js';

const usage = `Usage: pidfd-matrix matrix [--kernels ID,...] [--jobs N] [--timeout S] [--accel kvm|tcg|auto] [--out DIR]
                           [--reports FORMAT[,FORMAT...]] [--kcidb-origin NAME] [--kcidb-versions FILE]
       pidfd-matrix matrix --kernel BZIMAGE | --kernel-tree DIR | --kernel-version V [--config FRAGMENT]... [--id ID] [options]

Fetch the kernels of the matrix (kernels/matrix.yaml), boot each under virtme-ng, run the probe
suite inside (the 'host' entry runs it directly, no VM; a 'container' entry in a distro
userspace container on the running kernel, see kernels/userspace.yaml; an entry with
'root: SUITE' boots that Debian suite's own root), and collect the results: DIR/<id>/
(results.json, junit.xml, and console.log, container.log or the host's probe.log) per kernel,
and the merged DIR/junit.xml (one
testsuite per kernel), DIR/index.html and DIR/summary.md (with container cells also
DIR/policy.md and DIR/policy.html: what each seccomp profile and runtime blocked). Prints a
feature x kernel table. Exits 1 when
any test failed or any cell errored (boot failure, panic, timeout), 2 on bad input.

Ctrl-C (SIGINT) or SIGTERM: every guest (qemu/vng process group) is killed at once, the reports
are still written, with each running or not yet started cell as an error ("interrupted by
SIGINT"), and the exit status is 130 for SIGINT, 143 for SIGTERM (128 + the signal number, as a
shell reports it). A second signal exits at once without reports.

Options:
  --kernels IDS   comma separated matrix ids; 'all' (default) or 'ci' (the CI smoke set)
  --jobs N        guests booted in parallel (default: CPU count, ${availableParallelism()})
  --timeout S     wall-clock limit per guest in seconds, boot included (default ${DEFAULT_TIMEOUT_SEC}; an
                  entry's own 'timeout:' wins); the qemu process group is killed after it
  --accel A       kvm, tcg or auto (default): auto probes KVM once with a tiny boot, caches the
                  verdict (per host kernel, qemu and KVM driver, whatever the kernels) and falls
                  back to TCG when KVM cannot run stock kernels
  --out DIR       report directory (default: reports/)
  --test IDS      only these tests (feature or feature/case ids), as the rerun lines use
  --repeat N      run each selected case N times inside each cell's one boot (default 1), each
                  run with its own deadline, a progress line every few seconds; the verdict
                  counts the runs per answer: one answer is judged as usual ("N/N runs"), two
                  or more are an error ("unstable: ..."). --timeout still bounds the whole cell
  --boot-retries N  boot a guest again when it died before the suite started (panic or
                  boot failure; default 1); the earlier console is kept as console-attemptN.log
  --cpus N        guest CPUs (default: the host's CPUs shared by the guests running at once,
                  1 to 2; here ${defaultGuestCpus(1, 1, availableParallelism())} alone, ${defaultGuestCpus(availableParallelism(), 2, availableParallelism())} with the default --jobs). Rerun lines name it
  --memory M      guest memory (default 2G)
  --matrix FILE   another matrix file (default: kernels/matrix.yaml)
  --shard K/N     run only shard K of N: every N-th selected kernel starting at the K-th, in
                  matrix order (deterministic, so N CI runners split one matrix without talking;
                  join their outputs with 'pidfd-matrix report merge')
  --reports LIST  the formats to write besides results.json, comma separated (default:
                  ${DEFAULT_REPORTS.run.join(',')}):
${writersHelp('                    ')}
  --kcidb-origin NAME  the KCIDB origin of --reports kcidb (default: pidfd_matrix)
  --kcidb-versions FILE  the KCIDB issue versions (default: kernels/kcidb-issue-versions.yaml);
                  checked before anything runs: an issue edited without \`kcidb versions --update\`
                  stops the command at once with that command
  --list          print the selected kernels (after --shard) and the test ids with their
                  feature and area, then exit 0 without booting anything

Ad hoc kernels (no matrix file; for CI lanes and one-off checks):
  --kernel PATH       boot this bzImage (e.g. arch/x86/boot/bzImage); cell id kernel-<release>
  --kernel-tree DIR   build the source tree DIR first (as pidfd-matrix kernels build: out of
                      tree, cached, kernels/configs/pidfd-minimal.config), then boot it; cell id
                      tree-<dir name>. A build failure is an error cell "build failed ..."
  --kernel-version V  6.16: Ubuntu's mainline build of v6.16 (source: mainline: CHECKSUMS.gpg
                      checked with the pinned Kernel PPA key, then each .deb's sha256); cell id
                      mainline-6-16. kernel.org:5.4.301: that kernel.org tarball, checked against
                      its signed sha256sums.asc, then built (source: kernel.org). README "Kernel
                      source kinds" (mirrors, keys)
  --config FRAGMENT   extra config fragment for --kernel-tree or --kernel-version kernel.org:V (repeatable)
  --id ID             the cell id instead of the derived one
  --lsm L             boot with this LSM (selinux), as an entry's lsm:
  --append ARGS       extra kernel command line
The cell gets provenance, JUnit and rerun lines like any other.`;

export function parseAccel(v: string | undefined): AccelRequest {
  if (v === undefined) return 'auto';
  if (v === 'kvm' || v === 'tcg' || v === 'auto') return v;
  throw new UsageError(`--accel wants kvm, tcg or auto, got '${v}'`);
}

export const matrixCommand: Command = {
  name: 'matrix',
  summary: 'boot the kernel matrix under virtme-ng and run the suite in each guest (or container)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      kernels: { type: 'string' }, jobs: { type: 'string' }, timeout: { type: 'string' }, accel: { type: 'string' },
      out: { type: 'string' }, test: { type: 'string' }, cpus: { type: 'string' }, memory: { type: 'string' }, matrix: { type: 'string' },
      'boot-retries': { type: 'string' }, shard: { type: 'string' }, list: { type: 'boolean' },
      kernel: { type: 'string' }, 'kernel-tree': { type: 'string' }, 'kernel-version': { type: 'string' }, config: { type: 'string', multiple: true },
      id: { type: 'string' }, lsm: { type: 'string' }, append: { type: 'string' }, repeat: { type: 'string' }, reports: { type: 'string' },
      'kcidb-origin': { type: 'string' }, 'kcidb-versions': { type: 'string' },
    }, usage);
    const repeat = intOption(values.repeat, 'repeat');
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${usage}`);
    const accel = parseAccel(values.accel);
    const jobs = intOption(values.jobs, 'jobs') ?? availableParallelism();
    const timeoutSec = intOption(values.timeout, 'timeout') ?? DEFAULT_TIMEOUT_SEC;
    const cpus = intOption(values.cpus, 'cpus');
    const bootRetries = intOption(values['boot-retries'], 'boot-retries', 0);
    if (values.memory !== undefined && !/^\d+[MG]?$/.test(values.memory)) throw new UsageError(`--memory wants a size like 2G or 1536M, got '${values.memory}'`);
    const outDir = resolve(values.out ?? repoPath('reports'));
    const writers = reportsOption(values.reports, DEFAULT_REPORTS.run, values['kcidb-origin']);
    const versionsFile = values['kcidb-versions'] === undefined ? undefined : resolve(values['kcidb-versions']);
    if (versionsFile && !writers.some((w) => w.name === 'kcidb')) throw new UsageError('--kcidb-versions goes with --reports ...,kcidb');
    // Before any fetch or boot: a stale issue version would otherwise fail only after the run.
    const reportContext = kcidbContext(writers, values['kcidb-origin'], versionsFile);
    const tests = values.test?.split(',').map((t) => t.trim()).filter(Boolean);
    let shard;
    try {
      shard = values.shard === undefined ? null : parseShard(values.shard);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const interrupts = catchInterrupts('pidfd-matrix matrix');
    try {
      const adhoc = values.kernel !== undefined || values['kernel-tree'] !== undefined || values['kernel-version'] !== undefined;
      if (!adhoc && (values.config || values.id || values.lsm || values.append)) throw new UsageError('--config, --id, --lsm and --append go with --kernel, --kernel-tree or --kernel-version');
      if (adhoc && (values.kernels || values.matrix || values.shard)) throw new UsageError('--kernel/--kernel-tree/--kernel-version boot one kernel without a matrix file; drop --kernels/--matrix/--shard');
      let selected: KernelEntry[];
      let selectArgs: ((id: string) => string[]) | undefined;
      if (adhoc) {
        const a = adhocEntry({ kernel: values.kernel, tree: values['kernel-tree'], version: values['kernel-version'], config: values.config, id: values.id, lsm: values.lsm, append: values.append });
        selected = [a.entry];
        selectArgs = () => a.selectArgs;
      } else {
        selected = selectKernels(loadMatrix(values.matrix ?? defaultMatrixFile()), values.kernels);
      }
      const kernels = shard ? shardOf(selected, shard) : selected;
      if (values.list) {
        console.log(`kernels${shard ? ` (shard ${shard.index}/${shard.total} of ${selected.map((k) => k.id).join(', ')})` : ''}: ${kernels.map((k) => k.id).join(', ') || '(none)'}`);
        console.log(listTests(tests));
        return 0;
      }
      if (kernels.length === 0) {
        console.log(`pidfd-matrix matrix: shard ${shard!.index}/${shard!.total} has no kernel (the selection has ${selected.length}); nothing to run`);
        return 0;
      }
      const guests = kernels.filter(isGuest).length;
      // Chosen here, not in the guest layer, so every rerun line names the vCPUs its cell had.
      const guestCpus = cpus ?? (guests ? defaultGuestCpus(jobs, guests, availableParallelism()) : undefined);
      const cpuNote = guestCpus === undefined ? '' : `, ${guestCpus} vCPU${guestCpus === 1 ? '' : 's'} per guest`;
      console.log(`pidfd-matrix matrix: ${kernels.map((k) => k.id).join(', ')} (jobs ${jobs}${cpuNote}, timeout ${timeoutSec}s, accel ${accel}) -> ${outDir}`);
      const t0 = Date.now();
      const run = await runMatrix({
        kernels, outDir, jobs, timeoutSec, accel, tests, repeat, cpus: guestCpus, memory: values.memory, bootRetries,
        matrixFile: values.matrix === undefined ? undefined : resolve(values.matrix),
        progress: (l) => console.log(l),
        command: ['npx pidfd-matrix matrix', ...argv].join(' '),
        signal: interrupts.signal,
        selectArgs, writers,
      });
      const written = await writeMatrixReports(run.cells, outDir, { writers, context: reportContext });
      console.log('');
      // A --test run shows the rows it ran (as probe does), not the whole catalog as '-'.
      const rowOf = ({ id, feature, case: k, area, title }: CaseResult) => [id, { id, feature, case: k, area, title }] as const;
      const ran = tests?.length ? [...new Map(run.cells.flatMap((c) => c.cases).map(rowOf)).values()] : undefined;
      console.log(statusTable(run.cells, { color: process.stdout.isTTY, ...(ran?.length ? { rows: ran } : {}) }));
      console.log('');
      for (const c of run.cells) {
        for (const a of c.earlierAttempts ?? []) console.log(`RETRIED ${c.kernelId}: ${a.reason} before the suite started\n  console: ${resolve(outDir, c.kernelId, a.consoleLog)}`);
        if (c.error) {
          // A kernel that was never fetched has no console or build log to point at.
          const log = c.consoleLog ? `\n  console: ${resolve(outDir, c.kernelId, c.consoleLog)}` : '';
          console.log(`ERROR ${c.kernelId}: ${c.error.reason}${log}\n  rerun: ${c.rerun}`);
        }
        for (const k of c.cases.filter((x) => isBad(x.status))) console.log(`${k.status.toUpperCase()} ${c.kernelId} ${k.id}: ${k.reason}\n  rerun: ${k.rerun}`);
      }
      if (run.accel) console.log(`accel: ${run.accel.accel} (${run.accel.reason})`);
      const took = `  (${((Date.now() - t0) / 1000).toFixed(0)}s)`;
      if (values.reports === undefined) console.log(`reports: ${outDir}/junit.xml, ${outDir}/index.html, ${outDir}/summary.md${run.cells.some((c) => c.container) ? `, ${outDir}/policy.md` : ''}${took}`);
      else console.log(`reports: ${written.join(', ') || '(results.json per cell only)'}${took}`);
      const interrupted = interrupts.exitCode();
      if (interrupted !== null) {
        console.log(`interrupted: exit ${interrupted}`);
        // A fetch child (apt-get, dpkg) may still hold the event loop: do not wait for it.
        setTimeout(() => process.exit(interrupted), 2000).unref();
        return interrupted;
      }
      const bad = run.cells.some((c) => c.error || c.cases.some((x) => isBad(x.status)));
      return bad ? 1 : 0;
    } catch (e) {
      const code = reportInputError(this.name, values.matrix, e);
      if (code !== null) return code;
      throw e;
    } finally {
      interrupts.dispose();
    }
  },
};
