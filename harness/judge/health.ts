// Kernel health is part of the verdict: an Oops, BUG, WARN, lockdep report, RCU stall, hung
// task or a new taint bit during a cell is a failure CI must see, even when every probe got
// the answer it expected. A report printed while a case ran (between its /dev/kmsg markers,
// suites/lib/kmsg.ts) makes that case an `error` carrying the console excerpt; what no case
// can own (boot, between cases, after the last one) makes the cell's `kernel_health` test an
// error. Pure functions over the console text and the recorded taint values.
import { kernelStamps, scanKernelLog, type KernelReportKind } from '../../vm/console.js';
import type { CaseResult, CellResult, HealthFinding, KernelHealth } from '../results.js';

export const KERNEL_HEALTH_ID = 'kernel_health';
export const KERNEL_HEALTH_ROW = {
  id: KERNEL_HEALTH_ID, feature: KERNEL_HEALTH_ID, case: KERNEL_HEALTH_ID, area: 'kernel',
  title: 'no kernel Oops, BUG, WARN, lockdep report, RCU stall, hung task or new taint outside the cases',
};

// Documentation/admin-guide/tainted-kernels.rst, bit order.
const TAINT_FLAGS = [
  ['P', 'proprietary module'], ['F', 'module force-loaded'], ['S', 'out-of-spec system'], ['R', 'module force-unloaded'],
  ['M', 'machine check'], ['B', 'bad page'], ['U', 'taint requested by userspace'], ['D', 'kernel died (Oops or BUG)'],
  ['A', 'ACPI table overridden'], ['W', 'kernel issued a warning'], ['C', 'staging driver'], ['I', 'firmware bug workaround'],
  ['O', 'out-of-tree module'], ['E', 'unsigned module'], ['L', 'soft lockup'], ['K', 'kernel live-patched'],
  ['X', 'auxiliary taint'], ['T', 'struct randomization plugin'], ['N', 'test module'],
] as const;

/** "W (kernel issued a warning), O (out-of-tree module)" for the bits of `bits`. */
export function taintNames(bits: number): string {
  const out: string[] = [];
  for (let i = 0; i < 32; i++) {
    if (!(bits & (2 ** i))) continue;
    const f = TAINT_FLAGS[i];
    out.push(f ? `${f[0]} (${f[1]})` : `bit ${i}`);
  }
  return out.join(', ');
}

/** Bits set in `after` and not in `before` (taint bits are never cleared at run time). */
const newBits = (before: number, after: number) => Number(BigInt(after) & ~BigInt(before));

function taintFinding(before: number, after: number, where: Pick<HealthFinding, 'case' | 'when'>, how: string): HealthFinding | null {
  const bits = newBits(before, after);
  if (!bits) return null;
  return { kind: 'taint', headline: `new taint: ${taintNames(bits)} (/proc/sys/kernel/tainted ${before} -> ${after}, ${how})`, excerpt: '', ...where };
}

/**
 * Health of a cell from the record of /proc/sys/kernel/tainted alone (the host: no console
 * captured). A guest booted for this cell owns its boot, so taint already set at the start
 * counts; the host's taint from before this run is only noted.
 */
export function healthFromTaint(taint: CellResult['taint'], o: { bootIsOurs?: boolean; checked?: string } = {}): KernelHealth {
  if (!taint) return { checked: 'nothing: no console and no taint record', findings: [] };
  const findings: HealthFinding[] = [];
  let checked = o.checked ?? 'taint before and after the suite (no console captured on the host)';
  if (taint.start && o.bootIsOurs) findings.push({ kind: 'taint', headline: `tainted before the suite started: ${taintNames(taint.start)} (${taint.start})`, excerpt: '', case: null, when: 'boot' });
  else if (taint.start) checked += `; already tainted before this run: ${taintNames(taint.start)} (${taint.start}), not counted`;
  const f = taintFinding(taint.start, taint.end, { case: null, when: 'between' }, 'during the suite');
  if (f) findings.push(f);
  return { checked, findings };
}

/**
 * Health of a guest cell from its console: every kernel report, attributed through the case
 * markers, and the taint values the markers carry. `taint` (the suite's own record) is the
 * fallback when the markers carry none.
 */
