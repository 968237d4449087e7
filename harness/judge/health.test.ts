// Kernel health in the verdict, on a real recorded console (vm/fixtures/warn-taint-markers-6.1.log:
// bookworm 6.1 under TCG; inside case markers an unsigned out-of-tree module WARNs at load, a
// userspace program takes a general protection fault, and `echo 64 > /proc/sys/kernel/tainted`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyKernelHealth, healthFromConsole, healthFromTaint, taintNames } from './health.js';
import type { CaseResult, CellResult } from '../results.js';
import { WARN_CASE, bareCommandOutput, bareRealWarn, bareSuite, bareSuiteWithWarn, markedCases, stampKernelLines } from '../../vm/fixtures/bare-console.js';

const text = readFileSync(new URL('../../vm/fixtures/warn-taint-markers-6.1.log', import.meta.url), 'utf8');

const kase = (id: string): CaseResult => ({
  id, feature: id.split('/')[0], case: id.split('/')[1], area: 'demo', title: id, status: 'pass', reason: `${id}: as expected`,
  expected: 'with', expectedAnswer: null, observed: {}, durationMs: 1, rerun: `rerun ${id}`,
});
const cell = (): CellResult => ({
  schema: 1, kernelId: 'bookworm', mode: 'guest', accel: 'tcg', lsm: null, facts: null, startedAt: '2026-12-01T00:00:00Z', durationMs: 1,
  hostname: 'h', error: null, provenance: { harnessRev: null, node: 'v20', command: 'test' }, rerun: 'npx pidfd-matrix matrix --kernels bookworm',
  taint: { start: 0, end: 12864 }, cases: ['demo/warn_module', 'demo/user_gpf', 'demo/proc_taint'].map(kase),
});

