// The mainline and kernel.org kinds against a local HTTP server laid out like
// kernel.ubuntu.com/mainline and cdn.kernel.org, with files signed by a throwaway key: a good
// download is verified and cached (a second fetch downloads nothing); a tampered .deb or
// tarball, a changed CHECKSUMS, a signature by another key and a missing file are each refused
// with an error naming what failed, and leave nothing in the cache.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchKernel, FetchError } from '../fetch.js';
import { loadMatrix, parseMatrix } from '../matrix.js';
import { cacheRoot } from '../cache.js';
import { bzImageRelease } from '../layout.js';
import { REPO_ROOT } from '../../suites/lib/paths.js';
import { kernelOrgSource, type KernelOrgEntry } from './kernel-org.js';
import { makeDeb, mainlineChecksums, serve, sha256, tempDir as makeTemp, TestKey } from '../fixtures/signed-mirror.js';
import type { Server } from 'node:http';
import { runCell, runMatrix } from '../../harness/run/run-matrix.js';
import { MirrorUnreachable } from '../fetch.js';

// A real guest boot of the fetched kernel: with PIDFD_MATRIX_GUEST_TESTS=1 (make test) or in CI.
const GUESTS = process.env.PIDFD_MATRIX_GUEST_TESTS === '1' || (!!process.env.CI && process.env.PIDFD_MATRIX_GUEST_TESTS !== '0');

/**
 * A real small kernel: the shared vanilla 6.9.0 build, else a Debian kernel from the cache with
 * the modules its guest boot needs (9p and virtio are modules there: an image without them cannot
 * mount its root, so the module tree has to travel in the modules .deb as it does on the mirror).
 */
function realKernel(): { image: string; modules?: string } | null {
  const shared = join(REPO_ROOT, '..', 'shared', 'kernels', '6.9.0', 'bzImage');
  if (existsSync(shared)) return { image: shared };
  const dir = join(cacheRoot(), 'kernels');
  for (const k of existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith('debian-') && d.includes('-amd64')) : []) {
    const boot = join(dir, k, 'root', 'boot');
    const img = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
    const modules = img ? join(dir, k, 'root', 'lib', 'modules', img.slice('vmlinuz-'.length)) : '';
    if (img && existsSync(join(modules, 'modules.dep'))) return { image: join(boot, img), modules };
  }
  return null;
}

