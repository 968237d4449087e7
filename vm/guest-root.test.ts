// A guest on a distro's own root (matrix `root: trixie`): what vng is asked for, without booting.
// The real boot is `make root-demo`-style: `flock /tmp/pidfd-guest.lock npx pidfd-matrix matrix
// --kernels trixie-root --accel tcg` (README, "The libc axis").
import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUEST_FLAVOR, GUEST_NODE_DIR, GUEST_NODE_FLAVOR, guestRootMounts, ROOT_NODE, VNG_OVERLAYS } from './guest-root.js';
import { vngArgs } from './vng.js';
import { containerMounts } from './container-sut.js';
import { MatrixError, parseMatrix } from '../kernels/matrix.js';

describe('guest on a distro root', () => {
  it('mounts the checkout, node_modules\' real dir, the modules and the host node (under an overlay)', () => {
    const d = mkdtempSync(join(tmpdir(), 'pidfd-matrix-root-'));
    const repo = join(d, 'wt'), real = join(d, 'real-node_modules'), bin = join(d, 'bin');
    for (const x of [repo, real, bin]) mkdirSync(x, { recursive: true });
    symlinkSync(real, join(repo, 'node_modules'));
    writeFileSync(join(bin, 'node'), '');
    const m = guestRootMounts(repo, join(bin, 'node'), '/cache/k/lib/modules/6.12.117+deb13-amd64');
    expect(m.rodirs).toEqual([[repo, repo], ['/lib/modules/6.12.117+deb13-amd64', '/cache/k/lib/modules/6.12.117+deb13-amd64'], [real, real], [GUEST_NODE_DIR, bin]]);
    expect(m.node).toBe(`${GUEST_NODE_DIR}/node`);
    expect(VNG_OVERLAYS.some((o) => GUEST_NODE_DIR.startsWith(`${o}/`))).toBe(true);
    expect(GUEST_FLAVOR.include).toEqual(expect.arrayContaining(['udev', 'kmod', 'systemd-sysv']));
  });

  it('mounts host dirs outside the checkout that the suite reads (the cached musl binary), same path', () => {
    const d = mkdtempSync(join(tmpdir(), 'pidfd-matrix-root-'));
    writeFileSync(join(d, 'node'), '');
    const m = guestRootMounts(d, join(d, 'node'), null, ['/cache/musl/0123456789abcdef']);
    expect(m.rodirs).toContainEqual(['/cache/musl/0123456789abcdef', '/cache/musl/0123456789abcdef']);
    expect(containerMounts(d, join(d, 'node'), ['/out/c'], ['/cache/musl/0123456789abcdef']))
      .toContainEqual({ source: '/cache/musl/0123456789abcdef', target: '/cache/musl/0123456789abcdef', mode: 'ro' });
  });

  it('asks vng for --root and --rodir=guest=host before the rwdirs', () => {
    const a = vngArgs('/k/vmlinuz', 'true', { accel: 'tcg', root: '/r', rodirs: [['/opt/n', '/usr/bin']], rwdirs: ['/out/c'] });
    expect(a.join(' ')).toContain('--root /r --rodir=/opt/n=/usr/bin --rwdir=/out/c=/out/c');
    expect(vngArgs('/k/vmlinuz', 'true', { accel: 'tcg' })).not.toContain('--root');
  });

  it('matrix entries take root: <debian suite> for guests only', () => {
    const m = parseMatrix('kernels:\n  - { id: t, source: debian, suite: trixie, package: linux-image-amd64, root: trixie }\n', 'm.yaml');
    expect(m.kernels[0].root).toBe('trixie');
    expect(() => parseMatrix('kernels:\n  - { id: h, source: host, root: trixie }\n', 'm.yaml')).toThrow(/root: needs a guest/);
    expect(() => parseMatrix('kernels:\n  - { id: t, source: debian, suite: trixie, package: linux-image-amd64, root: /srv/x }\n', 'm.yaml')).toThrow(MatrixError);
  });

  it('a root of another architecture runs its own node: nothing of the host\'s node is mounted', () => {
    const d = mkdtempSync(join(tmpdir(), 'pidfd-matrix-root-'));
    const m = guestRootMounts(d, null, '/cache/k/lib/modules/6.12.118+deb13-arm64', ['/cache/koffi/koffi-linux-arm64-3.3.4/node_modules']);
    expect(m.node).toBe(ROOT_NODE);
    expect(m.rodirs.map(([g]) => g)).not.toContain(GUEST_NODE_DIR);
    expect(m.rodirs).toContainEqual(['/cache/koffi/koffi-linux-arm64-3.3.4/node_modules', '/cache/koffi/koffi-linux-arm64-3.3.4/node_modules']);
    expect(GUEST_NODE_FLAVOR.include).toEqual([...GUEST_FLAVOR.include, 'nodejs']);
  });
});
