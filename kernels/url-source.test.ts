// The `url` source against a local HTTP server: a good sha256 caches the kernel (and a second
// fetch downloads nothing), a bad one fails naming both digests and caches nothing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchKernel, FetchError } from './fetch.js';
import { bzImageRelease } from './layout.js';
import type { KernelEntry } from './matrix.js';
import { fakeBzImage } from '../vm/fixtures/fake-bzimage.js';

const RELEASE = '6.9.0-fake';

/** Just enough of an x86 bzImage boot header for the release to be read from it. */

let work: string;
let server: Server;
let base: string;
const hits: string[] = [];
const files: Record<string, Buffer> = {};
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-url-'));
  // A tarball laid out like a kernel build's install: boot/ + lib/modules/<release>/
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'boot'), { recursive: true });
  mkdirSync(join(tree, 'lib/modules', RELEASE, 'kernel'), { recursive: true });
  writeFileSync(join(tree, 'boot', `vmlinuz-${RELEASE}`), fakeBzImage(RELEASE, '(builder@ci) #1 SMP PREEMPT_DYNAMIC'));
  execFileSync('tar', ['-czf', join(work, 'k.tar.gz'), '-C', tree, 'boot', 'lib']);
  files['/k.tar.gz'] = readFileSync(join(work, 'k.tar.gz'));
  // A .deb with the image at the top as 'bzImage' (not in boot/): layout must still find it.
  const deb = join(work, 'debroot');
  mkdirSync(join(deb, 'DEBIAN'), { recursive: true });
  mkdirSync(join(deb, 'usr/lib/modules', '6.8.0-deb', 'kernel'), { recursive: true });
  writeFileSync(join(deb, 'DEBIAN/control'), 'Package: linux-image-fake\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: fake\n');
  writeFileSync(join(deb, 'bzImage'), fakeBzImage('6.8.0-deb', '(builder@ci) #1 SMP PREEMPT_DYNAMIC'));
  execFileSync('dpkg-deb', ['--build', '--root-owner-group', deb, join(work, 'k.deb')], { stdio: 'ignore' });
  files['/k.deb'] = readFileSync(join(work, 'k.deb'));
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = files[req.url ?? ''];
    if (!body) return void res.writeHead(404).end('no');
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('url kernel source (local HTTP server)', () => {
  it('reads the release from a bzImage header', () => {
    writeFileSync(join(work, 'img'), fakeBzImage('7.0.1-x', '(builder@ci) #1 SMP PREEMPT_DYNAMIC'));
    expect(bzImageRelease(join(work, 'img'))).toBe('7.0.1-x');
    writeFileSync(join(work, 'notimg'), 'hello');
    expect(bzImageRelease(join(work, 'notimg'))).toBeNull();
  });

  it('good sha256: unpacks into the cache, modules.dep generated; a second fetch downloads nothing', async () => {
    const cache = join(work, 'cache1');
    const e: KernelEntry = { id: 'tgz', source: 'url', url: `${base}/k.tar.gz`, sha256: sha(files['/k.tar.gz']) };
    const k = await fetchKernel(e, { cache });
    expect(k).toMatchObject({ release: RELEASE, downloaded: true, cacheKey: `url-${e.sha256}` });
    expect(k.kimg).toBe(join(cache, 'kernels', `url-${e.sha256}`, 'root/boot', `vmlinuz-${RELEASE}`));
    expect(existsSync(join(k.modulesDir!, 'modules.dep'))).toBe(true);
    const before = hits.length;
    const again = await fetchKernel(e, { cache });
    expect(again).toMatchObject({ downloaded: false, kimg: k.kimg });
    expect(hits.length).toBe(before);
  });

  it('a .deb with the image outside boot/ and modules only under /usr/lib', async () => {
    const cache = join(work, 'cache2');
    const k = await fetchKernel({ id: 'deb', source: 'url', url: `${base}/k.deb`, sha256: sha(files['/k.deb']) }, { cache });
    expect(k.release).toBe('6.8.0-deb');
    expect(k.kimg).toMatch(/root\/boot\/vmlinuz-6\.8\.0-deb$/);
    expect(k.modulesDir).toMatch(/root\/lib\/modules\/6\.8\.0-deb$/); // lib -> usr/lib link
  });

  it('bad sha256: fails with both digests and leaves nothing in the cache', async () => {
    const cache = join(work, 'cache3');
    const wrong = '0'.repeat(64);
    const p = fetchKernel({ id: 'bad', source: 'url', url: `${base}/k.tar.gz`, sha256: wrong }, { cache });
    await expect(p).rejects.toThrow(FetchError);
    await expect(p).rejects.toThrow(new RegExp(`checksum mismatch.*\\n.*expected sha256 ${wrong}.*\\n.*got +sha256 ${sha(files['/k.tar.gz'])}`));
    expect(readdirSync(join(cache, 'kernels'))).toEqual([]);
  });

  it('a missing file is a clear HTTP error', async () => {
    const p = fetchKernel({ id: 'gone', source: 'url', url: `${base}/nope.deb`, sha256: '1'.repeat(64) }, { cache: join(work, 'cache4') });
    await expect(p).rejects.toThrow(/cannot download .*\/nope\.deb: HTTP 404/);
  });

  it('path source: links a build without copying it', async () => {
    const cache = join(work, 'cache5');
    const k = await fetchKernel({ id: 'p', source: 'path', kernel: join(work, 'tree/boot', `vmlinuz-${RELEASE}`), modules: join(work, 'tree/lib/modules', RELEASE) }, { cache });
    expect(k).toMatchObject({ release: RELEASE, source: 'path' });
    await expect(fetchKernel({ id: 'q', source: 'path', kernel: join(work, 'missing') }, { cache })).rejects.toThrow(/q: kernel image .*missing does not exist; fix 'kernel:'/);
  });
});