/** The modules virtme-ng loads for a 9p root (its virtmods list), their dependencies, and the index files. */
function bootModules(dir: string, release: string): Record<string, Buffer> {
  const dep = new Map<string, string[]>();
  for (const line of readFileSync(join(dir, 'modules.dep'), 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod) dep.set(mod, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const wanted = /\/(9p|9pnet|9pnet_virtio|virtio_console|virtio_pci|virtio_mmio|virtio_rng|overlay|virtiofs)\.ko(\.xz|\.zst|\.gz)?$/;
  const take = new Set<string>();
  const add = (m: string) => { if (!take.has(m)) { take.add(m); for (const d of dep.get(m) ?? []) add(d); } };
  for (const m of dep.keys()) if (wanted.test(m)) add(m);
  const out: Record<string, Buffer> = {};
  for (const f of readdirSync(dir).filter((f) => f.startsWith('modules.'))) out[`lib/modules/${release}/${f}`] = readFileSync(join(dir, f));
  for (const m of take) out[`lib/modules/${release}/${m}`] = readFileSync(join(dir, m));
  return out;
}

const KERNEL = realKernel();
const V = '6.9';
const DEBV = '6.9.0-060900.202405122134';
const IMAGE = `linux-image-unsigned-6.9.0-060900-generic_${DEBV}_amd64.deb`;
const MODULES = `linux-modules-6.9.0-060900-generic_${DEBV}_amd64.deb`;
const KO_V = '5.4.301';
const TARBALL = `linux-${KO_V}.tar.xz`;

let work: string;
let key: TestKey;
let other: TestKey;
let base: string;
let hits: string[];
let server: Server;
let release: string;
const files = new Map<string, Buffer>();
/** Every temp dir (the cache roots of the cases) is removed after the file. */
const temps: string[] = [];
const tempDir = (prefix: string) => {
  const d = makeTemp(prefix);
  temps.push(d);
  return d;
};

/** One mainline folder under /<variant>/v6.9/amd64/, with its CHECKSUMS signed as given. */
function publishMainline(variant: string, debs: Record<string, Buffer>,
  o: { sums?: (s: string) => string; signer?: TestKey; drop?: string; served?: Record<string, Buffer> } = {}) {
  const sums = mainlineChecksums(debs);
  const signed = Buffer.from(sums);
  const dir = `/${variant}/v${V}/amd64`;
  files.set(`${dir}/CHECKSUMS`, Buffer.from(o.sums ? o.sums(sums) : sums));
  files.set(`${dir}/CHECKSUMS.gpg`, (o.signer ?? key).detach(signed));
  for (const [n, b] of Object.entries({ ...debs, ...o.served })) if (n !== o.drop) files.set(`${dir}/${n}`, b);
}

beforeAll(async () => {
  work = tempDir('pm-signed-');
  key = new TestKey(work, 'mirror');
  other = new TestKey(work, 'other');
  if (KERNEL) {
    release = bzImageRelease(KERNEL.image)!;
    const image = makeDeb(work, 'linux-image-unsigned-6.9.0-060900-generic', DEBV, { [`boot/vmlinuz-${release}`]: readFileSync(KERNEL.image) });
    const modules = makeDeb(work, 'linux-modules-6.9.0-060900-generic', DEBV, KERNEL.modules
      ? bootModules(KERNEL.modules, release)
      : { [`lib/modules/${release}/kernel/`]: '', [`lib/modules/${release}/modules.order`]: '' });
    const debs = { [IMAGE]: image, [MODULES]: modules, 'linux-headers-6.9.0-060900_6.9.0-060900.202405122134_all.deb': Buffer.from('headers') };
    publishMainline('good', debs);
    // The image .deb changed after CHECKSUMS was signed (a corrupt mirror).
    publishMainline('tampered', debs, { served: { [IMAGE]: Buffer.concat([image, Buffer.from('x')]) } });
    // CHECKSUMS edited to match a changed .deb, the old signature kept.
    publishMainline('badsig', debs, { sums: (s) => s.replace(sha256(image), sha256('evil')) });
    publishMainline('otherkey', debs, { signer: other });
    publishMainline('missing', debs, { drop: MODULES });
  }
  // kernel.org: a small tree with a real kernel tree's top (Makefile, scripts/kconfig).
  const tree = join(work, 'ko', `linux-${KO_V}`);
  execFileSync('mkdir', ['-p', join(tree, 'scripts/kconfig')]);
  execFileSync('sh', ['-c', `printf 'VERSION = 5\\nPATCHLEVEL = 4\\nSUBLEVEL = 301\\n' > ${tree}/Makefile`]);
  execFileSync('tar', ['-cJf', join(work, TARBALL), '-C', join(work, 'ko'), `linux-${KO_V}`]);
  const tar = readFileSync(join(work, TARBALL));
  const sums = (t: Buffer) => `${sha256('other')}  linux-5.4.300.tar.xz\n${sha256(t)}  ${TARBALL}\n`;
  files.set(`/good/v5.x/sha256sums.asc`, key.clearsign(sums(tar)));
  files.set(`/good/v5.x/${TARBALL}`, tar);
  files.set(`/tampered/v5.x/sha256sums.asc`, key.clearsign(sums(tar)));
  files.set(`/tampered/v5.x/${TARBALL}`, Buffer.concat([tar, Buffer.from('x')]));
  files.set(`/badsig/v5.x/sha256sums.asc`, Buffer.from(key.clearsign(sums(tar)).toString().replace(sha256(tar), sha256('evil'))));
  files.set(`/badsig/v5.x/${TARBALL}`, tar);
  files.set(`/otherkey/v5.x/sha256sums.asc`, other.clearsign(sums(tar)));
  files.set(`/otherkey/v5.x/${TARBALL}`, tar);
  files.set(`/missing/v5.x/sha256sums.asc`, key.clearsign(sums(tar)));
  ({ base, hits, server } = await serve(files));
}, 60_000);

afterAll(() => {
  server?.close();
  key?.close();
  other?.close();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** A matrix entry as a user writes it, parsed by the real matrix parser. */
function entry(yaml: string) {
  return parseMatrix(`kernels:\n${yaml}`, join(work, 'matrix.yaml')).kernels[0];
}
const mainlineEntry = (variant: string, extra = `\n    key: ${key.publicKey}\n    fingerprint: ${key.fingerprint}`) =>
  entry(`  - id: ml\n    source: mainline\n    version: ${V}\n    mirror: ${base}/${variant}${extra}\n`);
const koEntry = (variant: string) => entry(`  - id: ko\n    source: kernel.org\n    version: ${KO_V}\n    mirror: ${base}/${variant}\n    key: ${key.publicKey}\n    fingerprint: ${key.fingerprint}\n`) as KernelOrgEntry;

/** Everything in a cache root besides its lock files: what a failed fetch must not leave. */
function cached(root: string): string[] {
  return ['kernels', 'sources'].flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).map((f) => `${d}/${f}`) : []));
}

async function refused(root: string, p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: Error) => e);
  expect(err).toBeInstanceOf(FetchError);
  expect(cached(root)).toEqual([]);
  return err!.message;
}