describe('kernel health', () => {
  it('attributes the WARN and each new taint bit to the case that was running; the userspace GPF is nothing', () => {
    const h = healthFromConsole(text);
    expect(h.checked).toBe('guest console (3 case markers) and /proc/sys/kernel/tainted');
    expect(h.findings.map((f) => [f.kind, f.case, f.headline.slice(0, 30)])).toEqual([
      ['warning', 'demo/warn_module', 'WARNING: CPU: 0 PID: 249 at /t'],
      ['taint', 'demo/warn_module', 'new taint: W (kernel issued a '],
      ['taint', 'demo/proc_taint', 'new taint: U (taint requested '],
    ]);
  });

  it('turns those cases into errors (probe verdict kept), keeps the others, and adds a passing kernel_health', () => {
    const out = applyKernelHealth(cell(), healthFromConsole(text));
    expect(out.cases.map((c) => [c.id, c.status])).toEqual([
      ['demo/warn_module', 'error'], ['demo/user_gpf', 'pass'], ['demo/proc_taint', 'error'], ['kernel_health', 'pass'],
    ]);
    expect(out.cases[0].preHealth).toEqual({ status: 'pass', reason: 'demo/warn_module: as expected' });
    expect(out.cases[0].log).toContain('Call Trace:');
    expect(out.cases[2].reason).toMatch(/^kernel health: taint: new taint: U \(taint requested by userspace\) \(\/proc\/sys\/kernel\/tainted 12800 -> 12864/);
    // Idempotent: new evidence replaces the old (a clean console gives the probe verdicts back).
    const again = applyKernelHealth(out, healthFromConsole(text));
    expect(again.cases).toEqual(out.cases);
    const clean = applyKernelHealth(out, { checked: 'guest console (3 case markers)', findings: [] });
    expect(clean.cases.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(clean.cases[0].reason).toBe('demo/warn_module: as expected');
    expect(clean.cases[0].preHealth).toBeUndefined();
  });

  it('without markers nothing is attributed: every report makes kernel_health an error', () => {
    const unmarked = text.split('\n').filter((l) => !l.includes('pidfd-matrix: ')).join('\n');
    const out = applyKernelHealth(cell(), healthFromConsole(unmarked, { start: 0, end: 12864 }));
    expect(out.cases.slice(0, 3).map((c) => c.status)).toEqual(['pass', 'pass', 'pass']);
    const h = out.cases[3];
    expect(h.status).toBe('error');
    expect(h.reason).toMatch(/^kernel health: taint: pidfd_matrix_warn: loading out-of-tree module taints kernel\. before the suite started \(boot\) \(and \d+ more\)$/);
    expect(h.log).toContain('WARNING: CPU: 0 PID: 249');
    expect(h.log).toContain('new taint: U (taint requested by userspace), W (kernel issued a warning), O (out-of-tree module), E (unsigned module) (/proc/sys/kernel/tainted 0 -> 12864, during the suite)');
  });

  it('on the host (no console) a new taint bit during the suite is a kernel_health error; none is a pass that says what was read', () => {
    const bad = applyKernelHealth({ ...cell(), mode: 'host' }, healthFromTaint({ start: 0, end: 512 }));
    expect(bad.cases.at(-1)).toMatchObject({ id: 'kernel_health', status: 'error', reason: expect.stringContaining('new taint: W (kernel issued a warning)') });
    const good = applyKernelHealth({ ...cell(), mode: 'host' }, healthFromTaint({ start: 0, end: 0 }));
    expect(good.cases.at(-1)).toMatchObject({ status: 'pass', reason: expect.stringContaining('taint before and after the suite') });
    // Taint the host had before this run is not this run's finding; a guest's boot is the cell's own.
    const before = applyKernelHealth({ ...cell(), mode: 'host' }, healthFromTaint({ start: 1, end: 1 }));
    expect(before.cases.at(-1)).toMatchObject({ status: 'pass', reason: expect.stringContaining('already tainted before this run: P (proprietary module) (1), not counted') });
    const guest = applyKernelHealth(cell(), healthFromTaint({ start: 1, end: 1 }, { bootIsOurs: true }));
    expect(guest.cases.at(-1)).toMatchObject({ status: 'error', reason: expect.stringContaining('tainted before the suite started: P (proprietary module)') });
    const none = applyKernelHealth(cell(), healthFromTaint(undefined));
    expect(none.cases.at(-1)).toMatchObject({ status: 'skip', reason: 'kernel health not checked: nothing: no console and no taint record' });
  });

  it('names taint bits', () => {
    expect(taintNames(12800)).toBe('W (kernel issued a warning), O (out-of-tree module), E (unsigned module)');
  });

  // Issue 22.2: on a kernel without printk timestamps the markers were not read at all, and a
  // WARN inside a case left that case passing (vm/fixtures/README.md: real 6.9.0 consoles).
  describe('a console without printk timestamps', () => {
    const cellOf = (text: string): CellResult => ({ ...cell(), kernelId: 'vanilla-6-9', taint: { start: 0, end: 0 }, cases: markedCases(text).map(kase) });

    it('a real WARN planted in fdinfo, on a built 6.12 booted with printk.time=0: the case that read fdinfo first is an error', () => {
      const h = healthFromConsole(bareRealWarn);
      expect(h.checked).toBe('guest console (168 case markers, no printk timestamps) and /proc/sys/kernel/tainted');
      expect(h.findings.map((f) => [f.kind, f.case, f.headline])).toEqual([
        ['warning', 'fanotify_report_pidfd/event_pidfd', 'WARNING: CPU: 1 PID: 71 at fs/pidfs.c:68 0xffffffff81136cf1'],
        ['taint', 'fanotify_report_pidfd/event_pidfd', 'new taint: W (kernel issued a warning) (/proc/sys/kernel/tainted 0 -> 512, while fanotify_report_pidfd/event_pidfd ran)'],
      ]);
      const out = applyKernelHealth(cellOf(bareRealWarn), h);
      expect(out.cases.filter((c) => c.status !== 'pass').map((c) => c.id)).toEqual(['fanotify_report_pidfd/event_pidfd']);
      const log = out.cases.find((c) => c.id === 'fanotify_report_pidfd/event_pidfd')!.log!;
      for (const l of ['------------[ cut here ]------------', 'CPU: 1 UID: 0 PID: 71 Comm: node Not tainted 6.12.117+ #7', 'Call Trace:', '---[ end trace 0000000000000000 ]---'])
        expect(log).toContain(l);
      expect(out.cases.at(-1)).toMatchObject({ id: 'kernel_health', status: 'pass' });
    });

    it('a WARN inside a case (spliced: the real 6.1 WARN, stamps removed) makes that case an error with the WARN\'s lines', () => {
      const h = healthFromConsole(bareSuiteWithWarn);
      expect(h.checked).toBe('guest console (167 case markers, no printk timestamps) and /proc/sys/kernel/tainted');
      expect(h.findings.map((f) => [f.kind, f.case, f.when, f.headline.slice(0, 40)])).toEqual([
        ['warning', WARN_CASE, 'case', 'WARNING: CPU: 0 PID: 249 at /tmp/verdict'],
        ['taint', WARN_CASE, 'case', 'new taint: W (kernel issued a warning) ('],
      ]);
      const out = applyKernelHealth(cellOf(bareSuiteWithWarn), h);
      expect(out.cases.filter((c) => c.status !== 'pass').map((c) => [c.id, c.status])).toEqual([[WARN_CASE, 'error']]);
      const bad = out.cases.find((c) => c.id === WARN_CASE)!;
      expect(bad.reason).toMatch(/^kernel health: warning: WARNING: CPU: 0 PID: 249 at \S+pidfd_matrix_warn\.c:5 .* while this case ran \(and 1 more\); the probe's own verdict was pass/);
      for (const l of ['------------[ cut here ]------------', 'Call Trace:', 'do_one_initcall+0x59/0x220', '---[ end trace 0000000000000000 ]---'])
        expect(bad.log).toContain(l);
      expect(out.cases.at(-1)).toMatchObject({ id: 'kernel_health', status: 'pass' });
    });

    it('the stamped variant of the same console gives the same verdicts', () => {
      const bare = applyKernelHealth(cellOf(bareSuiteWithWarn), healthFromConsole(bareSuiteWithWarn));
      for (const prefix of ['[   31.936352] ', '[   T249] ']) {
        const text = stampKernelLines(bareSuiteWithWarn, prefix);
        const h = healthFromConsole(text);
        expect(h.checked).toBe('guest console (167 case markers) and /proc/sys/kernel/tainted');
        const out = applyKernelHealth(cellOf(bareSuiteWithWarn), h);
        // The same verdicts and reasons; only kernel_health's "checked" drops the "no printk timestamps" note.
        const verdicts = (cs: CaseResult[]) => cs.map((c) => [c.id, c.status, c.reason.replace(', no printk timestamps', '')]);
        expect(verdicts(out.cases)).toEqual(verdicts(bare.cases));
      }
    });

    it('the real consoles: a clean suite passes; command output and a userspace GPF are no finding', () => {
      for (const text of [bareSuite, bareCommandOutput]) {
        const out = applyKernelHealth(cellOf(text), healthFromConsole(text));
        expect(out.kernelHealth!.findings).toEqual([]);
        expect(out.cases.every((c) => c.status === 'pass')).toBe(true);
        expect(out.cases.at(-1)!.reason).toMatch(/^kernel health: no report outside the cases; checked guest console \(\d+ case markers, no printk timestamps\)/);
      }
    });
  });
});
