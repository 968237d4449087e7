// source: url — a .deb or tarball with boot/vmlinuz-* inside, checked against the sha256 its
// matrix entry gives before anything is unpacked; cached by that checksum.
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { urlCacheKey } from '../cache.js';
import { cacheOnce, cachedStatus, download } from '../cache-entry.js';
import { firstConfig, treeConfigCandidates } from '../config.js';
import type { KernelIdentity, KernelOrigin } from '../identity.js';
import { sha256File } from '../integrity.js';
import { normalizeTree, unpackArchive } from '../layout.js';
import { FetchError, MatrixError, type EntryCommon, type SourceKind } from './types.js';

export type UrlEntry = EntryCommon & { source: 'url'; url: string; sha256: string };

/** A url entry was checked against the sha256 its matrix entry gives: that file is its identity. */
function urlOrigin(e: UrlEntry): { identity: KernelIdentity; origin: KernelOrigin } {
  const name = basename(new URL(e.url).pathname) || e.url;
  return { identity: { kind: 'tarball', name, sha256: e.sha256, proven: true, why: `${name} checked against its sha256` }, origin: { kind: 'version' } };
}

export const url: SourceKind<UrlEntry> = {
  name: 'url',
  keys: ['url', 'sha256'],
  parse({ at, common, str }) {
    const u = str('url', true)!;
    if (!/^(https?|file):\/\//.test(u)) throw new MatrixError(`${at}: url '${u}' must be http://, https:// or file://`);
    const sha256 = str('sha256', true)!.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new MatrixError(`${at}: sha256 must be 64 hex digits (sha256sum of the file)`);
    return { ...common, source: 'url', url: u, sha256 };
  },
  bootsOn: () => ({ sut: 'guest' }),
  async fetch(e, { say, root }) {
    const key = urlCacheKey(e.sha256);
    const { meta, downloaded } = await cacheOnce(key, { root, say, id: e.id, description: `url ${e.url} sha256=${e.sha256}` }, async (tmp) => {
      const name = basename(new URL(e.url).pathname) || 'kernel.deb';
      const file = join(tmp, name);
      await download(e.url, file, (done, total) => say(`${e.id}: downloading ${name}: ${(done / 1e6).toFixed(1)}${total ? `/${(total / 1e6).toFixed(1)}` : ''} MB`));
      const got = await sha256File(file);
      if (got !== e.sha256) {
        throw new FetchError(`${e.id}: checksum mismatch for ${e.url}\n  expected sha256 ${e.sha256} (matrix file)\n  got      sha256 ${got}\n  the file changed or the matrix entry is wrong; nothing was cached`);
      }
      await unpackArchive(file, join(tmp, 'root'));
      const tree = await normalizeTree(join(tmp, 'root'), name);
      await rm(file);
      return tree;
    });
    return { id: e.id, source: 'url', ...meta, cacheKey: key, downloaded, ...urlOrigin(e) };
  },
  config: (_e, k) => (k.kimg ? firstConfig(treeConfigCandidates(k.kimg, k.release)) : null),
  describe: (e) => `url ${e.url}`,
  cacheStatus: (e, { root }) => cachedStatus(urlCacheKey(e.sha256), root),
};
