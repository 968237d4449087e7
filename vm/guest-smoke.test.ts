// Real guests (slow: minutes under TCG). One matrix run, two guests at a time:
//   - the CI kernels of kernels/matrix.yaml (`ci: true`): bookworm 6.1 (anon_inode pidfds) and
//     trixie 6.12 (pidfs); the whole suite runs inside each; no case fails or errors, and each
//     checked its own era's answers (pidfs_magic: anon_inode on 6.1, pidfs on 6.12);
//   - bookworm with `init=/nonexistent` appended, which really panics at boot: it is booted
//     once more (boot retry) and must become an error cell within its timeout while the other
//     guests still complete;
//   - bookworm with a 20 s limit, which a TCG boot never meets: the stand-in for a hung guest,
//     killed (qemu's process group) and reported as a timeout error cell;
//   - trixie with the test-only fault switches (suites/lib/faults.ts): one probe blocks in
//     waitid(2) and must become an error naming its 20 s deadline while the other cases answer,
//     then the guest writes 'c' to /proc/sysrq-trigger in a later case: the answers before the
//     panic are kept and the running case is named;
//   - then `matrix --kernels bookworm` through the CLI, hit by a real SIGINT once its qemu
//     runs: no qemu survives, the reports are written, exit 130 (adds ~10 s: no suite runs).
//   - a pre-5.10 kernel when ../shared/kernels/vanilla.yaml exists beside the checkout (CI has a
//     copy of shared/ there, a user's clone does not): vanilla 5.4 (anon_inode, no pidfd_getfd,
//     waitid(P_PIDFD) ignoring O_NONBLOCK); when it is absent the smoke says so and skips that cell.
// Needs `make deps` (scripts/setup/vm.sh) and the network to Debian's mirror for the first fetch.
// Runs in CI (CI=true) or with PIDFD_MATRIX_GUEST_TESTS=1 (make test sets it): a casual
// `npx vitest run` would otherwise start two TCG guests for 10+ minutes each time.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMatrix, type MatrixRun } from '../harness/run/run-matrix.js';
import { loadMatrix, selectKernels, type KernelEntry } from '../kernels/matrix.js';
import { isBad } from '../harness/status.js';
import type { CellResult } from '../harness/results.js';
import { interruptMatrix, liveInGroupsAfter } from '../harness/fixtures/processes.js';
import { REPO_ROOT } from '../suites/lib/paths.js';

const enabled = process.env.PIDFD_MATRIX_GUEST_TESTS === '1' || (!!process.env.CI && process.env.PIDFD_MATRIX_GUEST_TESTS !== '0');
const PANIC_TIMEOUT_SEC = 300;
const HANG_TIMEOUT_SEC = 20;
// Test data outside the project: prebuilt vanilla kernels (../shared/kernels/README.md).
const SHARED_VANILLA = join(REPO_ROOT, '..', 'shared', 'kernels', 'vanilla.yaml');
const PRE_510_ID = 'vanilla-5-4';

function pre510Kernel(): KernelEntry | null {
  if (!existsSync(SHARED_VANILLA)) return null;
  return loadMatrix(SHARED_VANILLA).kernels.find((k) => k.id === PRE_510_ID) ?? null;
}
const HUNG_CASE = 'pidfd_getfd/esrch_zombie';
const PANIC_CASE = 'pidfd_open/self';