describe.skipIf(!KERNEL)(`mainline kind (a real kernel, ${KERNEL?.image ?? 'none found'}, packaged as Ubuntu's mainline .debs)`, () => {
  it('verifies CHECKSUMS.gpg and each .deb, unpacks into the cache, records the .debs; a second fetch downloads nothing', async () => {
    const root = tempDir('pm-ml-cache-');
    const k = await fetchKernel(mainlineEntry('good'), { cache: root, progress: () => {} });
    expect(k.downloaded).toBe(true);
    expect(k.release).toBe(release);
    expect(sha256(readFileSync(k.kimg!))).toBe(sha256(readFileSync(KERNEL!.image)));
    expect(k.packages?.map((p) => [p.package, p.version, p.sha256])).toEqual([
      ['linux-image-unsigned-6.9.0-060900-generic', DEBV, sha256(files.get(`/good/v${V}/amd64/${IMAGE}`)!)],
      ['linux-modules-6.9.0-060900-generic', DEBV, sha256(files.get(`/good/v${V}/amd64/${MODULES}`)!)],
    ]);
    expect(k.identity).toMatchObject({ kind: 'debian', package: 'linux-image-unsigned-6.9.0-060900-generic', proven: true });
    expect(k.identity?.why).toContain(key.fingerprint);
    // The headers .deb is never fetched.
    expect(hits.filter((h) => h.startsWith('/good/')).sort()).toEqual([`/good/v${V}/amd64/CHECKSUMS`, `/good/v${V}/amd64/CHECKSUMS.gpg`, `/good/v${V}/amd64/${IMAGE}`, `/good/v${V}/amd64/${MODULES}`]);
    const before = hits.length;
    const again = await fetchKernel(mainlineEntry('good'), { cache: root });
    expect(again.downloaded).toBe(false);
    expect(again.kimg).toBe(k.kimg);
    expect(again.packages).toEqual(k.packages);
    expect(hits.length).toBe(before);
  });

  it('a .deb that does not match the signed CHECKSUMS: refused, naming the file and both digests; nothing cached', async () => {
    const root = tempDir('pm-ml-cache-');
    const msg = await refused(root, fetchKernel(mainlineEntry('tampered'), { cache: root }));
    expect(msg).toMatch(new RegExp(`checksum mismatch for .*/tampered/v${V}/amd64/${IMAGE.replace(/[.+]/g, '\\$&')}`));
    expect(msg).toMatch(/expected sha256 [0-9a-f]{64} \(signed CHECKSUMS\)\n {2}got {6}sha256 [0-9a-f]{64}/);
    expect(msg).toContain('nothing was cached');
  });

  it('a CHECKSUMS changed after signing, or signed by another key: refused before any .deb is fetched; nothing cached', async () => {
    for (const variant of ['badsig', 'otherkey']) {
      const root = tempDir('pm-ml-cache-');
      const msg = await refused(root, fetchKernel(mainlineEntry(variant), { cache: root }));
      expect(msg).toContain(`${variant}/v${V}/amd64/CHECKSUMS: the signature does not verify with the key of ${key.publicKey} (${key.fingerprint})`);
      expect(msg).toMatch(variant === 'badsig' ? /BADSIG/ : /NO_PUBKEY|ERRSIG/);
      expect(hits.some((h) => h.startsWith(`/${variant}/`) && h.endsWith('.deb'))).toBe(false);
    }
  });

  it('a missing .deb: refused naming the URL and the HTTP status; nothing cached', async () => {
    const root = tempDir('pm-ml-cache-');
    const msg = await refused(root, fetchKernel(mainlineEntry('missing'), { cache: root }));
    expect(msg).toContain(`/missing/v${V}/amd64/${MODULES}: HTTP 404`);
    expect(msg).toContain("Fix 'version:' or 'mirror:'");
    // No server at all: the mirror is named as what to fix.
    const root2 = tempDir('pm-ml-cache-');
    const dead = entry(`  - id: ml\n    source: mainline\n    version: ${V}\n    mirror: http://127.0.0.1:9\n    key: ${key.publicKey}\n    fingerprint: ${key.fingerprint}\n`);
    expect(await refused(root2, fetchKernel(dead, { cache: root2 }))).toMatch(/is the mirror reachable\? Set 'mirror:'/);
  });

  it.skipIf(!GUESTS)('the fetched mainline kernel boots under virtme-ng and runs pidfd_open (a real TCG guest)', async () => {
    const root = tempDir('pm-ml-cache-');
    const e = mainlineEntry('good');
    // Fetched into this test's cache, then booted as a matrix cell (runCell, as bisect does).
    const kernel = await fetchKernel(e, { cache: root });
    const o = { kernels: [e], outDir: join(work, 'boot'), jobs: 1, timeoutSec: 600, accel: 'tcg' as const, tests: ['pidfd_open'], command: 'signed-kinds.test' };
    const { cell } = await runCell(e, kernel, { accel: 'tcg', reason: 'requested' }, o);
    expect(cell.error).toBeNull();
    expect(cell.mode).toBe('guest');
    expect(cell.facts?.release).toBe(release);
    expect(cell.provenance.kernelPackages?.map((p) => p.package)).toEqual(['linux-image-unsigned-6.9.0-060900-generic', 'linux-modules-6.9.0-060900-generic']);
    const ran = cell.cases.filter((c) => c.id.startsWith('pidfd_open/'));
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.filter((c) => c.status === 'fail' || c.status === 'error')).toEqual([]);
  }, 900_000);

  it("without 'key:', the pinned Kernel PPA key: its file is checked for that fingerprint before anything is trusted", async () => {
    const root = tempDir('pm-ml-cache-');
    const before = hits.length;
    const msg = await refused(root, fetchKernel(mainlineEntry('good', ''), { cache: root }));
    expect(hits.length).toBe(before); // refused before any download
    // The repository carries the fingerprint; the key file is added by the command the error names.
    expect(msg).toMatch(/60AA7B6F30434AE68E569963E50C6A0917C622B0/);
    expect(msg).toMatch(/kernels\/keys\/ubuntu-kernel-ppa\.asc/);
  });
});

