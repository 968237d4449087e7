// The arch axis of matrix entries (issue 23): parsed, defaulted, refused where it cannot boot,
// and checked against the kernel image's own boot header.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entryArch, loadMatrix, parseMatrix } from './matrix.js';
import { repoPath } from '../suites/lib/paths.js';
import { sourceKind } from './sources/index.js';
import { imageArchOf, imageArchProblem } from './image-arch.js';
import { MATRIX_FILE, matrixError } from './fixtures/matrix-error.js';

const F = MATRIX_FILE;
const parse = (yaml: string) => parseMatrix(yaml, F).kernels;
const err = matrixError;
const deb = (extra: string) => `kernels:\n  - {id: a, source: debian, suite: trixie, ${extra}}\n`;

describe('arch: on matrix entries', () => {
  it('is x86_64 when absent or said, and arm64 when said (with a root)', () => {
    const [a, b, c] = parse(`kernels:
  - {id: a, source: debian, suite: trixie, package: linux-image-amd64}
  - {id: b, source: debian, suite: trixie, package: linux-image-amd64, arch: x86_64}
  - {id: c, source: debian, suite: trixie, package: linux-image-arm64, arch: arm64, root: trixie}
`);
    expect([entryArch(a), entryArch(b), entryArch(c)]).toEqual(['x86_64', 'x86_64', 'arm64']);
    expect(a.arch).toBeUndefined();
    expect(c).toMatchObject({ arch: 'arm64', root: 'trixie' });
  });
  it('an arm64 entry without root: names the fix', () => {
    expect(err(deb('package: linux-image-arm64, arch: arm64'))).toMatch(/arch: arm64 needs 'root:' \(a Debian suite, e\.g\. root: trixie\)/);
  });
  it('an unknown arch lists the known ones', () => {
    expect(err(deb('package: linux-image-amd64, arch: riscv64, root: trixie'))).toContain("arch 'riscv64' is not one of x86_64, arm64");
  });
  it("a Debian package of the other architecture is refused with the entry's own", () => {
    expect(err(deb('package: linux-image-amd64, arch: arm64, root: trixie'))).toContain("is Debian's amd64 kernel, but the entry is arm64: use linux-image-arm64");
    expect(err(deb('package: linux-image-arm64'))).toContain("is Debian's arm64 kernel, but the entry is x86_64: use linux-image-amd64 (or add arch: arm64 and root:)");
  });
  it('the host and containers cannot take another arch; mainline builds are amd64 only', () => {
    expect(err('kernels:\n  - {id: h, source: host, arch: arm64, root: trixie}\n')).toContain('arch: arm64 needs a guest');
    expect(err('kernels:\n  - {id: c, source: container, userspace: trixie, arch: arm64, root: trixie}\n')).toContain('a container runs on the host');
    expect(err('kernels:\n  - {id: m, source: mainline, version: "6.16", arch: arm64, root: trixie}\n')).toContain('amd64 only');
  });
  it('path and build entries carry it as a claim; the Debian kind names its arch', () => {
    const [p, b, d] = parse(`kernels:
  - {id: p, source: path, kernel: /srv/Image, arch: arm64, root: trixie}
  - {id: b, source: build, tree: /srv/linux, arch: arm64, root: trixie}
  - {id: d, source: debian, suite: trixie, package: linux-image-arm64, arch: arm64, root: trixie}
`);
    expect([p.arch, b.arch]).toEqual(['arm64', 'arm64']);
    expect(sourceKind(d).describe(d)).toBe('debian trixie linux-image-arm64 (arm64)');
  });
});

describe('a kernel image says its architecture', () => {
  const x86 = Buffer.alloc(0x210);
  x86.write('HdrS', 0x202, 'latin1');
  const arm = Buffer.alloc(0x210);
  arm.writeUInt32LE(0x644d5241, 56);
  it('x86 boot protocol HdrS, arm64 Image magic, nothing known for a compressed image', () => {
    expect(imageArchOf(x86)).toBe('x86_64');
    expect(imageArchOf(arm)).toBe('arm64');
    expect(imageArchOf(Buffer.from([0x1f, 0x8b, 8, 0]))).toBeNull();
  });
  it('a claim its header contradicts is an error naming the fix; agreement or silence is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'image-arch-'));
    writeFileSync(join(dir, 'bzImage'), x86);
    writeFileSync(join(dir, 'Image'), arm);
    writeFileSync(join(dir, 'vmlinuz.gz'), Buffer.from([0x1f, 0x8b, 8, 0]));
    expect(imageArchProblem('k', 'arm64', join(dir, 'bzImage'))).toMatch(/is an x86_64 kernel image \(its boot header\), but the entry says arch: arm64; remove 'arch:'/);
    expect(imageArchProblem('k', 'x86_64', join(dir, 'Image'))).toContain("add 'arch: arm64' and a 'root:' suite");
    expect(imageArchProblem('k', 'arm64', join(dir, 'Image'))).toBeNull();
    expect(imageArchProblem('k', 'arm64', join(dir, 'vmlinuz.gz'))).toBeNull();
  });
});

describe('kernels/matrix-arm64.yaml and make matrix-arm64 (the shipped arch axis)', () => {
  it('is trixie 6.12 on arm64 beside the same kernel on x86_64, both on trixie root', () => {
    const m = loadMatrix(repoPath('kernels/matrix-arm64.yaml'));
    expect(m.kernels.map((k) => [k.id, entryArch(k), k.root])).toEqual([['trixie-root', 'x86_64', 'trixie'], ['trixie-arm64', 'arm64', 'trixie']]);
    expect(m.kernels[1]).toMatchObject({ source: 'debian', suite: 'trixie', package: 'linux-image-arm64' });
  });
  it('make matrix-arm64 runs that file, make help lists it, make deps installs the arm64 packages', () => {
    const make = readFileSync(repoPath('Makefile'), 'utf8');
    expect(make).toMatch(/^matrix-arm64: setup deps ## .*\n\t\$\(PM\) matrix --matrix kernels\/matrix-arm64\.yaml/m);
    const help = spawnSync('make', ['-s', 'help'], { cwd: repoPath(), encoding: 'utf8' }).stdout;
    expect(help).toMatch(/make matrix-arm64 /);
    expect(make).toMatch(/^deps:.*\n(\t.*\n)*\tbash scripts\/setup\/arm64\.sh/m);
    const setup = readFileSync(repoPath('scripts/setup/arm64.sh'), 'utf8');
    expect(setup).toMatch(/apt_install_missing "arm64 guest packages" qemu-system-arm qemu-user-static binfmt-support mmdebstrap/);
  });
});
