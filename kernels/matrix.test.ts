import { describe, expect, it } from 'vitest';
import { KERNEL_ID_RE, kernelCmdlineExtra, loadMatrix, parseMatrix, selectKernels } from './matrix.js';
import { MATRIX_FILE, matrixError } from './fixtures/matrix-error.js';

const F = MATRIX_FILE;
const err = matrixError;

describe('kernels/matrix.yaml (the shipped file)', () => {
  const m = loadMatrix();
  it('has host, bullseye, bookworm, trixie (also on its own root), sid and trixie-backports, plus SELinux cells of 6.1, 6.12 and sid', () => {
    expect(m.kernels.map((k) => k.id)).toEqual(['host', 'bullseye', 'bookworm', 'trixie', 'trixie-root', 'sid', 'trixie-backports', 'bookworm-selinux', 'trixie-selinux', 'sid-selinux']);
    expect(m.kernels.find((k) => k.id === 'trixie-root')).toMatchObject({ source: 'debian', suite: 'trixie', root: 'trixie' });
    expect(m.kernels.filter((k) => k.lsm === 'selinux').map((k) => k.id)).toEqual(['bookworm-selinux', 'trixie-selinux', 'sid-selinux']);
    for (const k of m.kernels) expect(k.id).toMatch(KERNEL_ID_RE);
    expect(m.kernels.find((k) => k.id === 'sid')).toMatchObject({ source: 'debian', suite: 'sid', package: 'linux-image-amd64' });
  });
  it("marks exactly bookworm (6.1, the anon_inode era) as the CI smoke kernel", () => {
    expect(selectKernels(m, 'ci').map((k) => k.id)).toEqual(['bookworm', 'trixie']);
  });
});

describe('matrix validation names file, entry and fix', () => {
  it('malformed YAML', () => {
    expect(err('kernels: [\n')).toMatch(/^\/x\/matrix.yaml: not valid YAML/);
  });
  it('no kernels list', () => {
    expect(err('foo: 1\n')).toContain("expected a top-level 'kernels:' list");
  });
  it('ids with dots (they become JUnit classnames)', () => {
    expect(err('kernels:\n  - {id: v6.1, source: host}\n')).toMatch(/kernels\[0\]: id "v6.1" is not valid.*no dots/);
  });
  it('duplicate ids', () => {
    expect(err('kernels:\n  - {id: a, source: host}\n  - {id: a, source: host}\n')).toContain("kernel id 'a' appears twice");
  });
  it('unknown source and unknown keys', () => {
    expect(err('kernels:\n  - {id: a, source: ftp}\n')).toContain("(id 'a'): source \"ftp\" is not one of: host, debian, path, url");
    expect(err('kernels:\n  - {id: a, source: debian, suite: sid, package: linux-image-amd64, pkg: x}\n')).toContain("unknown key 'pkg'");
  });
  it('a debian entry may pin one upload with version:', () => {
    expect(parseMatrix('kernels:\n  - {id: a, source: debian, suite: bookworm, package: linux-image-amd64, version: "6.1.176-1"}\n', 'm.yaml').kernels[0]).toMatchObject({ version: '6.1.176-1' });
    expect(err('kernels:\n  - {id: a, source: debian, suite: bookworm, package: linux-image-amd64, version: "latest!"}\n')).toContain("version 'latest!' is not a Debian package version");
  });

  it('missing package / suite for debian', () => {
    expect(err('kernels:\n  - {id: a, source: debian, suite: sid}\n')).toContain("source 'debian' needs 'package:'");
    expect(err('kernels:\n  - {id: a, source: debian, suite: sid, package: vim}\n')).toContain('should be a linux-image-* package');
  });
  it('url needs a proper sha256', () => {
    expect(err('kernels:\n  - {id: a, source: url, url: "http://h/k.deb"}\n')).toContain("needs 'sha256:'");
    expect(err('kernels:\n  - {id: a, source: url, url: "http://h/k.deb", sha256: abc}\n')).toContain('64 hex digits');
  });
  it('bad timeout, ci and host with append', () => {
    expect(err('kernels:\n  - {id: a, source: debian, suite: sid, package: linux-image-amd64, timeout: 0}\n')).toContain('timeout must be a whole number');
    expect(err('kernels:\n  - {id: a, source: debian, suite: sid, package: linux-image-amd64, ci: yes please}\n')).toContain('ci must be true or false');
    expect(err('kernels:\n  - {id: a, source: host, append: quiet}\n')).toContain("append/lsm need a guest");
  });
  it('path entries resolve relative to the matrix file', () => {
    const m = parseMatrix('kernels:\n  - {id: b, source: path, kernel: build/bzImage, modules: mods/6.9.0}\n', F);
    expect(m.kernels[0]).toMatchObject({ kernel: '/x/build/bzImage', modules: '/x/mods/6.9.0' });
  });
});

