// Matrix orchestration with a fake vng (vm/fixtures/fake-vng.sh): one run mixing a good guest,
// a panicking one and one that writes no results; every kernel still becomes a cell.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool, runMatrix } from './run-matrix.js';
import type { KernelEntry } from '../../kernels/matrix.js';
import { preparePlan, selectedCases } from './run-suite.js';
import { fakeBzImage } from '../../vm/fixtures/fake-bzimage.js';

const FAKE = new URL('../../vm/fixtures/fake-vng.sh', import.meta.url).pathname;
let work: string;
const ONE = ['pidfd_open/self'];


beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-mx-'));
  process.env.PIDFD_MATRIX_VNG = FAKE;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
  mkdirSync(join(work, 'k'));
  writeFileSync(join(work, 'k/bzImage'), fakeBzImage('6.1.0-fake'));
});
afterAll(() => {
  delete process.env.PIDFD_MATRIX_VNG;
  delete process.env.PIDFD_MATRIX_CACHE;
  rmSync(work, { recursive: true, force: true });
});

describe('runMatrix (fake vng)', () => {
  it('collects one cell per kernel: results from good guests, error cells for the rest', async () => {
    const k = (id: string, mode: string): KernelEntry => ({ id, source: 'path', kernel: join(work, 'k/bzImage'), append: `fake_mode=${mode}` });
    const lines: string[] = [];
    const out = join(work, 'reports');
    const run = await runMatrix({
      kernels: [k('good', 'ok'), k('boom', 'panic'), k('quiet', 'noresult')],
      outDir: out, jobs: 2, timeoutSec: 60, accel: 'tcg', command: 'test', progress: (l) => lines.push(l), tests: ONE,
    });
    const [good, boom, quiet] = run.cells;
    expect(good).toMatchObject({ kernelId: 'good', mode: 'guest', accel: 'tcg', error: null, consoleLog: 'console.log', rerun: `npx pidfd-matrix matrix --kernels good --out ${out} --timeout 60 --accel tcg --test pidfd_open/self` });
    expect(good.cases.map((c) => [c.id, c.status])).toEqual([['pidfd_open/self', 'pass'], ['kernel_health', 'pass']]);
    expect(good.provenance).toMatchObject({ vng: 'virtme-ng 0.0-fake', kernelSource: expect.stringMatching(/^path .*bzImage/) });
    expect(good.provenance.kernelCmdline).toContain('virtme_hostname=virtme-ng');
    expect(good.cases[0]).toMatchObject({ id: 'pidfd_open/self', observed: { result: 'fd', cloexec: true }, rerun: `npx pidfd-matrix matrix --kernels good --out ${out} --timeout 60 --accel tcg --test pidfd_open/self` });
    // Judged here, on the host, and written next to the stream.
    expect(JSON.parse(readFileSync(join(out, 'good/results.json'), 'utf8')).cases[0].status).toBe('pass');
    expect(boom).toMatchObject({ kernelId: 'boom', facts: null });
    expect(boom.cases.map((c) => [c.status, c.reason])).toEqual([['error', expect.stringMatching(/^not run: kernel panic: Attempted to kill init/)]]);
    expect(boom.error?.reason).toMatch(/^kernel panic: Attempted to kill init/);
    expect(boom.error?.consoleExcerpt).toContain('Kernel panic - not syncing');
    expect(quiet.error?.reason).toBe('the probe wrote no observations (exit 0)');
    for (const id of ['good', 'boom', 'quiet']) {
      expect(lines.some((l) => l.includes(id) && l.endsWith('queued'))).toBe(true);
      expect(lines.some((l) => l.includes(id) && l.includes('booting 6.1.0-fake (tcg)'))).toBe(true);
      expect(lines.some((l) => l.includes(id) && / done in \d+s: /.test(l))).toBe(true);
    }
    expect(lines.some((l) => l.includes('good') && l.includes('running the suite'))).toBe(true);
  });
});

