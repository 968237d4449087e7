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
// Matched on a kernel line's message (see kernelLine): a userspace crash report such as
// "traps: node[412] general protection fault ip:..." is not a kernel fault.
const OOPS_RE = /^(?:Oops: .*|(?:watchdog: )?BUG: (?:unable to handle|kernel NULL pointer|Bad page|scheduling while atomic|KASAN|KFENCE|soft lockup|workqueue lockup|sleeping function).*|kernel BUG at .*|general protection fault.*)/;
const WARNING_RE = /^WARNING: CPU: \d+ PID: \d+ at .*/;
const TAINT_RE = /\bTainted: ([A-Z ]*[A-Z])/;
const KVM_RE = /(KVM internal error.*|emulation failure.*|kvm_buf_set_msrs.*|failed to set MSR.*|KVM: entry failed.*|Could not access KVM kernel module.*|failed to initialize kvm.*|kvm run failed.*)/i;

function first(re: RegExp, text: string): string | null {
  const m = re.exec(text);
  return m ? stripStamp(m[0]).trim() : null;
}

/**
 * The kernel's prefix on a console line: "[   12.345678]" (CONFIG_PRINTK_TIME or printk.time=1),
 * "[    T123]" / "[     C0]" (CONFIG_PRINTK_CALLER), or both ("[   12.345678][    T1]").
 */
const STAMP_RE = /^(?:\[\s*\d+\.\d+\]\s?(?:\[\s*[CT]\d+\])?|\[\s*[CT]\d+\])\s?/;

/** "[   12.345678] text" -> "text" (also a CONFIG_PRINTK_CALLER "[    T1]" field) */
function stripStamp(line: string): string {
  return line.replace(STAMP_RE, '');
}

const splitLines = (text: string) => text.replace(/\r/g, '').split('\n');