describe('kernel.org kind: the tarball and its signed sha256sums.asc', () => {
  it('verifies sha256sums.asc, checks the tarball, keeps it in the cache and unpacks it; a second run downloads nothing', async () => {
    const root = tempDir('pm-ko-cache-');
    const say: string[] = [];
    const src = await kernelOrgSource(koEntry('good'), { say: (m) => say.push(m), root, refresh: false });
    expect(src.downloaded).toBe(true);
    expect(existsSync(join(src.tree, 'Makefile'))).toBe(true);
    expect(src.known).toEqual({ kind: 'tarball', name: TARBALL, sha256: sha256(files.get(`/good/v5.x/${TARBALL}`)!) });
    expect(say.join('\n')).toContain(`sha256sums.asc verified (${key.fingerprint})`);
    const before = hits.length;
    const again = await kernelOrgSource(koEntry('good'), { say: () => {}, root, refresh: false });
    expect(again.downloaded).toBe(false);
    expect(again.tree).toBe(src.tree);
    expect(hits.length).toBe(before);
  });

  it('a tampered tarball, a changed or foreign-signed sha256sums.asc, a missing tarball: each refused, nothing cached', async () => {
    const cases: [string, RegExp][] = [
      ['tampered', /checksum mismatch for .*\/tampered\/v5\.x\/linux-5\.4\.301\.tar\.xz\n {2}expected sha256 [0-9a-f]{64} \(signed sha256sums\.asc\)/],
      ['badsig', /badsig\/v5\.x\/sha256sums\.asc: the signature does not verify with .*BADSIG/s],
      ['otherkey', /otherkey\/v5\.x\/sha256sums\.asc: the signature does not verify with .*(NO_PUBKEY|ERRSIG)/s],
      ['missing', /\/missing\/v5\.x\/linux-5\.4\.301\.tar\.xz: HTTP 404.*is linux-5\.4\.301\.tar\.xz released/s],
    ];
    for (const [variant, want] of cases) {
      const root = tempDir('pm-ko-cache-');
      const msg = await refused(root, kernelOrgSource(koEntry(variant), { say: () => {}, root, refresh: false }));
      expect(msg).toMatch(want);
    }
  });
});

