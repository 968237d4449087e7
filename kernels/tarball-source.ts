// A kernel source tarball (linux-5.4.286.tar.xz from kernel.org, checked against its signed
// sha256sums) given to `kernels build`: unpacked once into the cache, keyed by its sha256, and
// built with the tarball as the tree's proven identity (name and sha256).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { buildAtomically, cacheRoot } from './cache.js';
import { BuildSetupError } from './build.js';
import { sourcesDir } from './debian-source.js';
import { sha256File } from './integrity.js';
import { unpackArchive } from './layout.js';
import type { KnownSource } from './identity.js';
import type { SourceIdentity } from './source-identity.js';

export const TARBALL = /\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.zst|tar\.bz2)$/;

export interface TarballTree { tree: string; identity: SourceIdentity; known: KnownSource; unpacked: boolean }

export async function unpackSourceTarball(file: string, say: (m: string) => void, root = cacheRoot()): Promise<TarballTree> {
  const name = basename(file);
  const sha256 = await sha256File(file);
  const dest = join(sourcesDir(root), `tarball-${sha256.slice(0, 16)}`);
  const meta = join(dest, 'source.json');
  const result = (tree: string, unpacked: boolean): TarballTree => ({
    tree, unpacked,
    identity: { id: `tarball:${sha256}`, description: `tarball ${name} sha256 ${sha256.slice(0, 12)}`, commit: null, dirty: false },
    known: { kind: 'tarball', name, sha256 },
  });
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { tree: string };
    if (existsSync(join(dest, m.tree, 'Makefile'))) return result(join(dest, m.tree), false);
  }
  say(`unpacking ${name} (sha256 ${sha256.slice(0, 12)}) into ${dest}`);
  let top = '';
  await buildAtomically(dest, async (tmp) => {
    await unpackArchive(file, tmp);
    top = readdirSync(tmp).find((d) => existsSync(join(tmp, d, 'Makefile')) && existsSync(join(tmp, d, 'scripts/kconfig'))) ?? '';
    if (!top) throw new BuildSetupError(`${name} did not unpack to a kernel source tree (no top directory with Makefile and scripts/kconfig/)`);
    await writeFile(join(tmp, 'source.json'), JSON.stringify({ name, sha256, tree: top }, null, 2) + '\n');
  });
  return result(join(dest, top), true);
}