/** The kernel's first line; nothing in userspace runs yet, so its prefix is the kernel's own. */
const LINUX_VERSION_RE = /^Linux version \d+\.\d+\S* \(/;
/** The kernel's command line as it prints it (x86's early "Command line:", then start_kernel's). */
const CMDLINE_RE = /^(?:Kernel c|C)ommand line: (.*)$/;
/** A CONFIG_PRINTK_CALLER field: printed whatever printk.time says. */
const CALLER_RE = /^(?:\[\s*\d+\.\d+\]\s?)?\[\s*[CT]\d+\]/;
/** The marker lines the suite writes to /dev/kmsg (suites/lib/kmsg.ts). */
const MARKER_RE = /^pidfd-matrix: (?:case \S+ (?:start|end)|suite (?:start|end))\b/;

/** printk.time=<bool> on a kernel command line (the last one wins, as the kernel parses it), or null. */
export function printkTimeParam(cmdline: string): boolean | null {
  let v: boolean | null = null;
  for (const m of cmdline.matchAll(/(?:^|\s)printk\.time(?:=(\S*))?(?=\s|$)/g)) {
    const w = (m[1] ?? '').toLowerCase(); // kstrtobool; a bare "printk.time" is true
    if (w === '' || /^(?:[y1t]|on)/.test(w)) v = true;
    else if (/^(?:[n0f]|of)/.test(w)) v = false;
  }
  return v;
}

/**
 * Whether the kernel on this console prefixes its lines with a timestamp (or caller id), or
 * null when the text shows no line known to be the kernel's. Read on the kernel's first line
 * ("Linux version ...", printed before any userspace runs), unless its command line says
 * printk.time=0/1: the kernel applies that when it parses its parameters, a few lines later,
 * so the boot's first lines keep the config's stamps and everything after follows the
 * parameter. Without that line (a fragment), the suite's /dev/kmsg markers decide. Kernels
 * without CONFIG_PRINTK_TIME (tinyconfig-based builds) or booted with printk.time=0 print none.
 */
export function kernelStampsEvidence(text: string): boolean | null {
  const lines = splitLines(text);
  const banner = lines.find((l) => LINUX_VERSION_RE.test(stripStamp(l)));
  if (banner !== undefined) {
    if (CALLER_RE.test(banner)) return true;
    const cmdline = lines.map((l) => CMDLINE_RE.exec(stripStamp(l))).find(Boolean);
    return (cmdline ? printkTimeParam(cmdline[1]) : null) ?? STAMP_RE.test(banner);
  }
  const marker = lines.find((l) => MARKER_RE.test(stripStamp(l)));
  return marker === undefined ? null : STAMP_RE.test(marker);
}

/** As kernelStampsEvidence; without evidence, stamped when any line carries a stamp. */
export function kernelStamps(text: string): boolean {
  return kernelStampsEvidence(text) ?? splitLines(text).some((l) => STAMP_RE.test(l));
}

/**
 * The kernel message a console line carries, or null when it cannot be the kernel's. On a
 * console whose kernel stamps its lines, an unstamped line is the command's output (or init's);
 * on one without stamps any line may be the kernel's (`bare`), and a report headline on it
 * must then show the kernel's own context (bareConfirmed) before it counts.
 */
function kernelLine(line: string, stamped: boolean): { msg: string; bare: boolean } | null {
  if (STAMP_RE.test(line)) return { msg: stripStamp(line).trimEnd(), bare: false };
  return stamped ? null : { msg: line.trimEnd(), bare: true };
}

/** The first kernel panic or fault line in a piece of console text, or null. */
export function faultLine(text: string, stamped = kernelStamps(text)): string | null {
  return first(PANIC_RE, text) ?? firstKernelLine(splitLines(text), stamped, OOPS_RE);
}

export function analyzeConsole(text: string): ConsoleFindings {
  const exit = /virtme-init: script returned \{(\d+)\}/.exec(text);
  const taint = TAINT_RE.exec(text);
  const lines = splitLines(text);
  const stamped = kernelStamps(text);
  return {
    panic: first(PANIC_RE, text),
    oops: firstKernelLine(lines, stamped, OOPS_RE),
    warning: firstKernelLine(lines, stamped, WARNING_RE),
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
  const markers = [PANIC_RE, /\bOops: |kernel BUG at |BUG: /, KVM_RE, /WARNING: CPU: \d+ PID: \d+ at /];
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
 * Headline lines of kernel reports, matched on a kernel line's message (kernelLine): with
 * stamps, unstamped lines are the command's own output; and a userspace crash report
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

/**
 * Without stamps a taint notice has no context to show: only the kernel's exact phrasing
 * ("<module>: loading out-of-tree module taints kernel.", "... - tainting kernel") counts. The
 * markers' taint values say the same in any case (harness/judge/health.ts).
 */
const BARE_TAINT_RE = /^[\w.-]+: (?:.* )?(?:taints kernel\.|- tainting kernel)$|^Disabling lock debugging due to kernel taint$/;

function reportKind(msg: string, bare: boolean): KernelReportKind | null {
  const hit = REPORTS.find(([, re]) => re.test(msg))?.[0] ?? null;
  return hit === 'taint' && bare && !BARE_TAINT_RE.test(msg) ? null : hit;
}

/**
 * Lines only the kernel prints in a report, after its headline: the task line, hardware
 * name, registers, call trace, the taint state, the hung-task hint, the RCU stall details,
 * the trace's end. A command can print "BUG: ..." on the console; not these around it.
 */
const KERNEL_CONTEXT_RE = new RegExp([
  /^CPU: \d+ (?:UID: \d+ )?PID: \d+ Comm: /, /^Hardware name: /, /^Call Trace:/, /^Modules linked in:/, /^RIP: [0-9a-f]{4}:/,
  /^#PF: /, /^Oops: [0-9a-f]{4} \[#\d+\]/, /^rcu: /, /^---\[ end (?:trace|Kernel panic)/, /(?:^|\s)(?:Not tainted|Tainted: [A-Z ]*[A-Z])(?:\s|$)/,
  /^"echo 0 > \/proc\/sys\/kernel\/hung_task_timeout_secs" disables this message/,
].map((r) => r.source).join('|'));
/** The line the kernel prints just before a report: WARN's "cut here", lockdep's/KASAN's "=====" rule. */
const KERNEL_BEFORE_RE = /^(?:-+\[ cut here \]-+|={20,})$/;

/**
 * An unstamped headline counts as the kernel's when the line before it or a line of its
 * block is one only the kernel prints (a panic line needs none: no program prints that).
 */
function bareConfirmed(lines: string[], i: number, to: number, kind: KernelReportKind): boolean {
  if (kind === 'panic' || kind === 'taint') return true;
  if (i > 0 && KERNEL_BEFORE_RE.test(stripStamp(lines[i - 1]).trim())) return true;
  for (let j = i + 1; j <= to; j++) if (KERNEL_CONTEXT_RE.test(stripStamp(lines[j]).trimEnd())) return true;
  return false;
}

/** The marker lines the suite writes to /dev/kmsg (suites/lib/kmsg.ts). */
const CASE_START_RE = /^pidfd-matrix: case (\S+) start$/;
const CASE_END_RE = /^pidfd-matrix: case (\S+) end(?: taint=(\d+))?$/;
const SUITE_RE = /^pidfd-matrix: suite (start|end)(?: taint=(\d+))?$/;

export type KernelLogEvent =
  | { type: 'case-start'; case: string; line: number }
  | { type: 'case-end'; case: string; taint: number | null; line: number }
  | { type: 'suite'; what: 'start' | 'end'; taint: number | null; line: number }
  | { type: 'report'; kind: KernelReportKind; headline: string; excerpt: string; line: number };

/** End of one report block: the trace's end line, or the next kernel line that is not part of it. */
const TRACE_END_RE = /^---\[ end (?:trace|Kernel panic)/;

/**
 * The lines of the report whose headline (of `kind`) is line i: from a "cut here" line just
 * before, to the trace's end, the next marker or the next report's headline, at most `maxLines`.
 */
function reportBlock(lines: string[], i: number, kind: KernelReportKind, stamped: boolean, maxLines: number): { from: number; to: number } {
  const from = i > 0 && /cut here/.test(lines[i - 1]) ? i - 1 : i;
  let to = i;
  // A one-line message (taint notice) must not swallow what follows.
  if (kind === 'taint') return { from, to };
  while (to + 1 < lines.length && to + 1 - from < maxLines) {
    const next = kernelLine(lines[to + 1], stamped);
    // The next marker or the next report's headline ends this block ("BUG: ..." then
    // "Oops: ..." is one Oops).
    if (next) {
      const nm = next.msg.trim();
      if (/^(?:pidfd-matrix: |-+\[ cut here)/.test(nm)) break;
      const nk = reportKind(nm, next.bare);
      if (nk && !(nk === 'oops' && (kind === 'oops' || kind === 'bug'))) break;
    }
    to++;
    if (TRACE_END_RE.test(stripStamp(lines[to]).trim())) break;
  }
  return { from, to };
}

/** The first kernel line whose message matches `re` and that is a report the kernel printed. */
function firstKernelLine(lines: string[], stamped: boolean, re: RegExp, maxLines = 60): string | null {
  for (let i = 0; i < lines.length; i++) {
    const k = kernelLine(lines[i], stamped);
    if (!k || !re.test(k.msg)) continue;
    if (k.bare) {
      const kind = reportKind(k.msg, true) ?? 'oops';
      if (!bareConfirmed(lines, i, reportBlock(lines, i, kind, stamped, maxLines).to, kind)) continue;
    }
    return k.msg.trim();
  }
  return null;
}

/**
 * Every case marker and kernel report on the console, in order. One report block (an Oops
 * prints "BUG: ..." then "Oops: ..."; a WARN "cut here", "WARNING:", a trace) gives one event,
 * named by its first headline, with an excerpt of up to `maxLines` lines. A console without
 * printk timestamps is read too (kernelStamps): its markers as they are, its report headlines
 * when the kernel's own context shows around them.
 */
export function scanKernelLog(text: string, maxLines = 60): KernelLogEvent[] {
  const lines = splitLines(text);
  const stamped = kernelStamps(text);
  const events: KernelLogEvent[] = [];
  let blockUntil = -1; // lines up to here belong to the last report
  for (let i = 0; i < lines.length; i++) {
    const k = kernelLine(lines[i], stamped);
    if (!k) continue;
    const msg = k.msg;
    let m: RegExpExecArray | null;
    if ((m = CASE_START_RE.exec(msg))) { events.push({ type: 'case-start', case: m[1], line: i + 1 }); blockUntil = i; continue; }
    if ((m = CASE_END_RE.exec(msg))) { events.push({ type: 'case-end', case: m[1], taint: m[2] ? Number(m[2]) : null, line: i + 1 }); blockUntil = i; continue; }
    if ((m = SUITE_RE.exec(msg))) { events.push({ type: 'suite', what: m[1] as 'start' | 'end', taint: m[2] ? Number(m[2]) : null, line: i + 1 }); blockUntil = i; continue; }
    if (i <= blockUntil) continue;
    const kind = reportKind(msg, k.bare);
    if (!kind) continue;
    const { from, to } = reportBlock(lines, i, kind, stamped, maxLines);
    if (k.bare && !bareConfirmed(lines, i, to, kind)) continue;
    events.push({ type: 'report', kind, headline: msg.trim(), excerpt: lines.slice(from, to + 1).join('\n'), line: i + 1 });
    blockUntil = to;
  }
  return events;
}
