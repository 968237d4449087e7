// A damaged kernel cache is not trusted (issue 22.5): against a stand-in Debian archive (fake
// apt-get/apt-cache on PATH, a real .deb built with dpkg-deb), a cached kernel whose image or
// modules were truncated on disk is listed as DAMAGED and fetched again by the next run, instead
// of being booted into "the guest never started the command" forever.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedKernels, entryDamage, fetchKernel } from './fetch.js';
import { truncatedBzImage } from './integrity.js';
import type { KernelEntry } from './matrix.js';
import { repoPath } from '../suites/lib/paths.js';
import { fakeBzImage } from '../vm/fixtures/fake-bzimage.js';
import { installFakeApt, publishUpload } from './fixtures/fake-archive.js';

const ABI = '6.1.0-51-amd64';
const VERSION = '6.1.177-1';
let work: string;
const saved = { PATH: process.env.PATH };
const archive = () => join(work, 'archive');
const entry: KernelEntry = { id: 'bw', source: 'debian', suite: 'bookworm', package: 'linux-image-amd64' };
const image = () => fakeBzImage(ABI, '(debian-kernel@lists.debian.org) #1');

/** One upload: the metapackage and linux-image-<abi> with an image and a (tiny) modules dir. */
const publish = () => publishUpload(archive(), work, {
  abi: ABI, version: VERSION, modules: { 'modules.builtin': 'kernel/fs/pidfs.ko\n', 'kernel/fs/notes.txt': 'x'.repeat(4096) },
});

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-damaged-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  installFakeApt(bin, archive(), join(work, 'downloads'));
  process.env.PATH = `${bin}:${process.env.PATH}`;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
  publish();
});
afterAll(() => {
  process.env.PATH = saved.PATH;
  delete process.env.PIDFD_MATRIX_CACHE;
  rmSync(work, { recursive: true, force: true });
});

const downloads = () => readFileSync(join(work, 'downloads'), 'utf8').trim().split('\n').length;
const list = () => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'kernels', 'list', 'bw', '--offline', '--matrix', join(work, 'm.yaml')], { encoding: 'utf8', env: process.env });

describe('a damaged cached Debian kernel', () => {
  it('a truncated image: kernels list says DAMAGED naming the file, and the next fetch downloads it again', async () => {
    writeFileSync(join(work, 'm.yaml'), 'kernels:\n  - { id: bw, source: debian, suite: bookworm, package: linux-image-amd64 }\n');
    const k = await fetchKernel(entry);
    expect(k.downloaded).toBe(true);
    expect((await fetchKernel(entry)).downloaded).toBe(false);
    expect(downloads()).toBe(1);
    expect(list().stdout).toMatch(/^bw .* cached 6\.1\.0-51-amd64 \(6\.1\.177-1, bookworm\)$/m);

    truncateSync(k.kimg!, 700);
    const l = list();
    expect(l.status).toBe(0);
    expect(l.stdout).toContain(`cached 6.1.0-51-amd64 (6.1.177-1, bookworm) DAMAGED: ${k.kimg} has 700 bytes, ${image().length} were recorded; the next fetch or run fetches it again`);

    const said: string[] = [];
    const again = await fetchKernel(entry, { progress: (m) => said.push(m) });
    expect(said.join('\n')).toMatch(/bw: the cached debian-linux-image-6\.1\.0-51-amd64_6\.1\.177-1 is damaged \(.* has 700 bytes.*\); fetching it again/);
    expect(again).toMatchObject({ downloaded: true, kimg: k.kimg });
    expect(downloads()).toBe(2);
    expect(readFileSync(again.kimg!)).toEqual(image());
    expect(list().stdout).not.toMatch(/DAMAGED/);
  });

  it('a truncated module file is damage too (the modules manifest)', async () => {
    const k = await fetchKernel(entry);
    truncateSync(join(k.modulesDir!, 'kernel/fs/notes.txt'), 10);
    expect(await entryDamage((await cachedKernels())[0].meta)).toMatch(new RegExp(`^${k.modulesDir} changed: \\d+ files, \\d+ bytes \\(recorded: `));
    expect((await fetchKernel(entry)).downloaded).toBe(true);
    expect(await entryDamage((await cachedKernels())[0].meta)).toBeNull();
  });

  it('an entry cached before fingerprints were recorded is still checked against its boot header', async () => {
    const k = await fetchKernel(entry);
    const metaFile = join(work, 'cache/kernels', k.cacheKey!, 'kernel.json');
    const { integrity: _, ...old } = JSON.parse(readFileSync(metaFile, 'utf8'));
    writeFileSync(metaFile, JSON.stringify(old));
    expect(await entryDamage((await cachedKernels())[0].meta)).toBeNull();
    truncateSync(k.kimg!, 900);
    expect(truncatedBzImage(k.kimg!)).toBe(`${k.kimg} is truncated: 900 bytes, its boot header says at least 1024`);
    expect((await fetchKernel(entry)).downloaded).toBe(true);
  });
});