describe('kernel health on an ok boot (fake vng replaying a real WARN + taint console)', () => {
  const k = (id: string, mode: string): KernelEntry => ({ id, source: 'path', kernel: join(work, 'k/bzImage'), append: `fake_mode=${mode}` });

  it('a WARN between a case\'s markers makes that case an error carrying the console lines; JUnit shows it', async () => {
    const out = join(work, 'reports-warn');
    const run = await runMatrix({ kernels: [k('warned', 'warn')], outDir: out, jobs: 1, timeoutSec: 60, accel: 'tcg', command: 'test', tests: ONE });
    const [cell] = run.cells;
    expect(cell.error).toBeNull();
    const basic = cell.cases.find((c) => c.id === 'pidfd_open/self')!;
    expect(basic.status).toBe('error');
    expect(basic.reason).toMatch(/^kernel health: warning: WARNING: CPU: 0 PID: 249 at .*pidfd_matrix_warn\.c:5 .* while this case ran.*the probe's own verdict was pass/);
    expect(basic.log).toContain('---[ end trace');
    expect(basic.log).toMatch(/new taint: W \(kernel issued a warning\), O \(out-of-tree module\), E \(unsigned module\)/);
    expect(basic.preHealth).toMatchObject({ status: 'pass' });
    // Everything was owned by the case: the cell's own health test passes, saying what it read.
    const health = cell.cases.find((c) => c.id === 'kernel_health')!;
    expect(health).toMatchObject({ status: 'pass', reason: expect.stringContaining('1 case markers') });
    const { junitXml } = await import('../report/junit.js');
    const xml = junitXml([cell], { rows: cell.cases.map(({ id, feature, case: c, area, title }) => ({ id, feature, case: c, area, title })) });
    expect(xml).toMatch(/errors="1"/);
    expect(xml).toMatch(/<testcase classname="warned\.open" name="pidfd_open\/self"[^>]*>\s*<error message="kernel health: warning: WARNING: CPU: 0[^>]*>[^<]*Call Trace:[^<]*end trace[^<]*<\/error>/);
  });

  it('a WARN before the first marker (boot) makes the cell\'s kernel_health test an error', async () => {
    const out = join(work, 'reports-bootwarn');
    const run = await runMatrix({ kernels: [k('bootwarned', 'bootwarn')], outDir: out, jobs: 1, timeoutSec: 60, accel: 'tcg', command: 'test', tests: ONE });
    const [cell] = run.cells;
    expect(cell.cases.find((c) => c.id === 'pidfd_open/self')!.status).toBe('pass');
    const health = cell.cases.find((c) => c.id === 'kernel_health')!;
    expect(health.status).toBe('error');
    expect(health.reason).toMatch(/^kernel health: warning: WARNING: CPU: 0 PID: 249 .* before the suite started \(boot\) \(and 1 more\)$/);
    expect(health.log).toContain('tainted before the suite started: W (kernel issued a warning), O (out-of-tree module), E (unsigned module) (12800)');
    const { junitXml } = await import('../report/junit.js');
    const xml = junitXml([cell], { rows: cell.cases.map(({ id, feature, case: c, area, title }) => ({ id, feature, case: c, area, title })) });
    expect(xml).toMatch(/<testcase classname="bootwarned\.kernel" name="kernel_health"[^>]*>\s*<error /);
    const { summaryMarkdown } = await import('../report/markdown.js');
    expect(summaryMarkdown([cell])).toContain('WARNING: CPU: 0 PID: 249');
    const { matrixHtml } = await import('../report/html.js');
    expect(matrixHtml([cell])).toContain('kernel_health');
  });
});

describe('boot retries', () => {
  it('a guest that died before its command started boots once more; its first console is kept', async () => {
    const k = (id: string, mode: string): KernelEntry => ({ id, source: 'path', kernel: join(work, 'k/bzImage'), append: `fake_mode=${mode}` });
    const out = join(work, 'reports-retry');
    const lines: string[] = [];
    const run = await runMatrix({
      kernels: [k('flaky', 'panic-once'), k('boom', 'panic')],
      outDir: out, jobs: 2, timeoutSec: 60, accel: 'tcg', command: 'test', progress: (l) => lines.push(l), tests: ONE,
    });
    const [flaky, boom] = run.cells;
    expect(flaky.error).toBeNull();
    expect(flaky.cases.map((c) => c.status)).toEqual(['pass', 'pass']); // pidfd_open/self, kernel_health
    expect(flaky.earlierAttempts).toEqual([{ reason: expect.stringMatching(/^kernel panic: /), consoleLog: 'console-attempt1.log' }]);
    expect(readFileSync(join(out, 'flaky/console-attempt1.log'), 'utf8')).toContain('Kernel panic - not syncing');
    expect(lines.some((l) => l.includes('flaky') && l.includes('before the command started: booting again (console kept as console-attempt1.log)'))).toBe(true);
    // A kernel that panics at every boot is retried once and stays an error cell.
    expect(boom.error?.reason).toMatch(/^kernel panic: /);
    expect(boom.earlierAttempts).toHaveLength(1);
    const noRetry = await runMatrix({ kernels: [k('boom', 'panic')], outDir: join(work, 'reports-noretry'), jobs: 1, timeoutSec: 60, accel: 'tcg', command: 'test', bootRetries: 0, tests: ONE });
    expect(noRetry.cells[0].earlierAttempts).toBeUndefined();
  });
});

describe('lsm: selinux cells', () => {
  it('load the test policy in the guest before the probe, and boot with security=selinux', async () => {
    process.env.FAKE_VNG_CALLS = join(work, 'calls');
    try {
      const run = await runMatrix({
        kernels: [{ id: 'sel', source: 'path', kernel: join(work, 'k/bzImage'), lsm: 'selinux' }],
        outDir: join(work, 'reports-sel'), jobs: 1, timeoutSec: 60, accel: 'tcg', command: 'test', tests: ONE,
      });
      expect(run.cells[0].lsm).toBe('selinux');
      const call = readFileSync(join(work, 'calls'), 'utf8');
      expect(call).toContain('--append security=selinux selinux=1');
      // The kernel line carries only the script; the script holds the command (vm/sut.ts), with
      // the supervisor itself run first and again under the clone3 fallback only if it crashed
      // before streaming anything (vm/clone3-fallback.ts).
      const script = join(work, 'reports-sel', 'sel', 'guest-command.sh');
      expect(call).toContain(`-- sh ${script}`);
      expect(readFileSync(script, 'utf8')).toMatch(/^bash \S*suites\/selinux\/guest-setup\.sh && \{ \S*node\S* \S*dist\/suites\/lib\/supervisor\.js \S*reports-sel\/sel\/plan\.json \|\| \{ rc=\$\?; if \[ \$rc -eq 139 \] && \[ ! -s \S*reports-sel\/sel\/observations\.jsonl \]; then /m);
    } finally {
      delete process.env.FAKE_VNG_CALLS;
    }
  });
});

describe('helpers', () => {
  it('pool runs at most n at a time and keeps order', async () => {
    let active = 0;
    let peak = 0;
    const r = await pool([30, 10, 20, 5], 2, async (ms) => {
      peak = Math.max(peak, ++active);
      await new Promise((res) => setTimeout(res, ms));
      active--;
      return ms * 2;
    });
    expect(r).toEqual([60, 20, 40, 10]);
    expect(peak).toBe(2);
  });
  it('the guest runs the supervisor of this checkout on a plan in its own cell dir', () => {
    const dir = join(work, 'plan-cell');
    const argv = preparePlan(dir, selectedCases(['pidfd_open/self', 'pidfd_getfd']), { kmsg: true });
    expect(argv.slice(1)).toEqual([expect.stringMatching(/dist\/suites\/lib\/supervisor\.js$/), join(dir, 'plan.json')]);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    expect(plan.stream).toBe(join(dir, 'observations.jsonl'));
    expect(plan.kmsg).toBe(true);
    const ids: string[] = plan.cases.map((c: { id: string }) => c.id);
    expect(plan.cases[ids.indexOf('pidfd_open/self')]).toEqual({ id: 'pidfd_open/self', feature: 'pidfd_open', case: 'self', needs: [], deadlineMs: 20_000 });
    expect(ids.filter((id) => id !== 'pidfd_open/self').every((id) => id.startsWith('pidfd_getfd/'))).toBe(true);
  });
});
