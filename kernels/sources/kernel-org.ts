// source: kernel.org — a release tarball (linux-5.4.301.tar.xz) from cdn.kernel.org, checked
// against sha256sums.asc of its folder, which gpgv verifies with the Kernel.org checksum
// autosigner key pinned in kernels/keys/; then built like `kernels build TARBALL` (the shipped
// config plus `config:` fragments, cached by source identity). The verified tarball is kept in
// the cache, written whole or not at all.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildAtomically, lockCacheEntry } from '../cache.js';
import { download } from '../cache-entry.js';
import { BuildSetupError, buildKernel, describeBuild } from '../build.js';
import { firstConfig, treeConfigCandidates } from '../config.js';
import { sourcesDir } from '../debian-source.js';
import { sha256File } from '../integrity.js';
import { KERNEL_ORG_AUTOSIGNER_KEY } from '../keys/index.js';
import { checkPinnedKey, sha256Lines, verifySignature, type PinnedKey } from '../signed.js';
import { unpackSourceTarball, type TarballTree } from '../tarball-source.js';
import { configList } from './build.js';
import { megabytes, parseKeyOverride, parseMirror } from './signed-download.js';
import { BuildFailedError, FetchError, MatrixError, MirrorUnreachable, entryArch } from './types.js';
import type { EntryCommon, FetchContext, Progress, SourceKind } from './types.js';

export type KernelOrgEntry = EntryCommon & {
  source: 'kernel.org'; version: string; mirror?: string; key?: string; fingerprint?: string; config?: string[];
};

export const KERNEL_ORG_MIRROR = 'https://cdn.kernel.org/pub/linux/kernel';
const VERSION_RE = /^\d+\.\d+(\.\d+)?$/;

export const kernelOrg: SourceKind<KernelOrgEntry> = {
  name: 'kernel.org',
  keys: ['version', 'mirror', 'key', 'fingerprint', 'config'],
  parse(c) {
    const version = c.str('version', true)!.replace(/^v/, '');
    if (!VERSION_RE.test(version)) {
      throw new MatrixError(`${c.at}: version '${version}' is not a kernel.org release `
        + `(5.4.301, 6.16: a linux-X.Y[.Z].tar.xz under ${KERNEL_ORG_MIRROR}/vX.x/)`);
    }
    const list = configList(c.o.config);
    if (!list) {
      throw new MatrixError(`${c.at}: 'config' must be a fragment path or a list of them (merged after kernels/configs/pidfd-minimal.config and arch/<arch>.config)`);
    }
    const config = list.length ? { config: list.map(c.abs) } : {};
    return { ...c.common, source: 'kernel.org', version, ...parseMirror(c), ...parseKeyOverride(c), ...config };
  },
  bootsOn: () => ({ sut: 'guest' }),
  async fetch(e, c) {
    const src = await kernelOrgSource(e, c);
    // The entry's arch: (absent: x86_64) is what the kernel is built for, as kernels build --arch.
    const request = {
      tree: src.tree, fragments: e.config, identity: src.identity, known: src.known, label: e.id, cache: c.root, progress: c.say,
      arch: entryArch(e),
    };
    const b = await buildKernel(request)
      .catch((err: Error) => {
        throw err instanceof BuildSetupError ? new FetchError(`${e.id}: ${err.message}`) : err;
      });
    if (!b.ok) throw new BuildFailedError(e.id, b);
    return {
      id: e.id, source: 'kernel.org', kimg: b.kimg, release: b.release, modulesDir: null, description: describeBuild(b),
      cacheKey: `build-${b.key}`, downloaded: src.downloaded, configHash: b.configHash,
      build: { seconds: b.buildSeconds, cached: b.cached, key: b.key, log: b.log },
      ...(b.kernelIdentity ? { identity: b.kernelIdentity } : {}), origin: { kind: 'version' },
    };
  },
  config: (_e, k) => (k.kimg ? firstConfig(treeConfigCandidates(k.kimg, k.release)) : null),
  describe: (e) => `kernel.org linux-${e.version}.tar.xz (${mirrorOf(e)})${(e.config ?? []).map((f) => ` + ${f}`).join('')}`,
  async cacheStatus(e, { root }) {
    const rec = verifiedRecord(downloadDir(e, root));
    return rec ? `tarball verified (sha256 ${rec.sha256.slice(0, 12)}); built on first use, then cached` : '-';
  },
};

function mirrorOf(e: KernelOrgEntry): string {
  return (e.mirror ?? process.env.PIDFD_MATRIX_KERNEL_ORG_MIRROR ?? KERNEL_ORG_MIRROR).replace(/\/+$/, '');
}

function keyOf(e: KernelOrgEntry): PinnedKey {
  if (!e.key) return KERNEL_ORG_AUTOSIGNER_KEY;
  return { owner: `the key of ${e.key}`, fingerprint: e.fingerprint!, file: e.key, obtain: `fix 'key:' and 'fingerprint:' of ${e.id}` };
}

