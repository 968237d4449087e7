// The container twin of host-probe.test.ts: a real run of the probe command inside a Docker
// container under Docker's DEFAULT seccomp profile, so distro and container users can trust
// the "blocked by seccomp" reporting. Docker's profile makes clone3 answer ENOSYS and
// pidfd_getfd (without CAP_SYS_PTRACE) EPERM: those must be skips "blocked by seccomp", never
// "absent as expected" (= the kernel lacks it) and never fail. A second run with
// seccomp=unconfined shows the same cases passing again, so the skip really was the filter.
//
// Needs the engine and the local image from scripts/setup/docker.sh (`make deps`). Where
// Docker cannot run, that script records why and this test skips with that reason; where it
// said Docker works, anything going wrong here is a failure, not a skip.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenericContainer, StartedTestContainer } from 'testcontainers';
import { allCases, loadCatalog } from '../judge/catalog.js';
import { repoPath } from '../../suites/lib/paths.js';
import { muslHelperPath } from './musl-helper.js';
import { compat32HelperPath } from './compat32-helper.js';
import { cacheRoot } from '../../kernels/cache.js';
import type { CaseResult, CellResult } from '../results.js';

const IMAGE = process.env.PIDFD_MATRIX_IMAGE ?? 'pidfd-matrix-rootfs:local';
const STATE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pidfd-matrix', 'docker-setup.state');
// What Docker's default profile answers for a refused call: ENOSYS (clone3, so that libcs
// fall back to clone) or EPERM (its default action, and the CAP_SYS_PTRACE-gated pidfd_getfd).
const FILTER_ERRNOS = new Set(['ENOSYS', 'EPERM']);

type Gate = { run: true } | { run: false; reason: string };

/** Run only where scripts/setup/docker.sh said Docker works; otherwise skip with the reason it gave. */
function gate(): Gate {
  if (!existsSync(STATE)) return { run: false, reason: `scripts/setup/docker.sh has not run on this machine (no ${STATE}); \`make deps\` runs it` };
  const [state, ...why] = readFileSync(STATE, 'utf8').trim().split('\t');
  if (state !== 'ok') return { run: false, reason: `Docker unavailable here (scripts/setup/docker.sh): ${why.join(' ') || state}` };
  return { run: true };
}

interface Run { cell: CellResult; exitCode: number; output: string; ms: number }

/** A worktree whose node_modules is a symlink: mount its target at the same path, or nothing resolves in /src. */
function linkedNodeModules(): { source: string; target: string; mode: 'ro' }[] {
  const nm = repoPath('node_modules');
  if (!lstatSync(nm, { throwIfNoEntry: false })?.isSymbolicLink()) return [];
  const real = realpathSync(nm);
  return [{ source: real, target: real, mode: 'ro' }];
}

const byId = (cell: CellResult) => new Map(cell.cases.map((c) => [c.id, c]));
const line = (c: CaseResult) => `${c.id}: ${c.status} (${c.reason}) observed ${JSON.stringify(c.observed)}`;

const g = gate();

/** A custom profile that denies exactly one pidfd syscall, pidfd_getfd, with EPERM (errno 1). */
const DENY_GETFD_PROFILE = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['pidfd_getfd'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };

