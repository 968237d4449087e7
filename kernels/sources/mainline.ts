// source: mainline — Ubuntu's build of an upstream tag from kernel.ubuntu.com/mainline/ (what
// `vng -r v6.16` boots), verified before anything is unpacked: CHECKSUMS.gpg with gpgv and the
// Kernel PPA key pinned in kernels/keys/, then each .deb's sha256 from that CHECKSUMS, then
// `dpkg -x` into the cache like a Debian kernel. Nothing is cached unless all of it checks out.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheOnce, cachedStatus, download } from '../cache-entry.js';
import { firstConfig, treeConfigCandidates } from '../config.js';
import type { KernelIdentity } from '../identity.js';
import { sha256File } from '../integrity.js';
import { UBUNTU_MAINLINE_KEY } from '../keys/index.js';
import { normalizeTree, unpackArchive } from '../layout.js';
import { checkPinnedKey, sha256Lines, verifySignature, type PinnedKey } from '../signed.js';
import { FetchError, MatrixError, MirrorUnreachable, type DebianPackage, type EntryCommon, type Progress, type SourceKind } from './types.js';
import { megabytes, parseKeyOverride, parseMirror } from './signed-download.js';

export type MainlineEntry = EntryCommon & {
  source: 'mainline'; version: string; mirror?: string; key?: string; fingerprint?: string;
};

export const MAINLINE_MIRROR = 'https://kernel.ubuntu.com/mainline';
/** The folder names kernel.ubuntu.com uses: v6.16, v6.16.3, v6.17-rc1. */
const VERSION_RE = /^\d+\.\d+(\.\d+)?(-rc\d+)?$/;
const ARCH = 'amd64';

export const mainline: SourceKind<MainlineEntry> = {
  name: 'mainline',
  keys: ['version', 'mirror', 'key', 'fingerprint'],
  parse(c) {
    // Only the amd64 .debs are fetched (their CHECKSUMS lines); an arm64 kernel: source: debian or build.
    if (c.common.arch) throw new MatrixError(`${c.at}: arch: ${c.common.arch} is not fetched from mainline builds yet (amd64 only); use source: debian or build`);
    const version = c.str('version', true)!.replace(/^v/, '');
    if (!VERSION_RE.test(version)) {
      throw new MatrixError(`${c.at}: version '${version}' is not a mainline build's version `
        + `(6.16, 6.16.3, 6.17-rc1: the folder names under ${MAINLINE_MIRROR}/)`);
    }
    return { ...c.common, source: 'mainline', version, ...parseMirror(c), ...parseKeyOverride(c) };
  },
  bootsOn: () => ({ sut: 'guest' }),
  async fetch(e, { say, root }) {
    const key = cacheKey(e);
    const base = `${mirrorOf(e)}/v${e.version}/${ARCH}`;
    const description = `mainline v${e.version} ${ARCH} from ${mirrorOf(e)}`;
    const { meta, downloaded } = await cacheOnce(key, { root, say, id: e.id, description }, async (tmp) => {
      const packages = await fetchVerified(e, base, tmp, say);
      const debs = packages.map((p) => `${p.package}_${p.version}.deb`).join(' + ');
      const tree = await normalizeTree(join(tmp, 'root'), debs);
      return { ...tree, meta: { packages } };
    });
    const pkgs = meta.packages ?? [];
    return {
      id: e.id, source: 'mainline', ...meta, packages: pkgs, cacheKey: key, downloaded,
      identity: mainlineIdentity(e, pkgs), origin: { kind: 'version' },
    };
  },
  config: (_e, k) => (k.kimg ? firstConfig(treeConfigCandidates(k.kimg, k.release)) : null),
  describe: (e) => `mainline v${e.version} (${mirrorOf(e)})`,
  cacheStatus: (e, { root }) => cachedStatus(cacheKey(e), root),
};

/** A build verified with a key of the entry's own is never taken for one verified with the pinned key. */
function cacheKey(e: MainlineEntry): string {
  return `mainline-v${e.version}-${ARCH}${e.fingerprint ? `-key-${e.fingerprint.slice(-16)}` : ''}`;
}

function mirrorOf(e: MainlineEntry): string {
  return (e.mirror ?? process.env.PIDFD_MATRIX_MAINLINE_MIRROR ?? MAINLINE_MIRROR).replace(/\/+$/, '');
}

