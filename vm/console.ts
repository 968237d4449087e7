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
// Anchored after the console timestamp: a userspace crash report such as
// "traps: node[412] general protection fault ip:..." is not a kernel fault.
const OOPS_RE = /^\[\s*\d+\.\d+\]\s*(?:\[\s*[CT]\d+\]\s*)?(?:Oops: .*|(?:watchdog: )?BUG: (?:unable to handle|kernel NULL pointer|Bad page|scheduling while atomic|KASAN|KFENCE|soft lockup|workqueue lockup|sleeping function).*|kernel BUG at .*|general protection fault.*)/m;
const WARNING_RE = /^\[\s*\d+\.\d+\]\s*(?:\[\s*[CT]\d+\]\s*)?WARNING: CPU: \d+ PID: \d+ at .*/m;
const TAINT_RE = /\bTainted: ([A-Z ]*[A-Z])/;
const KVM_RE = /(KVM internal error.*|emulation failure.*|kvm_buf_set_msrs.*|failed to set MSR.*|KVM: entry failed.*|Could not access KVM kernel module.*|failed to initialize kvm.*|kvm run failed.*)/i;

function first(re: RegExp, text: string): string | null {
  const m = re.exec(text);
  return m ? stripStamp(m[0]).trim() : null;
}

const STAMP_RE = /^\[\s*\d+\.\d+\]\s?(?:\[\s*[CT]\d+\]\s?)?/;

/** "[   12.345678] text" -> "text" (also a CONFIG_PRINTK_CALLER "[    T1]" field) */
function stripStamp(line: string): string {
  return line.replace(STAMP_RE, '');
}

/** The first kernel panic or fault line in a piece of console text, or null. */
export function faultLine(text: string): string | null {
  return first(PANIC_RE, text) ?? first(OOPS_RE, text);
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

// ---- kernel health: every report the kernel printed, in console order, with case markers ----

/** What kind of trouble a kernel report line announces. */
export type KernelReportKind = 'oops' | 'bug' | 'warning' | 'lockdep' | 'rcu-stall' | 'hung-task' | 'lockup' | 'panic' | 'taint';

/**
 * Headline lines of kernel reports, matched on the text after the console timestamp only:
 * lines without a timestamp are the command's own output, and a userspace crash report
 * ("traps: node[412] general protection fault ...") starts with "traps: <comm>[<pid>]".
 */
const REPORTS: [KernelReportKind, RegExp][] = [
  ['panic', /^Kernel panic - not syncing:/],
  ['oops', /^(?:Oops: |BUG: unable to handle|BUG: kernel NULL pointer|kernel BUG at |general protection fault|traps: PANIC: )/],
  ['lockup', /^(?:watchdog: BUG: soft lockup|BUG: soft lockup|NMI watchdog: Watchdog detected hard LOCKUP|watchdog: Watchdog detected hard LOCKUP|BUG: workqueue lockup)/],
  ['bug', /^(?:BUG: |UBSAN: |kernel BUG|list_(?:add|del) corruption)/],
  ['warning', /^WARNING: CPU: \d+ PID: \d+ at /],
  ['lockdep', /^(?:WARNING: (?:possible|suspicious RCU usage|inconsistent lock state|bad unlock balance|held lock freed|lock held when returning|Nested lock was not taken|chain_key collision|.*locking)|INFO: (?:possible|inconsistent|trying to register non-static key))/],
  ['rcu-stall', /^(?:rcu: )?INFO: rcu_\w+ (?:self-)?detected (?:stalls?|expedited stalls)/],
  ['hung-task', /^INFO: task \S+ blocked for more than \d+ seconds/],
  ['warning', /^WARNING: /],
  // A module load or a write to /proc/sys/kernel/tainted says so once, without a trace.
  ['taint', /(?:taints kernel|tainting kernel)/],
];

/** The marker lines the suite writes to /dev/kmsg (suites/lib/kmsg.ts). */
const CASE_START_RE = /^pidfd-matrix: case (\S+) start$/;
const CASE_END_RE = /^pidfd-matrix: case (\S+) end(?: taint=(\d+))?$/;
const SUITE_RE = /^pidfd-matrix: suite (start|end)(?: taint=(\d+))?$/;

export type KernelLogEvent =
  | { type: 'case-start'; case: string; line: number }
  | { type: 'case-end'; case: string; taint: number | null; line: number }
  | { type: 'suite'; what: 'start' | 'end'; taint: number | null; line: number }
  | { type: 'report'; kind: KernelReportKind; headline: string; excerpt: string; line: number };

/** End of one report block: the trace's end line, or the next timestamped line that is not part of it. */
const TRACE_END_RE = /^---\[ end (?:trace|Kernel panic)/;

/**
 * Every case marker and kernel report on the console, in order. One report block (an Oops
 * prints "BUG: ..." then "Oops: ..."; a WARN "cut here", "WARNING:", a trace) gives one event,
 * named by its first headline, with an excerpt of up to `maxLines` lines.
 */
export function scanKernelLog(text: string, maxLines = 60): KernelLogEvent[] {
  const lines = text.replace(/\r/g, '').split('\n');
  const events: KernelLogEvent[] = [];
  let blockUntil = -1; // lines up to here belong to the last report
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (!STAMP_RE.test(raw)) continue;
    const msg = stripStamp(raw).trimEnd();
    let m: RegExpExecArray | null;
    if ((m = CASE_START_RE.exec(msg))) { events.push({ type: 'case-start', case: m[1], line: i + 1 }); blockUntil = i; continue; }
    if ((m = CASE_END_RE.exec(msg))) { events.push({ type: 'case-end', case: m[1], taint: m[2] ? Number(m[2]) : null, line: i + 1 }); blockUntil = i; continue; }
    if ((m = SUITE_RE.exec(msg))) { events.push({ type: 'suite', what: m[1] as 'start' | 'end', taint: m[2] ? Number(m[2]) : null, line: i + 1 }); blockUntil = i; continue; }
    if (i <= blockUntil) continue;
    const hit = REPORTS.find(([, re]) => re.test(msg));
    if (!hit) continue;
    // The block: from a "cut here" line just before, to the trace's end (or maxLines).
    const from = i > 0 && /cut here/.test(lines[i - 1]) ? i - 1 : i;
    let to = i;
    while (to + 1 < lines.length && to + 1 - from < maxLines) {
      const next = lines[to + 1];
      // The next marker or the next report's headline ends this block ("BUG: ..." then
      // "Oops: ..." is one Oops).
      if (STAMP_RE.test(next)) {
        const nm = stripStamp(next).trim();
        const nk = REPORTS.find(([, re]) => re.test(nm))?.[0];
        if (/^(?:pidfd-matrix: |-+\[ cut here)/.test(nm)) break;
        if (nk && !(nk === 'oops' && (hit[0] === 'oops' || hit[0] === 'bug'))) break;
      }
      to++;
      if (TRACE_END_RE.test(stripStamp(next).trim())) break;
    }
    // A one-line message (taint notice, hung task without trace) must not swallow what follows.
    if (hit[0] === 'taint') to = i;
    events.push({ type: 'report', kind: hit[0], headline: msg.trim(), excerpt: lines.slice(from, to + 1).join('\n'), line: i + 1 });
    blockUntil = to;
  }
  return events;
}
