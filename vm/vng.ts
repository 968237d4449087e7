// Boots one kernel under virtme-ng, runs one command in it, and says how it ended.
// The guest sees the host's root fs read-only (so this checkout and node are there) plus the
// --rwdir dirs read-write; vng returns the command's exit status (255 when the guest dies).
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { analyzeConsole, classifyGuest, consoleExcerpt, faultLine, kernelStampsEvidence, type ConsoleFindings, type GuestStatus } from './console.js';
import { vngBinary } from './tools.js';
import { runGroup } from './process-group.js';

export type Accel = 'kvm' | 'tcg';
/** Guest architectures besides the host's own (x86_64): vng's --arch names. */
export const GUEST_ARCHES = ['arm64'] as const;
export type GuestArch = (typeof GUEST_ARCHES)[number];

export interface BootOptions {
  accel: Accel;
  /** Host dirs the guest may write (same path inside). */
  rwdirs?: string[];
  /** Another root for the guest (vng --root DIR, read-only) instead of the host's own. */
  root?: string;
  /** Host dirs the guest reads: [guest path, host path] (vng --rodir); needed with `root`. */
  rodirs?: [string, string][];
  /**
   * A guest of another architecture (vng --arch: qemu-system-aarch64 -M virt, TCG): it needs a
   * `root` of that architecture, and a static `busybox` of it for the initramfs that loads
   * 9p and virtio (vng looks in the root, which a minbase root does not have).
   */
  arch?: GuestArch;
  busybox?: string;
  /** Hard wall-clock limit; the whole qemu process group is killed after it. */
  timeoutSec: number;
  /** Extra kernel command line. */
  append?: string;
  cpus?: number;
  memory?: string;           // qemu -m syntax, e.g. '2G'
  consoleLogPath: string;    // kept as an artifact
  cwd?: string;              // host dir the command starts in (default: this process's cwd)
  /** Called once when virtme-init starts the command (the kernel has booted). */
  onRunning?: () => void;
  /** Kills the guest's process group when aborted (Ctrl-C/SIGTERM of the harness). */
  signal?: AbortSignal;
  /**
   * After a kernel panic or fault printed before the command started, the guest is stopped
   * once its console has been silent this long (default FAULT_SILENCE_SEC), instead of
   * waiting for timeoutSec: a kernel wedged at boot would otherwise hold the cell for minutes.
   */
  faultSilenceSec?: number;
}

export interface BootResult {
  exitCode: number | null;   // the guest command's status; null when killed or unknown
  status: GuestStatus;
  reason: string;
  consoleLogPath: string;
  consoleExcerpt: string;
  findings: ConsoleFindings;
  durationMs: number;
  /** The exact vng command line, for provenance and reruns. */
  argv: string[];
  marks?: BootMarks;
}

/** Milliseconds after vng was started at which the host saw the kernel's first line and the command's exit. */
export interface BootMarks { kernelStartMs: number | null; scriptReturnedMs: number | null }

export const DEFAULT_CPUS = 2;
/** A kernel that faulted at boot and then printed nothing for this long is not coming back. */
export const FAULT_SILENCE_SEC = 30;
export const DEFAULT_MEMORY = '2G';
/** The console's first bytes kept to read the kernel's banner and command line (about 10 KB in). */
const HEAD_MAX = 64 * 1024;

export function vngArgs(kimg: string, command: string, o: Pick<BootOptions, 'accel' | 'rwdirs' | 'append' | 'cpus' | 'memory' | 'root' | 'rodirs' | 'arch' | 'busybox'>): string[] {
  if (o.arch && !o.root) throw new Error(`an ${o.arch} guest needs a root of its architecture (root: ...): the host's binaries cannot run in it`);
  if (o.arch && o.accel === 'kvm') throw new Error(`an ${o.arch} guest on this x86_64 host runs under TCG only (--accel tcg)`);
  const args = ['--run', kimg, '--force-9p', '--verbose', '--cpus', String(o.cpus ?? DEFAULT_CPUS), '--memory', o.memory ?? DEFAULT_MEMORY];
  // virtiofsd from Debian trixie needs a newer glibc than bookworm's: 9p works everywhere.
  if (o.accel === 'tcg') args.push('--disable-kvm');
  // An entropy source: a quiet guest (no udev coldplug) on a kernel before 5.4 otherwise never
  // finishes crng init, and node blocks in getrandom() at startup (vanilla 5.3.1 sat idle).
  args.push('--qemu-opts=-device virtio-rng-pci');
  // vng boots vm/guest/lean-init (installed by scripts/setup/vm.sh as its virtme-ng-init); this goes
  // back to virtme-init with udev and tmpfiles, e.g. to compare boot times.
  if (process.env.PIDFD_MATRIX_FULL_INIT === '1') args.push('--no-virtme-ng-init');
  // guest=host form: with a bare host path vng checks the guest path relative to its cwd.
  if (o.arch) args.push('--arch', o.arch);
  if (o.busybox) args.push('--busybox', o.busybox);
  if (o.root) args.push('--root', o.root);
  for (const [guest, host] of o.rodirs ?? []) args.push(`--rodir=${guest}=${host}`);
  for (const d of o.rwdirs ?? []) args.push(`--rwdir=${d}=${d}`);
  if (o.append) args.push('--append', o.append);
  args.push('--', command);
  return args;
}