describe('matrix entries of the signed kinds', () => {
  it('an unreachable mirror (make boundary without network) is an error cell naming the option; the other kernels run', async () => {
    const root = tempDir('pm-dead-cache-');
    const dead = (id: string, kind: string, v: string) =>
      `  - id: ${id}\n    source: ${kind}\n    version: ${v}\n    mirror: http://127.0.0.1:9\n    key: ${key.publicKey}\n    fingerprint: ${key.fingerprint}\n`;
    const m = parseMatrix(`kernels:\n  - id: host\n    source: host\n${dead('ml', 'mainline', V)}${dead('ko', 'kernel.org', KO_V)}`, join(work, 'm.yaml'));
    // The error class the matrix keeps going on: no HTTP answer at all.
    expect(await fetchKernel(m.kernels[1], { cache: root }).catch((e: Error) => e)).toBeInstanceOf(MirrorUnreachable);
    // The real cache (vng is there): the entries' cache keys carry this test's fresh key.
    const say: string[] = [];
    const run = await runMatrix({
      kernels: m.kernels, outDir: join(root, 'out'), jobs: 1, timeoutSec: 300, accel: 'tcg', tests: ['pidfd_open'],
      command: 'signed-kinds.test', progress: (l) => say.push(l),
    });
    const [host, ml, ko] = run.cells;
    expect(host.error).toBeNull();
    expect(host.cases.filter((c) => c.id.startsWith('pidfd_open/')).length).toBeGreaterThan(0);
    expect(ml.error?.reason).toMatch(/^not fetched: mainline v6\.9: cannot download http:\/\/127\.0\.0\.1:9\/v6\.9\/amd64\/CHECKSUMS/);
    expect(ml.error?.reason).toMatch(/Set 'mirror:' \(or PIDFD_MATRIX_MAINLINE_MIRROR\)/);
    expect(ko.error?.reason).toMatch(/^not fetched: kernel\.org 5\.4\.301: .*Set 'mirror:' \(or PIDFD_MATRIX_KERNEL_ORG_MIRROR\)/s);
    expect(ml.cases).toEqual([]);
    expect(say.join('\n')).toMatch(/ml +ERROR not fetched/);
    // Nothing half-written: no cache entry of this key's, and none in the fetch's own cache.
    expect(cached(cacheRoot()).filter((d) => d.includes(key.fingerprint.slice(-16)))).toEqual([]);
    expect(cached(root)).toEqual([]);
  }, 120_000);

  it('kernels/boundary-mainline.yaml (make boundary without ../shared) has the versions of the shared vanilla kernels', () => {
    const m = loadMatrix(join(REPO_ROOT, 'kernels/boundary-mainline.yaml'));
    expect(m.kernels.every((k) => k.source === 'mainline')).toBe(true);
    const versions = m.kernels.map((k) => (k as { version: string }).version.replace(/^(\d+\.\d+)$/, '$1.0'));
    const shared = join(REPO_ROOT, '..', 'shared', 'kernels', 'vanilla.yaml');
    if (existsSync(shared)) expect(versions).toEqual(loadMatrix(shared).kernels.map((k) => /(\d+\.\d+\.\d+)\//.exec((k as { kernel: string }).kernel)![1]));
    else expect(versions).toEqual(['5.1.15', '5.2.1', '5.3.1', '5.4.286', '5.6.4', '5.15.85', '6.9.0']);
  });

  it('version: 6.10 stays "6.10" (YAML would read the number 6.1); bad values name the fix', () => {
    expect(entry('  - id: a\n    source: mainline\n    version: 6.10\n')).toMatchObject({ version: '6.10' });
    expect(entry('  - id: a\n    source: kernel.org\n    version: 5.4.301\n')).toMatchObject({ version: '5.4.301' });
    const bad = (y: string) => (() => entry(y));
    expect(bad('  - id: a\n    source: mainline\n    version: six\n')).toThrow(/version 'six' is not a mainline build's version \(6\.16, 6\.16\.3, 6\.17-rc1/);
    expect(bad('  - id: a\n    source: kernel.org\n    version: 6.17-rc1\n')).toThrow(/is not a kernel\.org release/);
    expect(bad('  - id: a\n    source: mainline\n    version: 6.16\n    key: k.asc\n')).toThrow(/'key:' .* and 'fingerprint:' .* go together/);
    expect(bad('  - id: a\n    source: mainline\n    version: 6.16\n    mirror: ftp://x\n')).toThrow(/mirror 'ftp:\/\/x' must be an http/);
  });
});
