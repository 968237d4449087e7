// Container cells for real: `matrix` with source: container entries runs the supervisor inside a
// debootstrapped bookworm image (kernels/userspace.ts; built once, about a minute, then cached)
// started through testcontainers: one under a custom profile denying pidfd_getfd on runc, one
// under Docker's default profile on crun. Four features and one case only, to stay short (~10 s once the
// image exists). Checks that the probes ran on the image's glibc, not the host's, that the
// cells carry their axes, and that policy.md shows what each profile blocked, with evidence.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';
import { readUserspace } from '../../kernels/userspace.js';
import { loadCatalog } from '../judge/catalog.js';
import { auditSkips } from '../judge/skip-audit.js';

const STATE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pidfd-matrix', 'docker-setup.state');

/** Where Docker or the tools cannot run, skip with the reason; where they can, anything wrong fails. */
function gate(): { run: true } | { run: false; reason: string } {
  if (!existsSync(STATE)) return { run: false, reason: `scripts/setup/docker.sh has not run on this machine (no ${STATE}); \`make deps\` runs it` };
  const [state, ...why] = readFileSync(STATE, 'utf8').trim().split('\t');
  if (state !== 'ok') return { run: false, reason: `Docker unavailable here (scripts/setup/docker.sh): ${why.join(' ') || state}` };
  if (!readUserspace('bookworm') && spawnSync('debootstrap', ['--version']).status !== 0) return { run: false, reason: 'no bookworm userspace cached and no debootstrap: `make deps` installs it (scripts/setup/userspace.sh)' };
  return { run: true };
}
const g = gate();

