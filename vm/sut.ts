// The system under test behind one interface (as LTP's kirk does with host vs qemu): the
// matrix and bench run a command and get one RunResult, whether on this machine or in a guest.
import { runGroup } from './process-group.js';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { boot, shellQuote, type Accel, type BootResult, type GuestArch } from './vng.js';
import type { GuestStatus } from './console.js';

export interface RunOptions {
  timeoutSec: number;
  /** Where the run's output (host) or console (guest) is kept. */
  logPath: string;
  /** Host dirs the command writes into (a guest gets them as --rwdir). */
  rwdirs?: string[];
  /** Host dirs the command only reads, outside the checkout (the cached musl binary): a container gets them bind-mounted, same path. */
  rodirs?: string[];
  cwd?: string;
  onRunning?: () => void;
  /** Kills the run (its whole process group) when aborted: Ctrl-C/SIGTERM of the harness. */
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number | null;
  status: GuestStatus;
  reason: string;
  logPath: string;
  excerpt: string;
  durationMs: number;
  /** Guest only: the full boot result (console findings, vng argv). */
  boot?: BootResult;
}

export interface Sut {
  readonly kind: 'host' | 'guest' | 'container';
  readonly accel: Accel | null;
  run(command: string, o: RunOptions): Promise<RunResult>;
}

/** The running kernel: `bash -c command`, same timeout and process-group kill as a guest. */
export class HostSut implements Sut {
  readonly kind = 'host';
  readonly accel = null;
  async run(command: string, o: RunOptions): Promise<RunResult> {
    await mkdir(dirname(o.logPath), { recursive: true });
    const log = createWriteStream(o.logPath);
    const t0 = Date.now();
    o.onRunning?.();
    const { exitCode: code, timedOut } = await runGroup(['bash', '-c', command], { cwd: o.cwd, timeoutSec: o.timeoutSec, signal: o.signal, onData: (c) => log.write(c) });
    await new Promise<void>((res) => log.end(res));
    return {
      exitCode: timedOut ? null : code,
      status: timedOut ? 'timeout' : 'ok',
      reason: timedOut ? `no result within ${o.timeoutSec}s; killed` : '',
      logPath: o.logPath,
      excerpt: '',
      durationMs: Date.now() - t0,
    };
  }
}

export interface VngSutOptions {
  kimg: string;
  accel: Accel;
  append?: string;
  cpus?: number;
  memory?: string;
  /** A distro root to boot instead of the host's (vm/guest-root.ts), with the dirs it must see. */
  root?: string;
  rodirs?: [string, string][];
  /** A guest of another architecture (vng --arch, TCG) and the static busybox of its initramfs. */
  arch?: GuestArch;
  busybox?: string;
}

/** One fresh virtme-ng guest per run() call. */
/**
 * vng passes the guest command base64-encoded on the kernel command line, which x86 caps at
 * 2048 bytes: a command naming a few deep paths (a CI runner's build dir) overflowed it and a
 * Debian 6.1 kernel died in fortify_panic ("kernel BUG at lib/string_helpers.c") before init,
 * then sat there until the cell timeout. So the command goes into a script in the first
 * --rwdir (the guest sees that dir at the same path) and the kernel line carries `sh <script>`.
 */
export const GUEST_COMMAND_FILE = 'guest-command.sh';

export async function commandViaFile(command: string, r: Pick<RunOptions, 'rwdirs'>): Promise<string> {
  const dir = r.rwdirs?.[0];
  if (!dir) return command;
  const file = join(dir, GUEST_COMMAND_FILE);
  await mkdir(dir, { recursive: true });
  await writeFile(file, `# written by pidfd-matrix: the command this guest runs (vm/sut.ts)\n${command}\n`);
  return `sh ${shellQuote(file)}`;
}

export class VngSut implements Sut {
  readonly kind = 'guest';
  constructor(readonly o: VngSutOptions) {}
  get accel(): Accel {
    return this.o.accel;
  }
  async run(command: string, r: RunOptions): Promise<RunResult> {
    const b = await boot(this.o.kimg, await commandViaFile(command, r), {
      accel: this.o.accel,
      append: this.o.append,
      cpus: this.o.cpus,
      memory: this.o.memory,
      root: this.o.root,
      rodirs: this.o.rodirs,
      arch: this.o.arch,
      busybox: this.o.busybox,
      rwdirs: r.rwdirs,
      timeoutSec: r.timeoutSec,
      consoleLogPath: r.logPath,
      cwd: r.cwd,
      onRunning: r.onRunning,
      signal: r.signal,
    });
    return { exitCode: b.exitCode, status: b.status, reason: b.reason, logPath: b.consoleLogPath, excerpt: b.consoleExcerpt, durationMs: b.durationMs, boot: b };
  }
}