describe.skipIf(!enabled)('guest smoke (the ci kernels under virtme-ng, accel auto)', () => {
  let run: MatrixRun;
  let ci: KernelEntry[] = [];
  let pre510: KernelEntry | null = null;
  // Own dir per run: two test runs at once must not share reports/<id>/.
  const outDir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-guest-smoke-'));
  const lines: string[] = [];
  beforeAll(async () => {
    ci = selectKernels(loadMatrix(), 'ci');
    const bookworm = ci.find((k) => k.id === 'bookworm');
    if (!bookworm || bookworm.source !== 'debian') throw new Error('kernels/matrix.yaml: bookworm is no longer a ci: true entry');
    const panics: KernelEntry = { ...bookworm, id: 'bookworm-panic', append: 'init=/nonexistent', timeout: PANIC_TIMEOUT_SEC, ci: false };
    const hangs: KernelEntry = { ...bookworm, id: 'bookworm-hang', timeout: HANG_TIMEOUT_SEC, ci: false };
    const trixie = ci.find((k) => k.id === 'trixie');
    if (!trixie) throw new Error('kernels/matrix.yaml: trixie is no longer a ci: true entry');
    const faults: KernelEntry = { ...trixie, id: 'trixie-faults', append: `pidfd_matrix.hang=${HUNG_CASE} pidfd_matrix.panic=${PANIC_CASE}`, ci: false };
    pre510 = pre510Kernel();
    if (!pre510) console.log(`guest-smoke: no pre-5.10 cell: ${SHARED_VANILLA} is absent (a clone without ../shared/kernels); the pre-5.10 smoke is skipped, not failed`);
    run = await runMatrix({
      kernels: [...ci, ...(pre510 ? [pre510] : []), panics, hangs, faults],
      outDir,
      jobs: 2,
      timeoutSec: 2400,
      accel: 'auto',
      command: 'vitest vm/guest-smoke.test.ts',
      progress: (l) => {
        lines.push(l);
        console.log(`guest-smoke: ${l}`);
      },
    });
  }, 45 * 60_000);

  it.each([
    ['bookworm', /^6\.1\./, 'without', '0x09041934'],
    ['trixie', /^6\.12\./, 'with', '0x50494446'],
  ])('%s ran the suite in a guest: none failed or errored, and its era of pidfd was checked', (id, release, era, fType) => {
    const cell = run.cells.find((c) => c.kernelId === id)!;
    const detail = cell.error ? `${cell.error.reason} (console: ${outDir}/${id}/console.log)\n${cell.error.consoleExcerpt ?? ''}` : '';
    expect(cell.error, detail).toBeNull();
    expect(cell.mode).toBe('guest');
    expect(cell.accel).toBe(run.accel!.accel);
    expect(cell.facts?.release).toMatch(release);
    // The host's /.dockerenv is visible through the 9p root; a VM is still no container.
    expect(cell.facts?.container, cell.facts?.containerEvidence).toBeNull();
    const bad = cell.cases.filter((c) => isBad(c.status)).map((c) => `${c.status} ${c.id}: ${c.reason}`);
    expect(bad).toEqual([]);
    expect(cell.provenance.kernelSource).toMatch(new RegExp(`^debian ${id} linux-image-`));
    // Debian kernels have no /proc/config.gz: the package's own /boot/config-<release> is hashed.
    expect(cell.provenance.configSource).toMatch(/\/boot\/config-\d/);
    expect(cell.provenance.configHash).toMatch(/^[0-9a-f]{64}$/);
    // anon_inode (6.1) versus pidfs (6.12): the answer expected, and the one the kernel gave.
    const magic = cell.cases.find((c) => c.id === 'pidfs_magic/f_type')!;
    expect(magic).toMatchObject({ status: 'pass', expected: era, observed: { f_type: fType } });
  });

  it('a pre-5.10 kernel (vanilla 5.4 from ../shared/kernels) ran the suite: none failed or errored, its older answers were checked', (ctx) => {
    if (!pre510) return ctx.skip(`${SHARED_VANILLA} is absent (a user's clone has no ../shared/kernels): no pre-5.10 cell`);
    const cell = run.cells.find((c) => c.kernelId === PRE_510_ID)!;
    expect(cell.error, cell.error ? `${cell.error.reason}\n${cell.error.consoleExcerpt ?? ''}` : '').toBeNull();
    expect(cell.facts?.release).toMatch(/^5\.4\./);
    expect(cell.cases.filter((c) => isBad(c.status)).map((c) => `${c.status} ${c.id}: ${c.reason}`)).toEqual([]);
    const at = (id: string) => cell.cases.find((c) => c.id === id)!;
    expect(at('pidfs_magic/f_type')).toMatchObject({ status: 'pass', expected: 'without', observed: { f_type: '0x09041934' } });
    // pidfd_getfd is 5.6: its prerequisite's ENOSYS makes the 6.9 zombie case absent, not failed.
    expect(at('pidfd_getfd/esrch_zombie')).toMatchObject({ status: 'skip', observed: { errno: 'ENOSYS' } });
    expect(at('waitid_pidfd/exited').status).toBe('pass');
    // Before 5.10, O_NONBLOCK set by fcntl does not reach waitid(P_PIDFD): it waits (measured 1.2 s).
    expect(at('waitid_fsetfl_nonblock/live_child')).toMatchObject({ status: 'pass', expected: 'without', observed: { waitid: 'waited' } });
  });

  it('a kernel command line that panics at boot becomes an error cell within its timeout', () => {
    const cell = run.cells.find((c) => c.kernelId === 'bookworm-panic')!;
    expect(cell.error?.reason).toMatch(/^kernel panic: /);
    expect(cell.error?.consoleExcerpt).toContain('Kernel panic - not syncing');
    // No case ran: each planned case is an error that says why (the grid keeps its shape).
    expect(cell.cases.length).toBeGreaterThan(100);
    expect(cell.cases.filter((c) => !(c.status === 'error' && /^not run: kernel panic: /.test(c.reason)))).toEqual([]);
    // It died before its command started, so it was booted once more, and panicked again.
    expect(cell.earlierAttempts).toEqual([{ reason: expect.stringMatching(/^kernel panic: /), consoleLog: 'console-attempt1.log' }]);
    expect(cell.durationMs).toBeLessThan(PANIC_TIMEOUT_SEC * 1000);
    expect(run.cells.map((c) => c.kernelId)).toEqual([...ci.map((k) => k.id), ...(pre510 ? [PRE_510_ID] : []), 'bookworm-panic', 'bookworm-hang', 'trixie-faults']);
  });

  it('a guest that does not finish within its timeout is killed and becomes a timeout error cell', () => {
    const cell = run.cells.find((c) => c.kernelId === 'bookworm-hang')!;
    // A guest that boots fast gets into the suite before the limit: the running case is named.
    expect(cell.error?.reason).toMatch(new RegExp(`^no result within ${HANG_TIMEOUT_SEC}s \\(.*\\); killed( \\(while \\S+ was running\\))?$`));
    // Cases answered before the limit keep their verdicts (none fails); every error is the kill's.
    const limit = `no result within ${HANG_TIMEOUT_SEC}s`;
    expect(cell.cases.filter((c) => c.status === 'fail' || (c.status === 'error' && !c.reason.includes(limit)))).toEqual([]);
    // Killed at the limit, not left running: well under the next-larger limit in this run.
    expect(cell.durationMs).toBeLessThan(PANIC_TIMEOUT_SEC * 1000);
  });

  it('a probe hung in a syscall costs its own case (deadline error), and a panic mid-suite keeps the answers before it', () => {
    const cell = run.cells.find((c) => c.kernelId === 'trixie-faults')!;
    const ids = cell.cases.map((c) => c.id);
    const hung = cell.cases.find((c) => c.id === HUNG_CASE)!;
    expect(hung).toMatchObject({ status: 'error', durationMs: 20_000 });
    expect(hung.reason).toMatch(new RegExp(`^no answer within 20 s; stuck in ${HUNG_CASE}, in waitid`));
    const p = ids.indexOf(PANIC_CASE);
    expect(p).toBeGreaterThan(ids.indexOf(HUNG_CASE));
    // Every case before the panic other than the hung one has its answer, judged on the host.
    const before = cell.cases.slice(0, p).filter((c) => c.id !== HUNG_CASE);
    expect(before.filter((c) => c.status === 'error').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
    expect(before.length).toBeGreaterThan(40);
    // The panic is the cell's error and names the running case; the rest say why they did not run.
    expect(cell.error?.reason).toMatch(new RegExp(`^kernel panic: sysrq triggered crash.* \\(while ${PANIC_CASE} was running\\)$`));
    // (harness/judge/health.ts also reads the panic on the console as this case's kernel report.)
    expect(cell.cases[p]).toMatchObject({ status: 'error', reason: expect.stringMatching(new RegExp(`${PANIC_CASE} was running when the run stopped: kernel panic: `)) });
    for (const c of cell.cases.slice(p + 1).filter((x) => x.id !== 'kernel_health')) expect(c.reason).toMatch(/^not run: kernel panic: /);
    expect(cell.durationMs).toBeLessThan(PANIC_TIMEOUT_SEC * 1000);
  });
});

describe.skipIf(!enabled)('a real guest interrupted by Ctrl-C (SIGINT to the matrix CLI)', () => {
  it('kills qemu, writes the reports with the cell as an error, exits 130', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pidfd-matrix-guest-sigint-'));
    const r = await interruptMatrix(['--kernels', 'bookworm', '--accel', 'tcg', '--out', out], {
      waitFor: /bookworm\s+booting 6\.1\./, marker: join(out, 'bookworm'), sig: 'SIGINT',
      ready: (procs) => procs.some((p) => p.cmdline.includes('qemu-system')), settleMs: 3000, timeoutMs: 10 * 60_000,
    });
    expect(r.seen.some((p) => p.cmdline.includes('qemu-system')), r.out).toBe(true);
    expect(r.code, r.out).toBe(130);
    expect(await liveInGroupsAfter(r.groups)).toEqual([]);
    for (const f of ['junit.xml', 'index.html', 'summary.md', 'bookworm/console.log']) expect(existsSync(join(out, f)), f).toBe(true);
    const cell = JSON.parse(readFileSync(join(out, 'bookworm/results.json'), 'utf8')) as CellResult;
    expect(cell.error?.reason).toBe('interrupted by SIGINT');
  }, 12 * 60_000);
});