if (g.run) describe('container cells of the matrix (bookworm userspace, custom profile on runc, default profile on crun)', () => {
  const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-container-cell-'));
  const out = join(work, 'out');
  let run: { status: number | null; output: string };
  const cell = (id: string) => JSON.parse(readFileSync(join(out, id, 'results.json'), 'utf8')) as CellResult;
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(() => {
    writeFileSync(join(work, 'm.yaml'), [
      'kernels:',
      '  - {id: host, source: host}',
      `  - {id: deny-getfd, source: container, userspace: bookworm, seccomp: ${repoPath('kernels/seccomp/deny-pidfd-getfd.json')}, runtime: runc}`,
      '  - {id: default-crun, source: container, userspace: bookworm, seccomp: default, runtime: crun}',
    ].join('\n') + '\n');
    const r = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'matrix', '--matrix', join(work, 'm.yaml'), '--out', out, '--test', 'pidfd_open,pidfd_getfd,clone3,clone_autoreap/pidfd_autokill,clone3_set_tid'], { encoding: 'utf8', cwd: repoPath() });
    run = { status: r.status, output: `${r.stdout}\n${r.stderr}` };
  }, 600_000);

  it('runs both containers and exits 0 (blocked calls are skips with evidence, nothing fails)', () => {
    expect(run.status, run.output.slice(-3000)).toBe(0);
    for (const id of ['deny-getfd', 'default-crun']) expect(cell(id).error, id).toBeNull();
  });

  it("the probes called the image's glibc (bookworm's 2.36), recorded with the exact libc6 version; the kernel is the host's", () => {
    const c = cell('deny-getfd');
    const libc6 = readUserspace('bookworm')!.packages.libc6;
    expect(c.mode).toBe('container');
    expect(c.container).toMatchObject({ userspace: 'bookworm', image: 'pidfd-matrix/userspace:bookworm', runtime: 'runc', kernel: 'host', packages: { libc6 } });
    expect(c.container!.node!.check).toMatch(/glibc 2\.36$/);
    expect(c.facts).toMatchObject({ kernelOf: 'host', release: cell('host').facts!.release, container: 'docker', seccomp: 2, userspace: { suite: 'bookworm', packages: { libc6 } } });
    expect(readFileSync(join(out, 'deny-getfd', 'junit.xml'), 'utf8')).toContain(`<property name="userspace.libc6" value="${libc6}"/>`);
  });

  it('custom profile: only pidfd_getfd is blocked, with the control evidence; crun applies Docker\'s profile (clone3 ENOSYS too)', () => {
    const blocked = (c: CellResult) => [...new Set(c.cases.filter((x) => x.reason.startsWith('blocked by seccomp')).map((x) => x.feature))].sort();
    expect(blocked(cell('deny-getfd'))).toEqual(['pidfd_getfd']);
    expect(cell('deny-getfd').cases.filter((x) => x.feature === 'pidfd_getfd' && x.status === 'skip').every((x) => /got EPERM .*pidfd_getfd with a bad argument got EPERM too/.test(x.reason) || x.reason.startsWith('needs '))).toBe(true);
    // clone3_set_tid/eperm_unprivileged asks set_tid from a clone3 call the filter refuses too
    expect(blocked(cell('default-crun'))).toEqual(['clone3', 'clone3_set_tid', 'pidfd_getfd']);
    expect(cell('default-crun').container!.runtimeVersion).toMatch(/^crun version/);
  });

  it('policy.md: the table of blocked calls per cell, and every difference from host explained', () => {
    const md = readFileSync(join(out, 'policy.md'), 'utf8');
    expect(md).toContain('| `pidfd_getfd` | EPERM ×9 | EPERM ×9 |');
    expect(md).toMatch(/\| `clone3` \| · \| ENOSYS ×16 \|/);
    expect(md).toContain('Every difference from the host cell is explained by the userspace, the profile or the runtime.');
    expect(existsSync(join(out, 'policy.html'))).toBe(true);
  });

  it("a userspace where node cannot start is an error naming it, not a skip (here a 'node' that only fails)", async () => {
    const { ContainerSut } = await import('../../vm/container-sut.js');
    const sut = new ContainerSut({ userspace: 'bookworm', seccomp: 'default', runtime: 'runc' }, { nodeBinary: '/bin/false' });
    const r = await sut.run('true', { timeoutSec: 60, logPath: join(work, 'false', 'container.log'), rwdirs: [] });
    expect(r.status).toBe('boot-failure');
    expect(r.reason).toMatch(/^the host's node \(\/bin\/false, v[\d.]+\) does not run on bookworm's userspace/);
    expect(readFileSync(r.logPath, 'utf8')).toContain('# node check:');
  }, 120_000);

  it("every skip in a container cell carries its evidence (the skip audit of catalog --record finds none)", () => {
    for (const id of ['deny-getfd', 'default-crun']) expect(auditSkips(cell(id), loadCatalog()), id).toEqual([]);
    // pid 2 is no kthreadd in the container's own pid namespace: the kernel's ESRCH for it says so.
    expect(cell('deny-getfd').cases.find((c) => c.id === 'pidfd_open/kthreadd')).toMatchObject({ status: 'skip', observed: { errno: 'ESRCH' } });
    // CLONE_PIDFD_AUTOKILL without CLONE_NNP wants CAP_SYS_ADMIN, which root in a container lacks: a need the facts prove unmet.
    expect(cell('deny-getfd').cases.find((c) => c.id === 'clone_autoreap/pidfd_autokill')).toMatchObject({ status: 'skip', reason: expect.stringMatching(/^needs root with CAP_SYS_ADMIN/) });
  });

  it('each cell has a rerun line that selects it in the same matrix file', () => {
    expect(cell('deny-getfd').rerun).toBe(`npx pidfd-matrix matrix --kernels deny-getfd --matrix ${join(work, 'm.yaml')} --out ${out} --test pidfd_open,pidfd_getfd,clone3,clone_autoreap/pidfd_autokill,clone3_set_tid`);
  });
});
else describe('container cells of the matrix', () => {
  const reason = g.reason;
  it(`skipped: ${reason}`, (ctx) => {
    console.warn(`container-cell: skipped: ${reason}`);
    ctx.skip(reason);
  });
});