/** A tarball verified with a key of the entry's own is never taken for one verified with the pinned key. */
const downloadDir = (e: KernelOrgEntry, root: string) =>
  join(sourcesDir(root), `kernel.org-linux-${e.version}${e.fingerprint ? `-key-${e.fingerprint.slice(-16)}` : ''}`);

interface Verified { name: string; sha256: string; url: string; signedBy: string }

function verifiedRecord(dir: string): Verified | null {
  const f = join(dir, 'verified.json');
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Verified;
  } catch {
    return null;
  }
}

/**
 * The verified tarball (downloaded once: sha256sums.asc checked with gpgv, the tarball against
 * its line), unpacked into the cache's sources. A second run downloads nothing.
 */
export async function kernelOrgSource(e: KernelOrgEntry, { say, root }: FetchContext)
  : Promise<TarballTree & { tarball: string; downloaded: boolean }> {
  const name = `linux-${e.version}.tar.xz`;
  const dir = downloadDir(e, root);
  const tarball = join(dir, name);
  // Two runs of one version at once: one downloads, the other waits and takes it.
  const lock = await lockCacheEntry(basename(dir), root);
  const downloaded = await verifiedTarball(e, dir, name, say).finally(() => lock.release());
  const t = await unpackSourceTarball(tarball, (m) => say(`${e.id}: ${m}`), root);
  return { ...t, tarball, downloaded };
}

/** Downloads and verifies the tarball into dir unless a verified copy is there; true when it downloaded. */
async function verifiedTarball(e: KernelOrgEntry, dir: string, name: string, say: Progress): Promise<boolean> {
  const tarball = join(dir, name);
  const rec = verifiedRecord(dir);
  // What the signature vouched for, checked again before each use (a damaged copy is refused).
  if (rec && existsSync(tarball) && (await sha256File(tarball)) !== rec.sha256) {
    throw new FetchError(`${e.id}: the cached ${tarball} no longer has the sha256 its signed sha256sums.asc gave `
      + `(${rec.sha256}); delete ${dir} and fetch again`);
  }
  if (rec && existsSync(tarball)) return false;
  // Before any download: without the key nothing can be trusted.
  await checkPinnedKey(keyOf(e)).catch((err: Error) => { throw new FetchError(`${e.id}: ${err.message}`); });
  await rm(dir, { recursive: true, force: true }); // an incomplete copy (its tarball deleted by hand)
  const folder = `${mirrorOf(e)}/v${e.version.split('.')[0]}.x`;
  await mkdir(dirname(dir), { recursive: true });
  await buildAtomically(dir, async (tmp) => {
    const get = async (file: string) => {
      const url = `${folder}/${file}`;
      try {
        await download(url, join(tmp, file), (done, total) => say(`${e.id}: downloading ${file}: ${megabytes(done, total)}`));
      } catch (err) {
        const msg = (err as Error).message;
        // An HTTP answer means the mirror is there and lacks the file; anything else, no mirror.
        if (/HTTP \d/.test(msg)) {
          const fix = `is ${name} released (${folder}/)? Fix 'version:' or 'mirror:'`;
          throw new FetchError(`${e.id}: kernel.org ${e.version}: ${msg}\n  ${fix}; nothing was cached`);
        }
        const fix = `is the mirror reachable? Set 'mirror:' (or PIDFD_MATRIX_KERNEL_ORG_MIRROR) to one that is`;
        throw new MirrorUnreachable(`${e.id}: kernel.org ${e.version}: ${msg}\n  ${fix}; nothing was cached`);
      }
      return join(tmp, file);
    };
    const sums = await get('sha256sums.asc');
    const text = await verifySignature(keyOf(e), sums, null, `${e.id}: ${folder}/sha256sums.asc`);
    const expected = sha256Lines(text).get(name);
    if (!expected) {
      throw new FetchError(`${e.id}: the signed ${folder}/sha256sums.asc lists no ${name}; `
        + `is ${e.version} a release? Fix 'version:'; nothing was cached`);
    }
    say(`${e.id}: sha256sums.asc verified (${keyOf(e).fingerprint}); ${name} must have sha256 ${expected.slice(0, 12)}`);
    const file = await get(name);
    const got = await sha256File(file);
    if (got !== expected) {
      throw new FetchError(`${e.id}: checksum mismatch for ${folder}/${name}\n`
        + `  expected sha256 ${expected} (signed sha256sums.asc)\n  got      sha256 ${got}\n`
        + '  the download is damaged or was changed: nothing was cached. Try again, or use another mirror');
    }
    const v: Verified = { name, sha256: got, url: `${folder}/${name}`, signedBy: keyOf(e).fingerprint };
    await writeFile(join(tmp, 'verified.json'), JSON.stringify(v, null, 2) + '\n');
  });
  return true;
}
