// The musl test binary is built on demand into the cache (issue 22.1): a fresh checkout's first
// `probe` builds it once (real musl-gcc, under build.sh's flock), and its musl cases run instead
// of erroring; build.sh (make deps) and the harness agree on where it lives.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureMuslHelper, muslHelperPath, needsMusl, MUSL_BUILD_SCRIPT } from './musl-helper.js';
import { repoPath } from '../../suites/lib/paths.js';
import { selectedCases } from './run-suite.js';
import { ARM64_MUSL_DEV, ensureDebianTool } from '../../kernels/debian-tool.js';
import type { CellResult } from '../results.js';

const cache = mkdtempSync(join(tmpdir(), 'pm-musl-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
const env = { ...process.env, PIDFD_MATRIX_CACHE: cache };

describe('the musl test binary, built on demand', () => {
  it('build.sh (make deps) and the harness name the same cache path, keyed by the source hash', () => {
    const r = spawnSync('bash', [MUSL_BUILD_SCRIPT, '--path'], { env, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(muslHelperPath(cache));
    expect(muslHelperPath(cache)).toMatch(new RegExp(`^${cache}/musl/[0-9a-f]{16}/pidfd-wrappers$`));
  });

  it('only a selection with a musl case needs it', () => {
    expect(needsMusl(selectedCases(['libc_pidfd_open']))).toBe(true);
    expect(needsMusl(selectedCases(['pidfd_open']))).toBe(false);
  });

  it('a fresh cache: probe builds it once, and the musl cases run (no error)', () => {
    const out = mkdtempSync(join(tmpdir(), 'pm-musl-out-'));
    const probe = () => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'probe', '--test', 'libc_pidfd_open,libc_pidfd_getfd', '--out', out],
      { env, encoding: 'utf8', cwd: repoPath() });
    const first = probe();
    expect(first.stderr).toMatch(/musl: building the musl test binary once/);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const cell = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult;
    const musl = cell.cases.filter((c) => c.case === 'musl');
    expect(musl).toHaveLength(2);
    for (const c of musl) {
      expect(c.status, c.reason).not.toBe('error');
      expect(c.observed.libc).toMatch(/^musl \d+\.\d+/);
    }
    const bin = muslHelperPath(cache);
    const built = statSync(bin).mtimeMs;
    // The second run finds it in the cache: no build, same file.
    const second = probe();
    expect(second.status).toBe(0);
    expect(second.stderr).not.toMatch(/musl: building/);
    expect(statSync(bin).mtimeMs).toBe(built);
    rmSync(out, { recursive: true, force: true });
  }, 120_000);

  it('two runs that need it at once build it once (the flock in build.sh)', async () => {
    rmSync(dirname(muslHelperPath(cache)), { recursive: true, force: true });
    const lines: string[] = [];
    const [a, b] = await Promise.all([1, 2].map(() => ensureMuslHelper({ cache, progress: (m) => lines.push(m) })));
    expect(a).toEqual({ bin: muslHelperPath(cache) });
    expect(b).toEqual(a);
    expect(lines.filter((l) => /^musl: built /.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^musl: cached /.test(l))).toHaveLength(1);
  }, 120_000);

  it('a build that cannot run is the reason the musl cases give, naming the fix', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'pm-musl-bad-'));
    try {
      // A cache the build cannot write into (a file where its dir should be).
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(bad, 'musl'), '');
      const h = await ensureMuslHelper({ cache: bad });
      expect(h).toMatchObject({ error: expect.stringMatching(/could not build it .*\n[\s\S]*fix: as root, run `bash suites\/musl\/build.sh`/) });
      expect(existsSync(muslHelperPath(bad))).toBe(false);
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('the arm64 musl binary of an arm64 guest (issue 23)', () => {
  it('build.sh cross-builds it against Debian arm64 musl-dev into <key>/arm64/, where the harness looks', async () => {
    // Debian's arm64 musl-dev, fetched (or cached) through the private arm64 lists, as a matrix run does.
    const libc = await ensureDebianTool(ARM64_MUSL_DEV, {});
    const sysroot = libc.slice(0, -ARM64_MUSL_DEV.path.length - 1);
    const armEnv = { ...env, PIDFD_MATRIX_MUSL_ARCH: 'arm64', PIDFD_MATRIX_MUSL_SYSROOT: sysroot };
    const path = spawnSync('bash', [MUSL_BUILD_SCRIPT, '--path'], { env: armEnv, encoding: 'utf8' }).stdout.trim();
    expect(path).toBe(muslHelperPath(cache, 'arm64'));
    expect(path).toBe(join(dirname(muslHelperPath(cache)), 'arm64', 'pidfd-wrappers'));
    const r = spawnSync('bash', [MUSL_BUILD_SCRIPT], { env: armEnv, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/musl: built .*\/arm64\/pidfd-wrappers \(musl \d+\.\d+\.\d+, arm64\)/);
    // An ELF for aarch64 (e_machine 183), static (no PT_INTERP): it runs on the guest's kernel alone.
    const elf = readFileSync(path);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(183);
    expect(elf.includes(Buffer.from('/lib/ld-musl-aarch64.so.1'))).toBe(false);
    // The harness finds it there now, without building.
    expect(await ensureMuslHelper({ cache, arch: 'arm64' })).toEqual({ bin: path });
  }, 300_000);
  it('without the unpacked musl-dev, build.sh names what it needs', () => {
    const fresh = mkdtempSync(join(tmpdir(), 'pm-musl-arm-'));
    const bad = { ...env, PIDFD_MATRIX_CACHE: fresh, PIDFD_MATRIX_MUSL_ARCH: 'arm64', PIDFD_MATRIX_MUSL_SYSROOT: '/nonexistent' };
    const r = spawnSync('bash', [MUSL_BUILD_SCRIPT], { env: bad, encoding: 'utf8' });
    rmSync(fresh, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("PIDFD_MATRIX_MUSL_SYSROOT must be Debian's arm64 musl-dev unpacked");
  });
});