// Kernel health on a real guest: a real new taint bit (`echo 64 > /proc/sys/kernel/tainted`,
// TAINT_USER) made while one known case runs (the suite's test-only fault hook,
// suites/lib/fault.ts) must turn exactly that case into an error, seen in JUnit; the others
// keep their answers. One short bookworm boot running one feature.
describe.skipIf(!enabled)('guest kernel health (bookworm, a real taint during one case)', () => {
  let run: MatrixRun;
  const outDir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-guest-health-'));
  const FAULTED = 'pidfd_open/self';
  beforeAll(async () => {
    const bookworm = selectKernels(loadMatrix(), 'bookworm')[0];
    run = await runMatrix({
      kernels: [{ ...bookworm, id: 'bookworm-taint', ci: false }],
      outDir, jobs: 1, timeoutSec: 900, accel: 'auto', tests: ['pidfd_open'],
      guestEnv: { PIDFD_MATRIX_FAULT_CASE: FAULTED, PIDFD_MATRIX_FAULT_CMD: 'echo 64 > /proc/sys/kernel/tainted' },
      command: 'vitest vm/guest-smoke.test.ts (kernel health)',
      progress: (l) => console.log(`guest-health: ${l}`),
    });
  }, 20 * 60_000);

  it('the case that ran when the kernel got tainted is an error naming the taint; the others keep their verdicts', async () => {
    const cell = run.cells[0];
    expect(cell.error, cell.error?.reason).toBeNull();
    const faulted = cell.cases.find((c) => c.id === FAULTED)!;
    expect(faulted.status).toBe('error');
    expect(faulted.reason).toMatch(/^kernel health: taint: new taint: U \(taint requested by userspace\) \(\/proc\/sys\/kernel\/tainted 0 -> 64, while pidfd_open\/self ran\)/);
    expect(faulted.preHealth?.status).toBe('pass');
    const others = cell.cases.filter((c) => c.feature === 'pidfd_open' && c.id !== FAULTED);
    expect(others.length).toBeGreaterThan(3);
    expect(others.filter((c) => c.preHealth || isBad(c.status)).map((c) => `${c.id}: ${c.status} ${c.reason}`)).toEqual([]);
    expect(cell.cases.find((c) => c.id === 'kernel_health')).toMatchObject({ status: 'pass', reason: expect.stringMatching(/guest console \(\d+ case markers\)/) });
    const { junitXml } = await import('../harness/report/junit.js');
    expect(junitXml([cell])).toMatch(new RegExp(`name="${FAULTED}"[^>]*>\\s*<error message="kernel health: taint: new taint: U`));
  });
});

