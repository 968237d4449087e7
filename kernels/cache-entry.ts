// One kernel in the cache (<cache>/kernels/<key>/ with its kernel.json): read it, check it is
// whole, or fill it once under its lock, atomically. Every source kind that keeps a kernel in
// the cache goes through here, so none can leave a half-written entry behind.
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { copyFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { buildAtomically, cacheRoot, kernelsDir, lockCacheEntry } from './cache.js';
import { damage, fingerprint, truncatedBzImage, type Integrity } from './integrity.js';
import type { KernelTree } from './layout.js';
import { FetchError, type DebianPackage, type Progress } from './sources/types.js';

export interface Meta {
  release: string; kimg: string; modulesDir: string | null; description: string;
  /** Packaged kernels: the .debs unpacked, and what the matrix asked for ("bookworm linux-image-amd64=6.1.176-1"). */
  packages?: DebianPackage[]; requested?: string;
  /** What the unpack produced (kernels/integrity.ts), checked before each use. */
  integrity?: Integrity;
}
export const META = 'kernel.json';

export async function readCached(key: string, root: string): Promise<Meta | null> {
  const f = join(kernelsDir(root), key, META);
  if (!existsSync(f)) return null;
  try {
    const m = JSON.parse(readFileSync(f, 'utf8')) as Meta;
    return existsSync(m.kimg) ? m : null;
  } catch {
    return null;
  }
}

/** Why a cached entry cannot be booted as it is (its recorded fingerprint, or a truncated image); null: intact. */
export function entryDamage(m: Meta): Promise<string | null> {
  return m.integrity ? damage(m.integrity, m.kimg, m.modulesDir) : Promise.resolve(truncatedBzImage(m.kimg));
}

/** An entry that is there but unusable: moved out of the way (then deleted), so it can be fetched again. */
export async function discardEntry(dest: string): Promise<void> {
  if (!existsSync(dest)) return;
  const aside = join(dirname(dest), `.damaged-${basename(dest)}-${Date.now()}`);
  await rename(dest, aside);
  await rm(aside, { recursive: true, force: true });
}

/**
 * The cached entry `key`, when it is whole. A damaged one is said, and the caller (holding the
 * entry's lock) fetches it again.
 */
export async function intactCached(key: string, root: string, say: Progress, id: string): Promise<Meta | null> {
  const m = await readCached(key, root);
  if (!m) return null;
  const bad = await entryDamage(m);
  if (!bad) return m;
  say(`${id}: the cached ${key} is damaged (${bad}); fetching it again`);
  return null;
}

/** Paths recorded while building in tmp must point at the final (renamed) location. */
export function relocate(tree: { kimg: string; release: string; modulesDir: string | null }, tmp: string, dest: string, description: string): Meta {
  const fix = (p: string) => dest + p.slice(tmp.length);
  return { release: tree.release, kimg: fix(tree.kimg), modulesDir: tree.modulesDir ? fix(tree.modulesDir) : null, description };
}

/**
 * The intact entry `key`, or one filled by `fill` (which downloads and unpacks into tmp and
 * returns the kernel tree found there, with what it learned for kernel.json). Under the entry's lock, another run building the same
 * key is waited for; a damaged entry is fetched again; nothing is left on failure.
 */
export async function cacheOnce(
  key: string, o: { root: string; say: Progress; id: string; description: string; extra?: Partial<Meta> },
  fill: (tmp: string) => Promise<KernelTree & { meta?: Partial<Meta> }>,
): Promise<{ meta: Meta; downloaded: boolean }> {
  const cached = await readCached(key, o.root);
  if (cached && !(await entryDamage(cached))) return { meta: cached, downloaded: false };
  const lock = await lockCacheEntry(key, o.root);
  try {
    const built = await intactCached(key, o.root, o.say, o.id);
    if (built) return { meta: built, downloaded: false };
    const dest = join(kernelsDir(o.root), key);
    await discardEntry(dest);
    let meta!: Meta;
    await buildAtomically(dest, async (tmp) => {
      // What only the fill learns (the .debs it verified) comes back as tree.meta.
      const { meta: learned, ...tree } = await fill(tmp);
      meta = { ...relocate(tree, tmp, dest, o.description), ...o.extra, ...learned, integrity: await fingerprint(tree.kimg, tree.modulesDir) };
      await writeFile(join(tmp, META), JSON.stringify(meta, null, 2) + '\n');
    });
    o.say(`${o.id}: cached ${meta.release} in ${dest}`);
    return { meta, downloaded: true };
  } finally {
    await lock.release();
  }
}

/** What is in the kernel cache (for `kernels list` / `clean`). */
export async function cachedKernels(root = cacheRoot()): Promise<{ key: string; meta: Meta }[]> {
  const dir = kernelsDir(root);
  if (!existsSync(dir)) return [];
  const out: { key: string; meta: Meta }[] = [];
  for (const key of (await readdir(dir)).sort()) {
    if (key.startsWith('.')) continue;
    const m = await readCached(key, root);
    if (m) out.push({ key, meta: m });
  }
  return out;
}

/** "cached <release>", DAMAGED when it fails its check, or '-' when the cache does not have it. */
export async function cachedStatus(key: string, root: string): Promise<string> {
  const m = await readCached(key, root);
  return m ? `cached ${m.release}${damagedNote(await entryDamage(m))}` : '-';
}

/** A cached entry that fails its integrity check: the next run that needs it fetches it again. */
export function damagedNote(damaged: string | null): string {
  return damaged ? ` DAMAGED: ${damaged}; the next fetch or run fetches it again` : '';
}

/** http(s) via fetch (with progress at most every 2 s), file:// by copying. */
export async function download(url: string, file: string, progress: (done: number, total: number | null) => void): Promise<void> {
  if (url.startsWith('file://')) {
    await copyFile(fileURLToPath(url), file);
    return;
  }
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new FetchError(`cannot download ${url}: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`);
  }
  if (!res.ok || !res.body) throw new FetchError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length')) || null;
  let done = 0;
  let last = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      if (Date.now() - last > 2000) {
        last = Date.now();
        progress(done, total);
      }
      cb(null, chunk);
    },
  });
  await pipeline(res.body as unknown as NodeJS.ReadableStream, meter, createWriteStream(file));
  progress(done, total);
}