if (g.run) describe('pidfd-matrix probe in a Docker container, default seccomp profile', () => {
  let host: CellResult;
  let confined: Run;
  let unconfined: Run;
  let custom: Run;
  const started: StartedTestContainer[] = [];
  // Kept after the run (reports/ is output only) so a failure can be read case by case.
  const outDir = (name: string) => {
    const d = repoPath('reports', 'container-probe', name);
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
    return d;
  };

  /**
   * One container per seccomp setting: the checkout read-only at /src, results at /out, and the
   * musl and i386 test binaries the host run built, at their cache paths (the image has no compiler).
   */
  async function probeInContainer(kernelId: string, seccomp: 'default' | 'unconfined' | string): Promise<Run> {
    // Ryuk (the reaper container) would be pulled from a registry: none is reachable, and
    // afterAll stops what this test starts. Set before testcontainers creates anything.
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer: GC } = await import('testcontainers');
    const out = outDir(kernelId);
    const c: GenericContainer = new GC(IMAGE)
      .withBindMounts([{ source: repoPath(), target: '/src', mode: 'ro' }, { source: out, target: '/out', mode: 'rw' }, ...linkedNodeModules(),
        ...[muslHelperPath(), compat32HelperPath()].map((b) => ({ source: dirname(b), target: dirname(b), mode: 'ro' as const }))])
      .withEnvironment({ PIDFD_MATRIX_CACHE: cacheRoot() })
      .withWorkingDir('/src')
      .withNetworkMode('none') // the probes need no network, and dockerd may run without a bridge
      .withCommand(['sleep', '3600']) // keeps it up while the probe runs through exec
      .withStartupTimeout(60_000);
    // testcontainers 11 has no withSecurityOpt: set Docker's HostConfig through the protected field.
    // 'unconfined', or a profile's JSON text (the Engine API takes the profile itself).
    if (seccomp !== 'default') (c as unknown as { hostConfig: { SecurityOpt?: string[] } }).hostConfig.SecurityOpt = [`seccomp=${seccomp}`];
    const t0 = Date.now();
    const container = await c.start();
    started.push(container);
    // exec'd processes get the container's seccomp filter, exactly like its PID 1.
    const r = await container.exec(['node', 'bin/pidfd-matrix.js', 'probe', '--kernel-id', kernelId, '--out', '/out']);
    const file = join(out, 'results.json');
    if (!existsSync(file)) throw new Error(`probe in the ${kernelId} container wrote no results.json (exit ${r.exitCode}):\n${r.output.slice(-3000)}`);
    return { cell: JSON.parse(readFileSync(file, 'utf8')) as CellResult, exitCode: r.exitCode, output: r.output, ms: Date.now() - t0 };
  }

  beforeAll(async () => {
    // The host run is the baseline: a case that passes there and meets the filter errno in the
    // container was refused by seccomp, not by the kernel.
    const hostOut = outDir('host');
    spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'probe', '--out', hostOut], { encoding: 'utf8', cwd: repoPath() });
    host = JSON.parse(readFileSync(join(hostOut, 'results.json'), 'utf8')) as CellResult;
    confined = await probeInContainer('docker-default', 'default');
    unconfined = await probeInContainer('docker-unconfined', 'unconfined');
    custom = await probeInContainer('docker-deny-getfd', JSON.stringify(DENY_GETFD_PROFILE));
    console.error(`container probe: default profile ${confined.ms} ms, unconfined ${unconfined.ms} ms; results in ${repoPath('reports', 'container-probe')}`);
  }, 480_000);

  afterAll(async () => {
    await Promise.allSettled(started.map((c) => c.stop({ timeout: 1_000 })));
  }, 60_000);

  it('runs under a seccomp filter (mode 2) inside a container and reports every catalog case', () => {
    expect(confined.cell.facts?.seccomp).toBe(2);
    expect(confined.cell.facts?.container, confined.cell.facts?.containerEvidence).toBe('docker');
    expect(confined.cell.facts?.containerEvidence).toMatch(/^own pid namespace/);
    expect(confined.cell.cases.map((c) => c.id).sort()).toEqual([...allCases(loadCatalog()).map((c) => c.id), 'kernel_health'].sort());
  });

  it('every call the filter refused (host passes, container gets ENOSYS/EPERM) is a skip "blocked by seccomp"', () => {
    const h = byId(host);
    const refused = confined.cell.cases.filter((c) => {
      const hc = h.get(c.id);
      const errno = String(c.observed.errno ?? '');
      return hc?.status === 'pass' && FILTER_ERRNOS.has(errno) && hc.observed.errno !== errno;
    });
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((c) => !(c.status === 'skip' && c.reason.startsWith('blocked by seccomp'))).map(line)).toEqual([]);
    // The wrong message would be "absent as expected" (= the kernel lacks it) for a feature the host kernel has.
    const lacking = confined.cell.cases.filter((c) => h.get(c.id)?.status === 'pass' && c.reason.startsWith('absent as expected'));
    expect(lacking.map(line)).toEqual([]);
  });

  it('clone3 cases get ENOSYS and pidfd_getfd cases EPERM from the filter, each reported as blocked by seccomp', () => {
    // Keyed on the catalog's feature ids, so cases added later are checked too; a rename that
    // drops them makes this fail instead of silently checking nothing.
    const h = byId(host);
    const ids = (feature: string) => allCases(loadCatalog()).filter((c) => c.feature === feature && h.get(c.id)?.status === 'pass').map((c) => c.id);
    const d = byId(confined.cell);
    for (const [feature, errno] of [['clone3', 'ENOSYS'], ['pidfd_getfd', 'EPERM']] as const) {
      const cases = ids(feature);
      expect(cases.length, `no passing ${feature} case on the host`).toBeGreaterThan(0);
      for (const id of cases) {
        const c = d.get(id)!;
        // A case the container cannot run for another stated reason (CAP_SYS_ADMIN) never reaches the filter.
        if (c.status === 'skip' && c.reason.startsWith('needs ')) continue;
        // The unprivileged case's child is a clone3 child: there the filter's clone3 ENOSYS comes first.
        const want = String(c.observed.prereq ?? '').startsWith('clone3') ? 'ENOSYS' : errno;
        expect({ id, status: c.status, errno: c.observed.errno, blocked: c.reason.startsWith('blocked by seccomp') })
          .toEqual({ id, status: 'skip', errno: want, blocked: true });
      }
    }
  });

  it('no case fails or errors under the default profile, and the probe exits 0', () => {
    expect(confined.cell.cases.filter((c) => c.status === 'fail' || c.status === 'error').map(line)).toEqual([]);
    expect(confined.exitCode, confined.output.slice(-2000)).toBe(0);
  });

  it('each "blocked by seccomp" carries its evidence: the control question got the filter\'s errno too', () => {
    const blocked = confined.cell.cases.filter((c) => c.reason.startsWith('blocked by seccomp'));
    expect(blocked.length).toBeGreaterThan(0);
    expect(blocked.filter((c) => !/with a bad argument got (ENOSYS too, and the kernel has sys_|EPERM too, where the kernel answers)/.test(c.reason)).map(line)).toEqual([]);
  });

  it('a custom profile denying only pidfd_getfd (EPERM): just those cases are blocked, all others as unconfined', () => {
    expect(custom.cell.facts?.seccomp).toBe(2);
    const u = byId(unconfined.cell);
    // The pidfd_getfd cases, and libc's pidfd_getfd() wrapper calling the same syscall (glibc >= 2.36).
    const callsGetfd = (c: { feature: string; id: string }) => c.feature === 'pidfd_getfd' || c.id === 'libc_pidfd_getfd/works';
    const getfd = custom.cell.cases.filter((c) => callsGetfd(c) && !c.reason.startsWith('needs '));
    expect(getfd.length).toBeGreaterThan(5);
    expect(getfd.filter((c) => !(c.status === 'skip' && /^blocked by seccomp: .* got EPERM .*pidfd_getfd with a bad argument got EPERM too/.test(c.reason))).map(line)).toEqual([]);
    // This profile lists no `architectures`: libseccomp's filter kills every call of another
    // arch, so the i386 helper of each compat32 case dies of SIGSYS at its first syscall.
    const compat = custom.cell.cases.filter((c) => c.feature === 'compat32');
    expect(compat.length).toBeGreaterThan(10);
    expect(compat.filter((c) => !(c.status === 'skip' && /^blocked by seccomp: .*killed by SIGSYS/.test(c.reason))).map(line)).toEqual([]);
    const others = custom.cell.cases.filter((c) => !callsGetfd(c) && c.feature !== 'compat32');
    expect(others.filter((c) => c.status !== u.get(c.id)?.status || c.reason.startsWith('blocked by seccomp'))
      .map((c) => `${line(c)}; unconfined ${u.get(c.id)?.status}`)).toEqual([]);
    expect(custom.exitCode, custom.output.slice(-2000)).toBe(0);
  });

  it('with seccomp=unconfined every case the filter blocked gets its host verdict again', () => {
    // The host verdict, not "pass": a case absent on this kernel (say clone3 flags of 7.1) is
    // "blocked by seccomp" under the filter and "absent as expected" without it, as on the host.
    // Anything else left over was refused by something other than seccomp (capabilities, the
    // container's PID namespace) and the default-profile run attributed it to the filter.
    expect(unconfined.cell.facts?.seccomp).toBe(0);
    const h = byId(host), u = byId(unconfined.cell);
    const blocked = confined.cell.cases.filter((c) => c.reason.startsWith('blocked by seccomp'));
    expect(blocked.length).toBeGreaterThan(0);
    const differs = blocked.map((c) => u.get(c.id)!).filter((c) => c.status !== h.get(c.id)?.status);
    expect(differs.map((c) => `host ${h.get(c.id)?.status}, unconfined ${line(c)}`)).toEqual([]);
  });
});

// Only where Docker cannot run: one skipped test that carries the reason into the report.
else describe('pidfd-matrix probe in a Docker container', () => {
  const reason = g.reason;
  it(`skipped: ${reason}`, (ctx) => {
    console.warn(`container-probe: skipped: ${reason}`);
    ctx.skip(reason);
  });
});