function keyOf(e: MainlineEntry): PinnedKey {
  if (!e.key) return UBUNTU_MAINLINE_KEY;
  return { owner: `the key of ${e.key}`, fingerprint: e.fingerprint!, file: e.key, obtain: `fix 'key:' and 'fingerprint:' of ${e.id}` };
}

/**
 * CHECKSUMS and its signature, then the image and modules .debs, each checked against the
 * signed CHECKSUMS, unpacked into tmp/root. Throws (and the caller drops tmp) on any mismatch.
 */
async function fetchVerified(e: MainlineEntry, base: string, tmp: string, say: Progress): Promise<DebianPackage[]> {
  // Before any download: without the key nothing can be trusted.
  await checkPinnedKey(keyOf(e)).catch((err: Error) => { throw new FetchError(`${e.id}: ${err.message}`); });
  const dl = join(tmp, 'download');
  await mkdir(dl, { recursive: true });
  const get = async (name: string) => {
    const file = join(dl, name);
    try {
      await download(`${base}/${name}`, file, (done, total) => say(`${e.id}: downloading ${name}: ${megabytes(done, total)}`));
    } catch (err) {
      const msg = (err as Error).message;
      // An HTTP answer means the mirror is there and lacks the file; anything else, no mirror.
      if (/HTTP \d/.test(msg)) {
        const fix = `is v${e.version} built for ${ARCH} (${base}/)? Fix 'version:' or 'mirror:'`;
        throw new FetchError(`${e.id}: mainline v${e.version}: ${msg}\n  ${fix}; nothing was cached`);
      }
      const fix = `is the mirror reachable? Set 'mirror:' (or PIDFD_MATRIX_MAINLINE_MIRROR) to one that is`;
      throw new MirrorUnreachable(`${e.id}: mainline v${e.version}: ${msg}\n  ${fix}; nothing was cached`);
    }
    return file;
  };
  const sums = await get('CHECKSUMS');
  const sig = await get('CHECKSUMS.gpg');
  const text = await verifySignature(keyOf(e), sums, sig, `${e.id}: ${base}/CHECKSUMS`);
  say(`${e.id}: CHECKSUMS of v${e.version} verified (${keyOf(e).fingerprint})`);
  const sha = sha256Lines(text);
  const want = [
    pick(sha, /^linux-image-(unsigned-)?\d.*-generic_.*_amd64\.deb$/, 'the linux-image(-unsigned)-*-generic .deb', e),
    pick(sha, /^linux-modules-\d.*-generic_.*_amd64\.deb$/, 'the linux-modules-*-generic .deb', e),
  ];
  const packages: DebianPackage[] = [];
  for (const [name, expected] of want) {
    const file = await get(name);
    const got = await sha256File(file);
    if (got !== expected) {
      throw new FetchError(`${e.id}: checksum mismatch for ${base}/${name}\n`
        + `  expected sha256 ${expected} (signed CHECKSUMS)\n  got      sha256 ${got}\n`
        + '  the download is damaged or was changed: nothing was cached. Try again, or use another mirror');
    }
    say(`${e.id}: unpacking ${name}`);
    await unpackArchive(file, join(tmp, 'root'));
    await rm(file);
    const [pkg, version] = name.split('_');
    packages.push({ package: pkg, version, sha256: got, suite: 'kernel.ubuntu.com/mainline' });
  }
  await rm(dl, { recursive: true, force: true });
  return packages;
}

function pick(sha: Map<string, string>, re: RegExp, what: string, e: MainlineEntry): [string, string] {
  const hit = [...sha.keys()].filter((n) => re.test(n) && !/lowlatency/.test(n)).sort()[0];
  if (!hit) {
    throw new FetchError(`${e.id}: the signed CHECKSUMS of mainline v${e.version} lists no ${what} for ${ARCH}; `
      + `the build may have failed for ${ARCH} (see its BUILD.LOG). Pick another version`);
  }
  return [hit, sha.get(hit)!];
}

/** A mainline build: the image .deb, its sha256 from the signed CHECKSUMS. */
function mainlineIdentity(e: MainlineEntry, packages: DebianPackage[]): KernelIdentity {
  const image = packages.find((p) => p.package.startsWith('linux-image')) ?? packages[0];
  return {
    kind: 'debian', package: image?.package, version: image?.version, sha256: image?.sha256 ?? null,
    suite: 'kernel.ubuntu.com/mainline', proven: !!image,
    why: `Ubuntu's mainline build of v${e.version}: the .deb's sha256 from CHECKSUMS signed by ${keyOf(e).fingerprint}`,
  };
}
