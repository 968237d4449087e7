// Where the time of a guest cell goes, from its console: the kernel's own timestamps for what
// happens inside the guest, the host's arrival times (BootMarks) for qemu's start and the
// shutdown. Pure, so it is tested on recorded consoles; `bench` prints it per kernel.
import type { BootMarks } from './vng.js';

export interface Phases {
  /** vng + qemu until the kernel's first line (host clock). */
  qemuStartMs: number | null;
  /** Kernel start until it runs init ("Run /init as init process"). */
  kernelInitMs: number | null;
  /** The guest's init (vm/guest/lean-init, or virtme-init with its udev coldplug and settle), until it starts the command. */
  virtmeInitMs: number | null;
  /** The command (shell, the supervisor's node start) until the supervisor's first marker. */
  commandStartMs: number | null;
  /** Supervisor start until the first case: the runner's node start, probe imports, facts. */
  nodeReadyMs: number | null;
  /** First case start until the suite's end marker (or the command's exit). */
  suiteMs: number | null;
  /** The command's exit until vng returned (host clock). */
  shutdownMs: number | null;
}

const stamp = (text: string, re: RegExp): number | null => {
  const m = new RegExp(`^\\[\\s*(\\d+\\.\\d+)\\]\\s*${re.source}`, 'm').exec(text);
  return m ? Math.round(Number(m[1]) * 1000) : null;
};
const span = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.max(0, b - a));

export function consolePhases(text: string, marks: BootMarks | undefined, durationMs: number): Phases {
  const init = stamp(text, /Run \S+ as init process/);
  const script = stamp(text, /virtme-init: starting script/);
  const suiteStart = stamp(text, /pidfd-matrix: suite start/);
  const firstCase = stamp(text, /pidfd-matrix: case \S+ start/);
  const suiteEnd = stamp(text, /pidfd-matrix: suite end/);
  const returned = stamp(text, /virtme-init: script returned/);
  const end = suiteEnd ?? returned;
  return {
    qemuStartMs: marks?.kernelStartMs ?? null,
    kernelInitMs: init,
    virtmeInitMs: span(init, script),
    commandStartMs: span(script, suiteStart ?? firstCase),
    nodeReadyMs: span(suiteStart, firstCase),
    suiteMs: span(firstCase, end),
    shutdownMs: marks?.scriptReturnedMs != null ? Math.max(0, durationMs - marks.scriptReturnedMs) + (span(end, returned) ?? 0) : null,
  };
}