// A distro kernel on its distro's own root (`root: trixie`, vng --root), with the cell dir
// inside the checkout as `make matrix` has it (reports/<id>): the checkout is a read-only
// share and the cell dir a writable one inside it, which the guest must mount parent first.
// One trixie boot with one feature; the first run debootstraps the root (~50 s).
describe.skipIf(!enabled)('a guest on a distro root (trixie-root), cell dir inside the checkout', () => {
  let run: MatrixRun;
  const parent = join(REPO_ROOT, 'reports');
  mkdirSync(parent, { recursive: true });
  const outDir = mkdtempSync(join(parent, 'smoke-root-'));
  beforeAll(async () => {
    const entry = selectKernels(loadMatrix(), 'trixie-root')[0];
    run = await runMatrix({
      kernels: [entry], outDir, jobs: 1, timeoutSec: 900, accel: 'auto', tests: ['pidfd_open', 'libc_pidfd_spawn'],
      command: 'vitest vm/guest-smoke.test.ts (distro root)',
      progress: (l) => console.log(`guest-root: ${l}`),
    });
  }, 20 * 60_000);

  it('ran on trixie\'s own glibc and wrote its answers into the cell dir under the read-only checkout', () => {
    const cell = run.cells[0];
    expect(cell.error, cell.error ? `${cell.error.reason}\n${cell.error.consoleExcerpt ?? ''}` : '').toBeNull();
    expect(cell.facts?.libc?.version).toMatch(/^2\.4\d/); // trixie's glibc, not the host's 2.36
    expect(cell.cases.filter((c) => isBad(c.status)).map((c) => `${c.status} ${c.id}: ${c.reason}`)).toEqual([]);
    expect(cell.cases.find((c) => c.id === 'libc_pidfd_spawn/works')?.status).toBe('pass');
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));
});
