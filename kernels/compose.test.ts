import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeMatrices, matrixYaml } from './compose.js';
import { kernelCmdlineExtra } from './matrix.js';
import { defaultMatrixFile, loadMatrix, MatrixError, parseMatrix } from './matrix.js';

describe('kernels compose', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-compose-'));
  const vanilla = join(dir, 'shared', 'vanilla.yaml');
  writeFileSync(join(dir, 'v.yaml'), 'kernels:\n  - id: vanilla-5-4\n    source: path\n    kernel: 5.4.286/bzImage\n');

  it('keeps the chosen ids of the project matrix and every entry of the added files, with absolute kernel paths', () => {
    const m = composeMatrices([
      { matrix: loadMatrix(defaultMatrixFile()), ids: 'host,bullseye' },
      { matrix: loadMatrix(join(dir, 'v.yaml')) },
    ], join(dir, 'out.yaml'));
    expect(m.kernels.map((k) => k.id)).toEqual(['host', 'bullseye', 'vanilla-5-4']);
    const text = matrixYaml(m, [defaultMatrixFile(), join(dir, 'v.yaml')]);
    // The composed file reads back the same from anywhere (absolute paths).
    const back = parseMatrix(text, '/elsewhere/boundary.yaml');
    expect(back.kernels).toEqual(m.kernels);
    expect(back.kernels[2]).toMatchObject({ source: 'path', kernel: join(dir, '5.4.286/bzImage') });
    expect(text).toMatch(/^# Composed by `pidfd-matrix kernels compose` from:/);
  });

  it('--selinux: each entry of the file as its SELinux variant, booted as bookworm-selinux is', () => {
    writeFileSync(join(dir, 's.yaml'), 'kernels:\n  - id: vanilla-5-3\n    source: path\n    kernel: 5.3.1/bzImage\n    append: nokaslr\n');
    const m = composeMatrices([
      { matrix: loadMatrix(defaultMatrixFile()), ids: 'bookworm-selinux' },
      { matrix: loadMatrix(join(dir, 's.yaml')), selinux: true },
    ], join(dir, 'sel.yaml'));
    expect(m.kernels.map((k) => k.id)).toEqual(['bookworm-selinux', 'vanilla-5-3-selinux']);
    const v = parseMatrix(matrixYaml(m, []), '/elsewhere/sel.yaml').kernels[1];
    expect(v).toMatchObject({ lsm: 'selinux', kernel: join(dir, '5.3.1/bzImage') });
    expect(kernelCmdlineExtra(v)).toBe('security=selinux selinux=1 nokaslr pidfd_matrix.selinux_policy=pidfs-unaware');
  });

  it('refuses an id that two files define, naming both', () => {
    writeFileSync(join(dir, 'dup.yaml'), 'kernels:\n  - id: bullseye\n    source: path\n    kernel: x/bzImage\n');
    expect(() => composeMatrices([
      { matrix: loadMatrix(defaultMatrixFile()), ids: 'bullseye' },
      { matrix: loadMatrix(join(dir, 'dup.yaml')) },
    ], 'out.yaml')).toThrow(/kernel id 'bullseye' is in .*matrix\.yaml and in .*dup\.yaml/);
  });

  it('a missing file is a MatrixError that names it', () => {
    expect(() => loadMatrix(vanilla)).toThrow(MatrixError);
    expect(() => loadMatrix(vanilla)).toThrow(/shared\/vanilla\.yaml: cannot read the kernel matrix/);
  });
});
