// source: debian — what Debian users run: the newest upload of a linux-image package across
// <suite>, <suite>-updates and <suite>-security, fetched with `apt-get download` through private,
// signature-checked sources lists (kernels/apt.ts) and unpacked with `dpkg -x`, no install.
// `version:` pins one upload, served from the cache once fetched even after Debian replaced it.
import { $ } from 'zx/core';
import { rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { cacheRoot, debianCacheKey, kernelsDir } from '../cache.js';
import { DebianRelease, imageDependency, pinnedDependency } from '../apt.js';
import { cacheOnce, cachedKernels, damagedNote, entryDamage, type Meta } from '../cache-entry.js';
import { firstConfig, treeConfigCandidates } from '../config.js';
import { findDebianChangelog } from '../debian-source.js';
import { debianIdentity, type KernelIdentity, type KernelOrigin } from '../identity.js';
import { normalizeTree, unpackArchive } from '../layout.js';
import { DEBIAN_ARCH, FetchError, MatrixError, entryArch, type DebianPackage, type EntryCommon, type FetchedKernel, type Progress, type SourceKind } from './types.js';

export type DebianEntry = EntryCommon & { source: 'debian'; suite: string; package: string; version?: string };

export const debian: SourceKind<DebianEntry> = {
  name: 'debian',
  keys: ['suite', 'package', 'version'],
  parse({ at, o, common, str }) {
    const suite = str('suite', true)!;
    const pkg = str('package', true)!;
    if (!/^[a-z0-9][a-z0-9.+-]*$/.test(suite)) throw new MatrixError(`${at}: suite '${suite}' is not a Debian suite name (bookworm, trixie, sid, ...)`);
    const debArch = DEBIAN_ARCH[entryArch(common)];
    if (!/^linux-image-[a-z0-9.+-]+$/.test(pkg)) throw new MatrixError(`${at}: package '${pkg}' should be a linux-image-* package, e.g. linux-image-${debArch}`);
    // Debian's kernel flavours end in their architecture: another one's package would not be in this arch's index.
    const other = Object.values(DEBIAN_ARCH).find((a) => a !== debArch && pkg.endsWith(`-${a}`));
    if (other) {
      throw new MatrixError(`${at}: package '${pkg}' is Debian's ${other} kernel, but the entry is ${entryArch(common)}: `
        + `use linux-image-${debArch}${debArch === 'amd64' ? ' (or add arch: arm64 and root:)' : ''}`);
    }
    // version: pins the exact upload (reproducible runs); without it, the suite's current one.
    const version = o.version === undefined ? undefined : String(o.version);
    if (version !== undefined && !/^[0-9][A-Za-z0-9.+~:-]*$/.test(version)) throw new MatrixError(`${at}: version '${version}' is not a Debian package version (e.g. 6.1.176-1, as 'kernels list' shows)`);
    return { ...common, source: 'debian', suite, package: pkg, ...(version ? { version } : {}) };
  },
  bootsOn: () => ({ sut: 'guest' }),
  fetch: (e, { say, root, refresh }) => fetchDebian(e, say, root, refresh),
  config: (_e, k) => (k.kimg ? firstConfig(treeConfigCandidates(k.kimg, k.release)) : null),
  describe: (e) => `debian ${e.suite} ${e.package}${e.version ? `=${e.version}` : ''}${e.arch ? ` (${DEBIAN_ARCH[e.arch]})` : ''}`,
  cacheStatus: (e, { offline, root }) => debianStatus(e, offline, root),
};

/** The entry's suite, -updates and -security, in the entry's Debian architecture (amd64 unless arch: says). */
function releaseOf(e: DebianEntry, root: string): DebianRelease {
  return new DebianRelease(e.suite, root, undefined, undefined, DEBIAN_ARCH[entryArch(e)]);
}

async function fetchDebian(e: DebianEntry, say: Progress, root: string, refresh: boolean): Promise<FetchedKernel> {
  // What Debian users run: the newest upload across <suite>, <suite>-updates and <suite>-security.
  const rel = releaseOf(e, root);
  if (await rel.update(refresh, (m) => say(`${e.id}: ${m}`))) say(`${e.id}: refreshed Debian ${rel.apts.map((a) => a.suite).join(', ')} package lists`);
  const requested = e.version ? `${e.package}=${e.version}` : e.package;
  const found = await rel.show(requested, debVersionGt);
  if (!found && e.version) return pinnedFromCache(e, rel, root, say);
  if (!found) throw new FetchError(`${e.id}: Debian ${e.suite} has no package '${e.package}'; fix 'package:' in the matrix file (e.g. linux-image-amd64)`);
  // The image and its parts come from the suite that carries the chosen upload.
  const { apt } = found;
  let info = found.info;
  // A metapackage (linux-image-amd64) points at the versioned image package, at one exact upload.
  const dep = imageDependency(info.depends);
  if (dep && !/^linux-image-\d/.test(e.package)) {
    const depVersion = pinnedDependency(info.depends, dep);
    const img = await apt.show(depVersion ? `${dep}=${depVersion}` : dep);
    if (!img) throw new FetchError(`${e.id}: ${e.package} (Debian ${apt.suite}) depends on ${dep}, which the suite does not have`);
    info = img;
  }
  // Newer kernels (sid 7.x) split the image package into linux-binary-* (vmlinuz) and
  // linux-modules-* dependencies pinned to the same upload: fetch those parts too.
  const parts = [info];
  for (const name of kernelParts(info.depends)) {
    const v = pinnedDependency(info.depends, name);
    const part = await apt.show(v ? `${name}=${v}` : name);
    if (!part) throw new FetchError(`${e.id}: ${info.package} (Debian ${apt.suite}) needs ${name}, which the suite does not have`);
    parts.push(part);
  }
  // What the results record: each .deb's exact version, the sha256 from the signed index, its suite.
  const packages: DebianPackage[] = parts.map((p) => ({ package: p.package, version: p.version, sha256: p.sha256, suite: apt.suite }));
  const key = debianCacheKey(info.package, info.version);
  const description = debianDescription(e.suite, info.package, info.version, apt.suite);
  const { meta, downloaded } = await cacheOnce(key, { root, say, id: e.id, description, extra: { packages, requested: `${e.suite} ${requested}` } }, async (tmp) => {
    const mb = parts.reduce((n, p) => n + p.size, 0) / 1e6;
    say(`${e.id}: downloading ${parts.map((p) => p.package).join(' + ')} ${info.version} (${mb.toFixed(0)} MB) from Debian ${apt.suite}`);
    for (const part of parts) {
      const deb = await apt.download(part.package, part.version, tmp);
      say(`${e.id}: unpacking ${basename(deb)}`);
      await unpackArchive(deb, join(tmp, 'root'));
      await rm(deb);
    }
    return normalizeTree(join(tmp, 'root'), parts.map((p) => `${p.package}_${p.version}.deb`).join(' + '));
  });
  return { id: e.id, source: 'debian', ...meta, packages: meta.packages ?? packages, cacheKey: key, downloaded, ...debianOrigin(meta, packages, apt.suite) };
}

/** "debian bookworm linux-image-6.1.0-50-amd64=6.1.192-1 (bookworm-security)": the entry's suite, the upload, and its suite when another. */
function debianDescription(suite: string, pkg: string, version: string, from: string): string {
  return `debian ${suite} ${pkg}=${version}${from !== suite ? ` (${from})` : ''}`;
}

/**
 * A pinned upload the suite no longer carries (Debian keeps only the current one): served from
 * the cache when an earlier fetch kept it, else an error that says what the suite has now.
 */
async function pinnedFromCache(e: DebianEntry, rel: DebianRelease, root: string, say: Progress): Promise<FetchedKernel> {
  const want = `${e.suite} ${e.package}=${e.version}`;
  const hit = (await cachedKernels(root)).find((c) => c.meta.requested === want || c.key === debianCacheKey(e.package, e.version!));
  const bad = hit && (await entryDamage(hit.meta));
  if (hit && bad) {
    throw new FetchError(`${e.id}: the cached copy of ${e.package}=${e.version} is damaged (${bad}), and Debian ${e.suite} no longer has it `
      + `to fetch again. Delete ${join(kernelsDir(root), hit.key)}, then pin the current version or give the old .deb as a 'url:' entry with its sha256`);
  }
  if (hit) {
    say(`${e.id}: Debian ${e.suite} no longer has ${e.package}=${e.version}; using the cached copy (${hit.key})`);
    return { id: e.id, source: 'debian', ...hit.meta, packages: hit.meta.packages ?? [], cacheKey: hit.key, downloaded: false, ...debianOrigin(hit.meta, hit.meta.packages ?? [], e.suite) };
  }
  const now = (await rel.show(e.package, debVersionGt))?.info;
  throw new FetchError(`${e.id}: Debian ${e.suite} does not have ${e.package}=${e.version}${now ? ` (it has ${now.version})` : ''}, and no earlier run cached it. The archive keeps only the current upload: pin ${now ? `version: ${now.version}` : 'the current version'}, or take the old .deb from snapshot.debian.org as a 'url:' entry with its sha256`);
}

/**
 * A Debian kernel's identity (the image package's .deb from the signed index) and its changelog,
 * which the unpacked package keeps under usr/share/doc (the image or its split binary package).
 */
function debianOrigin(m: Meta, packages: DebianPackage[], suite: string): { identity?: KernelIdentity; origin: KernelOrigin } {
  const image = packages.find((p) => /^linux-(image|binary)-\d/.test(p.package)) ?? packages[0];
  const root = join(dirname(dirname(m.kimg)));
  const changelog = findDebianChangelog(root, packages.map((p) => p.package));
  return { ...(image ? { identity: debianIdentity(image, image.suite ?? suite) } : {}), origin: changelog ? { kind: 'debian', changelog } : { kind: 'version' } };
}

/** linux-binary-<ver> / linux-modules-<ver> dependencies of a split image package. */
export function kernelParts(depends: string): string[] {
  return depends
    .split(',')
    .map((d) => d.trim().split(/[\s|(]/)[0])
    .filter((n) => /^linux-(binary|modules)-\d/.test(n));
}

/** The upload a Debian entry's release carries now (newest across its suites; the image package a metapackage points at). */
export async function currentDebianUpload(e: DebianEntry, root = cacheRoot()): Promise<DebianPackage | null> {
  const rel = releaseOf(e, root);
  await rel.update(false);
  const found = await rel.show(e.package, debVersionGt);
  if (!found) return null;
  const { apt, info } = found;
  const dep = /^linux-image-\d/.test(e.package) ? null : imageDependency(info.depends);
  const v = dep ? pinnedDependency(info.depends, dep) : null;
  const img = dep ? await apt.show(v ? `${dep}=${v}` : dep) : info;
  return img ? { package: img.package, version: img.version, sha256: img.sha256, suite: apt.suite } : null;
}

/** What the cache holds for a Debian entry: the pinned upload, else its release's newest copy. */
export async function cachedDebian(e: DebianEntry, root = cacheRoot()): Promise<{ key: string; release: string; version: string; suite: string; damaged: string | null } | null> {
  const mine = (await cachedKernels(root)).flatMap((c) => {
    const m = /^debian (\S+) (\S+)=(\S+)(?: \((\S+)\))?$/.exec(c.meta.description);
    // The suite's kernels of this entry's architecture (flavour packages end in it: ...-arm64).
    if (!m || m[1] !== e.suite || !m[2].endsWith(`-${DEBIAN_ARCH[entryArch(e)]}`)) return [];
    if (e.version && c.meta.requested !== `${e.suite} ${e.package}=${e.version}` && !(m[2] === e.package && m[3] === e.version)) return [];
    return [{ key: c.key, release: c.meta.release, version: m[3], suite: m[4] ?? m[1], meta: c.meta }];
  });
  const best = mine.sort((a, b) => (debVersionGt(a.version, b.version) ? -1 : 1))[0];
  // Only the entry a run would take is checked (hashing every cached image per matrix entry is not cheap).
  return best ? { key: best.key, release: best.release, version: best.version, suite: best.suite, damaged: await entryDamage(best.meta) } : null;
}

/**
 * The cached upload of a Debian entry, and whether its suite now has a newer one (a pinned
 * entry keeps its version until its matrix line changes; an unpinned one moves on at fetch).
 */
async function debianStatus(e: DebianEntry, offline: boolean, root: string): Promise<string> {
  const have = await cachedDebian(e, root);
  // Which suite the upload came from: bookworm-security ships kernels between point releases.
  const haveText = have ? `cached ${have.release} (${have.version}, ${have.suite})${damagedNote(have.damaged)}` : '-';
  if (offline) return haveText;
  let now;
  try {
    now = await currentDebianUpload(e, root);
  } catch (err) {
    return `${haveText}; Debian ${e.suite} not reachable: ${(err as Error).message.split('\n')[0]}`;
  }
  if (!now) return `${haveText}; Debian ${e.suite} has no ${e.package} now`;
  const base = e.version ?? have?.version;
  if (base && debVersionGt(now.version, base)) return `${haveText}; newer upload in ${now.suite}: ${now.package}=${now.version}${e.version ? ' (pinned: change version: to move)' : " ('kernels fetch' gets it)"}`;
  return have ? haveText : `- (${now.suite} has ${now.package}=${now.version})`;
}

/** dpkg's own version order (dpkg --compare-versions). */
export function debVersionGt(a: string, b: string): boolean {
  return $.sync({ quiet: true, nothrow: true })`dpkg --compare-versions ${a} gt ${b}`.ok;
}
