// Reads a guest's console log (vng --verbose: kernel messages + the command's output) for what
// went wrong in the kernel or in the hypervisor. Pure text functions, tested on recorded logs.

export interface ConsoleFindings {
  /** "Kernel panic - not syncing: ..." */
  panic: string | null;
  /** First Oops / BUG / kernel BUG at line: the kernel faulted (it may have carried on). */
  oops: string | null;
  /** First "WARNING: CPU: n PID: n at ..." line. */
  warning: string | null;
  /** Taint flags from a "Tainted: G  W  ..." line (not "Not tainted"). */
  taint: string | null;
  /** The hypervisor failed, not the guest: KVM internal error, emulation failure, MSR asserts. */
  kvmError: string | null;
  /** virtme-init started the command (so the kernel booted). */
  scriptStarted: boolean;
  /** Exit status virtme-init reported for the command, if it got that far. */
  scriptExit: number | null;
}

const PANIC_RE = /Kernel panic - not syncing:.*/;
const OOPS_RE = /(?:\bOops: .*|\bBUG: (?:unable to handle|kernel NULL pointer|Bad page|scheduling while atomic|KASAN|KFENCE|soft lockup|workqueue lockup|sleeping function).*|kernel BUG at .*|general protection fault.*)/;
const WARNING_RE = /WARNING: CPU: \d+ PID: \d+ at .*/;
const TAINT_RE = /\bTainted: ([A-Z ]*[A-Z])/;
const KVM_RE = /(KVM internal error.*|emulation failure.*|kvm_buf_set_msrs.*|failed to set MSR.*|KVM: entry failed.*|Could not access KVM kernel module.*|failed to initialize kvm.*|kvm run failed.*)/i;

function first(re: RegExp, text: string): string | null {
  const m = re.exec(text);
  return m ? stripStamp(m[0]).trim() : null;
}

/** "[   12.345678] text" -> "text" */
function stripStamp(line: string): string {
  return line.replace(/^\[\s*\d+\.\d+\]\s*/, '');
}

export function analyzeConsole(text: string): ConsoleFindings {
  const exit = /virtme-init: script returned \{(\d+)\}/.exec(text);
  const taint = TAINT_RE.exec(text);
  return {
    panic: first(PANIC_RE, text),
    oops: first(OOPS_RE, text),
    warning: first(WARNING_RE, text),
    taint: taint ? taint[1].replace(/\s+/g, '') : null,
    kvmError: first(KVM_RE, text),
    scriptStarted: /virtme-init: starting script/.test(text),
    scriptExit: exit ? Number(exit[1]) : null,
  };
}

/**
 * A short excerpt for reports: the lines around the first sign of trouble (panic, Oops, KVM
 * error), or the tail of the log when nothing specific was found.
 */
export function consoleExcerpt(text: string, maxLines = 30): string {
  const lines = text.replace(/\r/g, '').split('\n');
  const markers = [PANIC_RE, /\bOops: |kernel BUG at |BUG: /, KVM_RE, WARNING_RE];
  for (const re of markers) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return lines.slice(Math.max(0, i - 5), i + maxLines - 5).join('\n').trimEnd();
  }
  const tail = lines.filter((l) => l.trim() !== '');
  return tail.slice(-maxLines).join('\n');
}

export type GuestStatus = 'ok' | 'panic' | 'timeout' | 'boot-failure';

/** One verdict from how the guest ended: exit status, our timeout, and the console text. */
export function classifyGuest(exitCode: number | null, timedOut: boolean, f: ConsoleFindings, timeoutSec: number): { status: GuestStatus; reason: string } {
  if (f.panic) return { status: 'panic', reason: `kernel panic: ${f.panic.replace(/^Kernel panic - not syncing:\s*/, '')}` };
  if (f.oops) return { status: 'panic', reason: `kernel fault: ${f.oops}${f.taint ? ` (tainted ${f.taint})` : ''}` };
  if (timedOut) return { status: 'timeout', reason: `no result within ${timeoutSec}s (${f.scriptStarted ? 'the command was running' : 'the kernel had not finished booting'}); killed` };
  if (f.kvmError) return { status: 'boot-failure', reason: `hypervisor failure: ${f.kvmError}` };
  if (!f.scriptStarted) return { status: 'boot-failure', reason: `the guest never started the command (vng exited ${exitCode ?? 'by signal'})` };
  if (exitCode === 255 && f.scriptExit === null) return { status: 'boot-failure', reason: 'the guest stopped without reporting the command\'s exit status' };
  return { status: 'ok', reason: f.warning ? `kernel warning: ${f.warning}` : '' };
}
