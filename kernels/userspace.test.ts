// The distro userspace builder on fixtures: the dpkg status of a real bookworm minbase root
// (kernels/fixtures/dpkg-status-bookworm, its libc6/libstdc++6/libgcc-s1/base-files stanzas),
// the cache hit that needs neither root nor debootstrap, and the errors that name the fix.
// The real debootstrap + docker import runs in harness/run/container-cell.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapFix, ensureRootfs, foreignArchProblem, imageTag, parseDpkgStatus, readUserspace, recordedPackages, rootName, userspaceDir, userspaceId, type UserspaceMeta } from './userspace.js';

const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-userspace-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const status = readFileSync(new URL('./fixtures/dpkg-status-bookworm', import.meta.url), 'utf8');

describe('dpkg status of a root', () => {
  it('lists installed packages with their exact versions, not removed ones', () => {
    const p = parseDpkgStatus(status);
    expect(p).toEqual({ 'base-files': '12.4+deb12u15', libc6: '2.36-9+deb12u14', 'libgcc-s1': '12.2.0-14+deb12u1', 'libstdc++6': '12.2.0-14+deb12u1' });
    expect(recordedPackages({ packages: p })).toEqual({ libc6: '2.36-9+deb12u14', 'libstdc++6': '12.2.0-14+deb12u1', 'libgcc-s1': '12.2.0-14+deb12u1' });
  });
});

function fakeRoot(suite: string, packages: Record<string, string>, recipe = 1): string {
  const dir = userspaceDir(suite, work);
  mkdirSync(join(dir, 'rootfs', 'usr'), { recursive: true });
  const meta: UserspaceMeta = { recipe, suite, mirror: 'http://deb.debian.org/debian', variant: 'minbase', debootstrap: 'debootstrap 1.0.128', builtAt: '2026-12-01T00:00:00Z', seconds: 65, packages };
  writeFileSync(join(dir, 'userspace.json'), JSON.stringify(meta));
  return dir;
}

describe('the userspace cache', () => {
  it('serves a built root without debootstrap, under its suite name, with an image tag per suite', async () => {
    const dir = fakeRoot('bookworm', parseDpkgStatus(status));
    const lines: string[] = [];
    expect(await ensureRootfs('bookworm', { cache: work, progress: (l) => lines.push(l) })).toBe(join(dir, 'rootfs'));
    expect(lines).toEqual([]);
    expect(imageTag('bookworm')).toBe('pidfd-matrix/userspace:bookworm');
  });

  it('the identity changes with any package version, so a rebuilt root gets a new image', () => {
    const a = readUserspace('bookworm', work)!;
    const b = { ...a, packages: { ...a.packages, libc6: '2.36-9+deb12u15' } };
    expect(userspaceId(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(userspaceId(b)).not.toBe(userspaceId(a));
  });

  it('a root of an older recipe is not taken as built', () => {
    fakeRoot('old', { libc6: '2.31-13' }, 0);
    expect(readUserspace('old', work)).toBeNull();
  });

  it('a name that is not a suite is refused with the names that are', async () => {
    await expect(ensureRootfs('../etc', { cache: work })).rejects.toThrow(/not a Debian suite name \(bullseye, bookworm, trixie/);
  });
});

describe('a root of another architecture (issue 23.1)', () => {
  it('is cached under its own name: <suite>-<arch>-<flavour>; the host arch keeps the old names', () => {
    const guest = { name: 'guest', include: ['udev'] };
    expect(rootName('trixie', { arch: 'arm64', flavor: guest })).toBe('trixie-arm64-guest');
    expect(rootName('trixie', { arch: 'amd64', flavor: guest })).toBe('trixie-guest');
    expect(rootName('trixie')).toBe('trixie');
  });

  it('needs qemu-user registered with binfmt_misc, flag F; each problem names its fix', () => {
    const b = join(work, 'binfmt');
    mkdirSync(b, { recursive: true });
    expect(foreignArchProblem('arm64', b)).toMatch(/qemu-aarch64 is missing.*apt-get install qemu-user-static binfmt-support.*update-binfmts --enable qemu-aarch64/);
    writeFileSync(join(b, 'qemu-aarch64'), 'disabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n');
    expect(foreignArchProblem('arm64', b)).toMatch(/disabled: update-binfmts --enable qemu-aarch64/);
    writeFileSync(join(b, 'qemu-aarch64'), 'enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: P\n');
    expect(foreignArchProblem('arm64', b)).toMatch(/lacks flag F/);
    writeFileSync(join(b, 'qemu-aarch64'), 'enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\noffset 0\n');
    expect(foreignArchProblem('arm64', b)).toBeNull();
    expect(foreignArchProblem('s390x', b)).toMatch(/no foreign root for Debian architecture 's390x' \(known: arm64\)/);
  });

  it('a failed mmdebstrap that wants arch-test names make deps, not the mirror', () => {
    // mmdebstrap 1.3.5's last line on a fresh Debian 12 machine without arch-test (2026-12-06).
    expect(bootstrapFix(['E: install arch-test for foreign architecture support'])).toMatch(/make deps.*arch-test/);
    expect(bootstrapFix(['E: Failed getting release file http://deb.debian.org/debian/dists/nosuch/Release'])).toMatch(/mirror answers/);
  });
});
