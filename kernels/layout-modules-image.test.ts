// A package whose only image is usr/lib/modules/<release>/vmlinuz (Debian's 7.x arm64 packages,
// a gzip'd Image with no x86 boot header): the release comes from its directory.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeTree } from './layout.js';

const root = mkdtempSync(join(tmpdir(), 'pidfd-matrix-layout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('normalizeTree', () => {
  it('names the release of usr/lib/modules/<release>/vmlinuz after its directory', async () => {
    const rel = '7.3.4+deb13-arm64';
    mkdirSync(join(root, 'usr/lib/modules', rel, 'kernel'), { recursive: true });
    const image = gzipSync(Buffer.from('not an x86 bzImage'));
    writeFileSync(join(root, 'usr/lib/modules', rel, 'vmlinuz'), image);
    const t = await normalizeTree(root, 'fake arm64 package');
    expect(t.release).toBe(rel);
    expect(t.kimg).toBe(join(root, 'boot', `vmlinuz-${rel}`));
    expect(readFileSync(t.kimg)).toEqual(image);
    expect(t.modulesDir).toBe(join(root, 'lib/modules', rel));
  });
  it('still refuses an image whose release nothing names', async () => {
    const other = mkdtempSync(join(tmpdir(), 'pidfd-matrix-layout-'));
    writeFileSync(join(other, 'vmlinuz'), 'junk');
    await expect(normalizeTree(other, 'junk')).rejects.toThrow(/not an x86 bzImage and its name has no release/);
    rmSync(other, { recursive: true, force: true });
  });
});