export function healthFromConsole(text: string, taint?: CellResult['taint']): KernelHealth {
  const findings: HealthFinding[] = [];
  let current: string | null = null;
  let when: HealthFinding['when'] = 'boot';
  let lastTaint: number | null = null;
  let markers = 0;
  let endTaint: number | null = null;
  for (const e of scanKernelLog(text)) {
    if (e.type === 'case-start') {
      current = e.case;
      when = 'case';
      markers++;
    } else if (e.type === 'case-end') {
      if (e.taint !== null) {
        const f = lastTaint !== null ? taintFinding(lastTaint, e.taint, { case: e.case, when: 'case' }, `while ${e.case} ran`) : null;
        if (f) findings.push(f);
        lastTaint = e.taint;
      }
      current = null;
      when = 'between';
    } else if (e.type === 'suite') {
      if (e.taint !== null) {
        if (e.what === 'start' && e.taint) findings.push({ kind: 'taint', headline: `tainted before the suite started: ${taintNames(e.taint)} (${e.taint})`, excerpt: '', case: null, when: 'boot' });
        if (e.what === 'end') {
          const f = lastTaint !== null ? taintFinding(lastTaint, e.taint, { case: null, when: 'between' }, 'outside any case') : null;
          if (f) findings.push(f);
          endTaint = e.taint;
        }
        lastTaint = e.taint;
      }
      if (e.what === 'end') {
        current = null;
        when = 'after';
      }
    } else {
      // A one-line "tainting kernel" notice inside a case is summed up by the taint marker.
      if (e.kind === 'taint' && current !== null) continue;
      findings.push({ kind: e.kind, headline: e.headline, excerpt: e.excerpt, case: current, when });
    }
  }
  // No taint in the markers (an older runner): fall back to the suite's own record.
  if (lastTaint === null && taint) findings.push(...healthFromTaint(taint, { bootIsOurs: true }).findings);
  else if (endTaint === null && taint && lastTaint !== null) {
    const f = taintFinding(lastTaint, taint.end, { case: null, when: 'after' }, 'after the last marker');
    if (f) findings.push(f);
  }
  // Said, because without stamps a report headline only counts with the kernel's context around it.
  const bare = kernelStamps(text) ? '' : ', no printk timestamps';
  const checked = markers
    ? `guest console (${markers} case markers${bare}) and /proc/sys/kernel/tainted`
    : `guest console (no case markers${bare}: nothing can be attributed to a case)`;
  return { checked, findings };
}

const WHERE: Record<HealthFinding['when'], string> = {
  boot: 'before the suite started (boot)', case: 'while a case ran', between: 'between cases', after: 'after the last case',
};

function describe(f: HealthFinding): string {
  return `${f.kind}: ${f.headline}`;
}

/** The cell's `kernel_health` test: pass with what was checked, or error with what was found. */
function healthCase(cell: CellResult, h: KernelHealth): CaseResult {
  const loose = h.findings.filter((f) => f.case === null || !cell.cases.some((c) => c.id === f.case));
  const owned = h.findings.length - loose.length;
  const base = { ...KERNEL_HEALTH_ROW, expected: null, expectedAnswer: null, durationMs: 0, rerun: cell.rerun };
  const observed = { checked: h.checked, findings: h.findings.map((f) => ({ kind: f.kind, case: f.case, when: f.when, headline: f.headline })) };
  if (loose.length) {
    const first = loose[0];
    return {
      ...base, status: 'error', observed,
      reason: `kernel health: ${describe(first)} ${f2(first)}${loose.length > 1 ? ` (and ${loose.length - 1} more)` : ''}`,
      log: loose.map((f) => `${describe(f)} [${f2(f)}]${f.excerpt ? `\n${f.excerpt}` : ''}`).join('\n\n'),
    };
  }
  if (h.checked.startsWith('nothing'))
    return { ...base, status: 'skip', observed, reason: `kernel health not checked: ${h.checked}` };
  return {
    ...base, status: 'pass', observed,
    reason: `kernel health: no report outside the cases; checked ${h.checked}${owned ? `; ${owned} report(s) attributed to their cases` : ''}`,
  };
}

const f2 = (f: HealthFinding) => (f.case ? `while ${f.case} ran` : WHERE[f.when]);

/**
 * Puts kernel health into a cell's verdicts: each case that was running when the kernel
 * reported trouble becomes an error (its probe verdict kept in `preHealth`), and the cell
 * gets one `kernel_health` case. Idempotent: applying new evidence first undoes the old.
 */
export function applyKernelHealth(cell: CellResult, h: KernelHealth): CellResult {
  const cases = cell.cases
    .filter((c) => c.id !== KERNEL_HEALTH_ID)
    .map((c) => {
      if (!c.preHealth) return c;
      const { preHealth, log: _log, ...rest } = c;
      return { ...rest, ...preHealth };
    }) as CaseResult[];
  const byCase = new Map<string, HealthFinding[]>();
  for (const f of h.findings) if (f.case) byCase.set(f.case, [...(byCase.get(f.case) ?? []), f]);
  const judged = cases.map((c): CaseResult => {
    const fs = byCase.get(c.id);
    if (!fs) return c;
    const preHealth = { status: c.status, reason: c.reason, ...(c.log !== undefined ? { log: c.log } : {}) };
    const excerpt = fs.map((f) => `${describe(f)}${f.excerpt ? `\n${f.excerpt}` : ''}`).join('\n\n');
    return {
      ...c, preHealth, status: 'error',
      reason: `kernel health: ${describe(fs[0])} while this case ran${fs.length > 1 ? ` (and ${fs.length - 1} more)` : ''}; the probe's own verdict was ${c.status}: ${c.reason}`,
      log: [excerpt, c.log].filter(Boolean).join('\n\n'),
    };
  });
  const out: CellResult = { ...cell, kernelHealth: h, cases: judged };
  out.cases = [...judged, healthCase(out, h)];
  return out;
}

export type { KernelReportKind };
