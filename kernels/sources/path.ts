// source: path — a kernel image on disk (a kernel CI artifact, a `kernels build --out` copy),
// with an optional modules dir. Not copied: a tree of symlinks in the cache, keyed by the image.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildAtomically, kernelsDir, lockCacheEntry } from '../cache.js';
import { META, readCached, relocate, type Meta } from '../cache-entry.js';
import { firstConfig, pathConfigCandidates } from '../config.js';
import type { KernelIdentity, KernelOrigin } from '../identity.js';
import type { BuildRecord } from '../build.js';
import { linkTree } from '../layout.js';
import { FetchError, type EntryCommon, type SourceKind } from './types.js';

export type PathEntry = EntryCommon & { source: 'path'; kernel: string; modules?: string };

/**
 * A path kernel built by `kernels build`: its build record (the cache's <dir>/build.json, or
 * <image>.build.json beside a --out copy) names where its source came from.
 */
export function pathOrigin(kernel: string): { identity: KernelIdentity; origin: KernelOrigin } {
  for (const f of [`${kernel}.build.json`, join(dirname(kernel), 'build.json'), join(dirname(dirname(kernel)), 'build.json')]) {
    if (!existsSync(f)) continue;
    try {
      const r = JSON.parse(readFileSync(f, 'utf8')) as BuildRecord;
      if (!r.kernelIdentity || (basename(r.kimg) !== basename(kernel) && !f.startsWith(kernel))) continue;
      const id = r.kernelIdentity;
      const git = id.commit && existsSync(join(r.tree, '.git'));
      return { identity: id, origin: git ? { kind: 'git', tree: r.tree, rev: id.commit! } : { kind: 'version' } };
    } catch { /* not a build record: unproven below */ }
  }
  return { identity: { kind: 'unproven', proven: false, why: 'a kernel image given by path, with no build record (build.json) beside it' }, origin: { kind: 'version' } };
}

export const path: SourceKind<PathEntry> = {
  name: 'path',
  keys: ['kernel', 'modules'],
  parse({ common, str, abs }) {
    const kernel = abs(str('kernel', true)!);
    const modules = str('modules', false);
    return { ...common, source: 'path', kernel, ...(modules ? { modules: abs(modules) } : {}) };
  },
  bootsOn: () => ({ sut: 'guest' }),
  async fetch(e, { root }) {
    // No copy: a tree of symlinks keyed by the image's identity, rebuilt when the build changes.
    if (!existsSync(e.kernel)) throw new FetchError(`${e.id}: kernel image ${e.kernel} does not exist; fix 'kernel:' in the matrix file`);
    const st = statSync(e.kernel);
    const key = `path-${createHash('sha256').update(`${e.kernel}\0${st.size}\0${st.mtimeMs}\0${e.modules ?? ''}`).digest('hex').slice(0, 16)}`;
    const description = `path ${e.kernel}${e.modules ? ` modules ${e.modules}` : ''}`;
    const known = pathOrigin(e.kernel);
    const cached = await readCached(key, root);
    if (cached) return { id: e.id, source: 'path', ...cached, cacheKey: key, downloaded: false, ...known };
    // Another run may be building this very entry: wait for it, then take what it cached.
    const lock = await lockCacheEntry(key, root);
    try {
      const built = await readCached(key, root);
      if (built) return { id: e.id, source: 'path', ...built, cacheKey: key, downloaded: false, ...known };
      const dest = join(kernelsDir(root), key);
      let meta!: Meta;
      await buildAtomically(dest, async (tmp) => {
        let tree;
        try {
          tree = await linkTree(join(tmp, 'root'), e.kernel, e.modules);
        } catch (err) {
          throw new FetchError(`${e.id}: ${(err as Error).message}; fix the entry in the matrix file`);
        }
        meta = relocate(tree, tmp, dest, description);
        await writeFile(join(tmp, META), JSON.stringify(meta, null, 2) + '\n');
      });
      return { id: e.id, source: 'path', ...meta, cacheKey: key, downloaded: false, ...known };
    } finally {
      await lock.release();
    }
  },
  config: (e, k) => firstConfig(pathConfigCandidates(e.kernel, k.release)),
  describe: (e) => `path ${e.kernel}${e.modules ? ` + ${e.modules}` : ''}`,
  cacheStatus: async () => '-',
};