describe('selectKernels', () => {
  const m = parseMatrix('kernels:\n  - {id: host, source: host}\n  - {id: old, source: debian, suite: bullseye, package: linux-image-amd64, ci: true}\n  - {id: new, source: debian, suite: sid, package: linux-image-amd64, lsm: selinux, append: "quiet"}\n', F);
  it('keeps matrix order whatever the order asked', () => {
    expect(selectKernels(m, 'new,host').map((k) => k.id)).toEqual(['host', 'new']);
    expect(selectKernels(m, undefined).length).toBe(3);
    expect(selectKernels(m, 'all').length).toBe(3);
    expect(selectKernels(m, ['ci']).map((k) => k.id)).toEqual(['old']);
  });
  it('an unknown id fails and lists the known ids', () => {
    expect(() => selectKernels(m, 'host,bookwrom')).toThrow("unknown kernel id 'bookwrom'; /x/matrix.yaml defines: host, old, new (or use 'all', 'ci')");
  });
  it('lsm: selinux adds the boot parameters Debian kernels need', () => {
    expect(kernelCmdlineExtra(m.kernels[2])).toBe('security=selinux selinux=1 quiet');
  });
});

describe("'build' entries (kernels built from source)", () => {
  it('take a tree (relative to the matrix file) and extra fragments', () => {
    const m = parseMatrix('kernels:\n  - {id: mine, source: build, tree: ../linux, config: extra.config}\n', F);
    expect(m.kernels[0]).toEqual({ id: 'mine', source: 'build', tree: '/linux', config: ['/x/extra.config'] });
  });
  it("take Debian's source package, bookworm by default", () => {
    const m = parseMatrix('kernels:\n  - {id: src, source: build, package: linux-source-6.1}\n  - {id: src2, source: build, package: linux-source-6.12, suite: trixie}\n', F);
    expect(m.kernels[0]).toEqual({ id: 'src', source: 'build', package: 'linux-source-6.1', suite: 'bookworm' });
    expect(m.kernels[1]).toMatchObject({ package: 'linux-source-6.12', suite: 'trixie' });
  });
  it('need exactly one of tree and package, and a source package name', () => {
    expect(err('kernels:\n  - {id: a, source: build}\n')).toContain("needs exactly one of 'tree:'");
    expect(err('kernels:\n  - {id: a, source: build, tree: /l, package: linux-source-6.1}\n')).toContain("needs exactly one of 'tree:'");
    expect(err('kernels:\n  - {id: a, source: build, package: linux-image-amd64}\n')).toContain("Debian's kernel source package");
    expect(err('kernels:\n  - {id: a, source: build, tree: /l, suite: trixie}\n')).toContain("'suite:' goes with 'package:'");
  });
});

describe('container entries (the userspace axis)', () => {
  it('kernels/userspace.yaml: host plus 3 userspaces under the default profile, unconfined, a custom profile and crun', () => {
    const m = loadMatrix(new URL('./userspace.yaml', import.meta.url).pathname);
    const c = m.kernels.filter((k) => k.source === 'container');
    expect(m.kernels[0]).toMatchObject({ id: 'host', source: 'host' });
    expect(c.filter((k) => k.seccomp === 'default' && k.runtime === 'runc').map((k) => k.userspace)).toEqual(['bullseye', 'bookworm', 'trixie']);
    expect(c.some((k) => k.seccomp === 'unconfined')).toBe(true);
    expect(c.some((k) => k.runtime === 'crun')).toBe(true);
    // The custom profile resolves next to the matrix file and is the committed deny-pidfd_getfd profile.
    const custom = c.find((k) => k.seccomp.endsWith('.json'))!;
    expect(custom.seccomp).toBe(new URL('./seccomp/deny-pidfd-getfd.json', import.meta.url).pathname);
  });
  it('defaults: Docker\'s default profile and runc', () => {
    expect(parseMatrix('kernels:\n  - {id: c, source: container, userspace: bookworm}\n', F).kernels[0])
      .toEqual({ id: 'c', source: 'container', userspace: 'bookworm', seccomp: 'default', runtime: 'runc' });
  });
  it('bad values name the fix', () => {
    expect(err('kernels:\n  - {id: c, source: container}\n')).toContain("source 'container' needs 'userspace:'");
    expect(err('kernels:\n  - {id: c, source: container, userspace: Bookworm}\n')).toContain('not a Debian suite name');
    expect(err('kernels:\n  - {id: c, source: container, userspace: bookworm, runtime: kata}\n')).toContain("runtime 'kata' is not one of: runc, crun");
    expect(err('kernels:\n  - {id: c, source: container, userspace: bookworm, seccomp: nope.json}\n')).toMatch(/neither 'default', 'unconfined' nor a readable profile file \(\/x\/nope.json\); paths are relative to this matrix file/);
    expect(err('kernels:\n  - {id: c, source: container, userspace: bookworm, append: quiet}\n')).toContain("append/lsm need a guest; a 'container' entry shares the running kernel");
  });
  it('a profile that is not JSON is refused before anything runs', () => {
    const bad = new URL('./userspace.yaml', import.meta.url).pathname; // YAML, not JSON
    expect(err(`kernels:\n  - {id: c, source: container, userspace: bookworm, seccomp: ${bad}}\n`)).toContain('is not valid JSON');
  });
});
