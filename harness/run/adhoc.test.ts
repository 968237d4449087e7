// `matrix --kernel PATH` / `--kernel-tree DIR`: one entry with an id derived from the kernel
// (no dots), and rerun options that select it again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { adhocEntry, idPart } from './adhoc.js';
import { DEFAULT_TIMEOUT_SEC, rerunPrefix } from './run-matrix.js';
import { repoPath } from '../../suites/lib/paths.js';
import { KERNEL_ID_RE } from '../../kernels/matrix.js';
import { fakeBzImage } from '../../vm/fixtures/fake-bzimage.js';

const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-adhoc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


describe('ad hoc kernels', () => {
  it('--kernel: id from the bzImage release, rerun names the same image', () => {
    const k = join(work, 'bzImage');
    writeFileSync(k, fakeBzImage('6.13.0-rc1+', '(builder@ci) #1 SMP'));
    const { entry, selectArgs } = adhocEntry({ kernel: k });
    expect(entry).toMatchObject({ id: 'kernel-6-13-0-rc1', source: 'path', kernel: k });
    expect(entry.id).toMatch(KERNEL_ID_RE);
    const prefix = rerunPrefix(entry.id, { selectArgs: () => selectArgs, accel: 'tcg', outDir: repoPath('reports'), timeoutSec: DEFAULT_TIMEOUT_SEC });
    expect(prefix).toBe(`npx pidfd-matrix matrix --kernel ${k} --accel tcg`);
  });
  it('--kernel-tree: a build entry, id from the dir name, fragments and id in the rerun line', () => {
    const { entry, selectArgs } = adhocEntry({ tree: '/src/linux-6.1.y', config: ['/c/x.config'], id: 'mine' });
    expect(entry).toMatchObject({ id: 'mine', source: 'build', tree: '/src/linux-6.1.y', config: ['/c/x.config'] });
    expect(selectArgs).toEqual(['--kernel-tree', '/src/linux-6.1.y', '--config', '/c/x.config', '--id', 'mine']);
    expect(adhocEntry({ tree: '/src/linux-6.1.y' }).entry.id).toBe('tree-linux-6-1-y');
  });
  it('--kernel-version: a mainline entry (6.16) or a kernel.org one (kernel.org:5.4.301), checked as in a matrix file', () => {
    const m = adhocEntry({ version: '6.16' });
    expect(m.entry).toMatchObject({ id: 'mainline-6-16', source: 'mainline', version: '6.16' });
    expect(m.selectArgs).toEqual(['--kernel-version', '6.16']);
    const k = adhocEntry({ version: 'kernel.org:5.4.301', config: ['/c/x.config'] });
    expect(k.entry).toMatchObject({ id: 'kernel-org-5-4-301', source: 'kernel.org', version: '5.4.301', config: ['/c/x.config'] });
    expect(k.selectArgs).toEqual(['--kernel-version', 'kernel.org:5.4.301', '--config', '/c/x.config']);
    expect(() => adhocEntry({ version: 'latest' })).toThrow(/version 'latest' is not a mainline build's version/);
    expect(() => adhocEntry({ version: '6.16', config: ['/c/x.config'] })).toThrow(/--config goes with --kernel-tree or --kernel-version kernel\.org:V/);
  });
  it('refuses what it cannot boot, naming the fix', () => {
    expect(() => adhocEntry({})).toThrow(/--kernel PATH .*, --kernel-tree DIR .* or --kernel-version V/);
    expect(() => adhocEntry({ kernel: join(work, 'nope') })).toThrow(/does not exist/);
    writeFileSync(join(work, 'vmlinux'), 'ELF');
    expect(() => adhocEntry({ kernel: join(work, 'vmlinux') })).toThrow(/not an x86 bzImage/);
    expect(() => adhocEntry({ tree: '/l', id: 'v6.1' })).toThrow(/no dots/);
    expect(idPart('6.1.0-50-amd64')).toBe('6-1-0-50-amd64');
  });
});