export async function boot(kimg: string, command: string, o: BootOptions): Promise<BootResult> {
  const argv = [vngBinary(), ...vngArgs(kimg, command, o)];
  await mkdir(dirname(o.consoleLogPath), { recursive: true });
  const log = createWriteStream(o.consoleLogPath, { flags: 'w' });
  log.write(`# ${argv.map(shellQuote).join(' ')}\n`);
  const t0 = Date.now();
  let running = false;
  let tail = '';
  // Host-side arrival times of two console lines, so bench can tell qemu's own start and the
  // shutdown from the kernel's timestamps (vm/phases.ts).
  const marks: BootMarks = { kernelStartMs: null, scriptReturnedMs: null };
  // A fault before the command: stop the guest after a silence (a kernel that carries on
  // booting keeps printing, and its cell keeps its answers; kernel health still reports it).
  const silenceSec = o.faultSilenceSec ?? FAULT_SILENCE_SEC;
  const stalled = new AbortController();
  let fault: string | null = null;
  let stamps: boolean | null = null;
  let head = '';
  let silence: NodeJS.Timeout | undefined;
  const armSilence = () => {
    clearTimeout(silence);
    silence = setTimeout(() => { if (!running) stalled.abort(); }, silenceSec * 1000);
  };
  // Our own parser on the live stream (zx hands output over at the end): onRunning and the
  // marks need each line as it arrives.
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('latin1')).slice(-4096);
    if (marks.kernelStartMs === null && /\[\s*0\.0+\]/.test(tail)) marks.kernelStartMs = Date.now() - t0;
    if (marks.scriptReturnedMs === null && tail.includes('virtme-init: script returned')) marks.scriptReturnedMs = Date.now() - t0;
    if (!running && tail.includes('virtme-init: starting script')) {
      running = true;
      clearTimeout(silence);
      o.onRunning?.();
    }
    // Whether this kernel stamps its lines: read once on the boot's first lines, up to its
    // command line (printk.time=), kept apart because the tail moves on.
    if (stamps === null) {
      head = (head + chunk.toString('latin1')).slice(0, HEAD_MAX);
      if (/Kernel command line: .*\n/.test(head) || head.length >= HEAD_MAX) stamps = kernelStampsEvidence(head);
    }
    if (!running && fault === null) fault = faultLine(tail, stamps ?? undefined);
    if (!running && fault !== null) armSilence();
  };
  // Own process group (a timeout kills vng *and* its qemu), real pipes, dies with us.
  const signal = o.signal ? AbortSignal.any([o.signal, stalled.signal]) : stalled.signal;
  const run = await runGroup(argv, { cwd: o.cwd, timeoutSec: o.timeoutSec, signal, onData });
  clearTimeout(silence);
  if (run.startError) log.write(`\n# failed to start vng: ${run.startError}\n`);
  const { exitCode, timedOut } = run;
  await new Promise<void>((res) => log.end(res));
  const text = await readFile(o.consoleLogPath, 'latin1');
  const findings = analyzeConsole(text);
  const verdict = classifyGuest(timedOut ? null : exitCode, timedOut, findings, o.timeoutSec);
  const { status } = verdict;
  const reason = stalled.signal.aborted && !o.signal?.aborted
    ? `${verdict.reason}; the command never started and the console stayed silent ${silenceSec} s after it, so the guest was stopped (not left to the ${o.timeoutSec} s limit)`
    : verdict.reason;
  return {
    exitCode: timedOut ? null : status === 'ok' ? (findings.scriptExit ?? exitCode) : exitCode,
    status,
    reason,
    consoleLogPath: o.consoleLogPath,
    consoleExcerpt: status === 'ok' ? '' : consoleExcerpt(text),
    findings,
    durationMs: Date.now() - t0,
    argv,
    marks,
  };
}

/** POSIX sh quoting for lines people paste and `sh` runs (zx's quote writes bash-only $'...'). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
