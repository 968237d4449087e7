// Resolves a matrix entry to a bootable kernel in the cache, fetching only what is missing.
import { $ } from 'zx/core';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { KernelEntry } from './matrix.js';
import { buildAtomically, cacheRoot, debianCacheKey, kernelsDir, lockCacheEntry, urlCacheKey } from './cache.js';
import { DebianRelease, imageDependency, pinnedDependency } from './apt.js';
import { linkTree, normalizeTree, unpackArchive } from './layout.js';
import { damage, fingerprint, sha256File, truncatedBzImage, type Integrity } from './integrity.js';
import { BuildSetupError, buildKernel, describeBuild, type BuildFailure, type BuildRecord } from './build.js';
import { SourcePackageError, fetchDebianSource, findDebianChangelog } from './debian-source.js';
import { debianIdentity, HOST_IDENTITY, type KernelIdentity, type KernelOrigin } from './identity.js';
import { isGitTop } from './source-identity.js';
import { firstConfig, pathConfigCandidates, runningKernelConfigCandidates, treeConfigCandidates, type KernelConfig } from './config.js';

/** A kernel ready for `vng --run kimg` (or the running kernel, for `host`). */
export interface FetchedKernel {
  id: string;
  source: KernelEntry['source'];
  kimg: string | null;         // null for host
  release: string;
  modulesDir: string | null;
  /** Human-readable provenance: debian bookworm linux-image-6.1.0-50-amd64=6.1.176-1, url+sha256, path. */
  description: string;
  cacheKey: string | null;
  /** True when this call downloaded something (false: served from the cache). */
  downloaded: boolean;
  /** `build` entries: the hash of the config recipe (fragments) and how long the (possibly cached) build took. */
  configHash?: string;
  build?: { seconds: number; cached: boolean; key: string; log: string };
  /** Debian: the exact .debs (version, sha256) the kernel was unpacked from. */
  packages?: DebianPackage[];
  /** The kernel's final build config and its sha256 (kernels/config.ts); null when it ships none. */
  config?: KernelConfig | null;
  /** Where it came from, as far as proven (kernels/identity.ts); absent: nothing is known beyond the image. */
  identity?: KernelIdentity;
  /** What the commit oracle may read: a git tree, a Debian changelog, or only the version. */
  origin?: KernelOrigin;
}

export class FetchError extends Error {}

/** A `build` entry whose kernel did not build: its own outcome (an error cell), not bad input. */
export class BuildFailedError extends Error {
  constructor(readonly id: string, readonly failure: BuildFailure) {
    super(`${id}: ${failure.reason}\n  log: ${failure.logPath}`);
  }
}

export type Progress = (msg: string) => void;

/** One .deb a Debian kernel came from, as the signed archive index lists it, and the suite that carried it. */
export interface DebianPackage { package: string; version: string; sha256: string; suite?: string }

interface Meta {
  release: string; kimg: string; modulesDir: string | null; description: string;
  /** Debian: the .debs unpacked, and what the matrix asked for ("bookworm linux-image-amd64=6.1.176-1"). */
  packages?: DebianPackage[]; requested?: string;
  /** What the unpack produced (kernels/integrity.ts), checked before each use. */
  integrity?: Integrity;
}
const META = 'kernel.json';

async function readCached(key: string, root: string): Promise<Meta | null> {
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
async function discardEntry(dest: string): Promise<void> {
  if (!existsSync(dest)) return;
  const aside = join(dirname(dest), `.damaged-${basename(dest)}-${Date.now()}`);
  await rename(dest, aside);
  await rm(aside, { recursive: true, force: true });
}

/**
 * The cached entry `key`, when it is whole. A damaged one is said, and the caller (holding the
 * entry's lock) fetches it again.
 */
async function intactCached(key: string, root: string, say: Progress, id: string): Promise<Meta | null> {
  const m = await readCached(key, root);
  if (!m) return null;
  const bad = await entryDamage(m);
  if (!bad) return m;
  say(`${id}: the cached ${key} is damaged (${bad}); fetching it again`);
  return null;
}

export async function fetchKernel(e: KernelEntry, opts: { progress?: Progress; refresh?: boolean; cache?: string } = {}): Promise<FetchedKernel> {
  const k = await fetchSource(e, opts);
  return { ...k, config: configOf(e, k) };
}

function configOf(e: KernelEntry, k: FetchedKernel): KernelConfig | null {
  switch (e.source) {
    case 'host': case 'container': return firstConfig(runningKernelConfigCandidates(k.release));
    case 'path': return firstConfig(pathConfigCandidates(e.kernel, k.release));
    default: return k.kimg ? firstConfig(treeConfigCandidates(k.kimg, k.release)) : null;
  }
}

const HOST_ORIGIN: { identity: KernelIdentity; origin: KernelOrigin } = { identity: HOST_IDENTITY, origin: { kind: 'version' } };

/** A url entry was checked against the sha256 its matrix entry gives: that file is its identity. */
function urlOrigin(e: Extract<KernelEntry, { source: 'url' }>): { identity: KernelIdentity; origin: KernelOrigin } {
  const name = basename(new URL(e.url).pathname) || e.url;
  return { identity: { kind: 'tarball', name, sha256: e.sha256, proven: true, why: `${name} checked against its sha256` }, origin: { kind: 'version' } };
}

async function fetchSource(e: KernelEntry, opts: { progress?: Progress; refresh?: boolean; cache?: string }): Promise<FetchedKernel> {
  const say = opts.progress ?? (() => {});
  const root = opts.cache ?? cacheRoot();
  switch (e.source) {
    case 'host': {
      const { release } = await import('node:os');
      return { id: e.id, source: 'host', kimg: null, release: release(), modulesDir: null, description: `host kernel ${release()}`, cacheKey: null, downloaded: false, ...HOST_ORIGIN };
    }
    case 'container': {
      // A container has no kernel of its own: it runs on this machine's. Its image is the SUT's business (vm/container-sut.ts).
      const { release } = await import('node:os');
      return { id: e.id, source: 'container', kimg: null, release: release(), modulesDir: null, description: `host kernel ${release()} (shared: a container runs on the running kernel)`, cacheKey: null, downloaded: false, ...HOST_ORIGIN };
    }
    case 'debian':
      return fetchDebian(e, say, root, !!opts.refresh);
    case 'url':
      return fetchUrl(e, say, root);
    case 'path':
      return fetchPath(e, root);
    case 'build':
      return fetchBuild(e, say, root);
  }
}

async function fetchBuild(e: Extract<KernelEntry, { source: 'build' }>, say: Progress, root: string): Promise<FetchedKernel> {
  try {
    let tree = e.tree;
    let identity;
    let downloaded = false;
    let origin: KernelOrigin = { kind: 'version' };
    let known: Parameters<typeof buildKernel>[0]['known'];
    if (!tree) {
      const src = await fetchDebianSource(e.package!, e.suite ?? 'bookworm', (m) => say(`${e.id}: ${m}`), root);
      ({ tree, identity, downloaded } = src);
      known = { kind: 'debian', ...src.deb };
      if (src.changelog) origin = { kind: 'debian', changelog: src.changelog };
    }
    const b = await buildKernel({ tree, fragments: e.config, identity, known, label: e.id, cache: root, progress: say });
    if (!b.ok) throw new BuildFailedError(e.id, b);
    if (!known && (await isGitTop(tree))) origin = { kind: 'git', tree, rev: b.kernelIdentity?.commit ?? 'HEAD' };
    return {
      id: e.id, source: 'build', kimg: b.kimg, release: b.release, modulesDir: null, description: describeBuild(b),
      cacheKey: `build-${b.key}`, downloaded, configHash: b.configHash,
      build: { seconds: b.buildSeconds, cached: b.cached, key: b.key, log: b.log },
      ...(b.kernelIdentity ? { identity: b.kernelIdentity } : {}), origin,
    };
  } catch (err) {
    if (err instanceof BuildSetupError || err instanceof SourcePackageError) throw new FetchError(`${e.id}: ${err.message}`);
    throw err;
  }
}

async function fetchDebian(e: Extract<KernelEntry, { source: 'debian' }>, say: Progress, root: string, refresh: boolean): Promise<FetchedKernel> {
  // What Debian users run: the newest upload across <suite>, <suite>-updates and <suite>-security.
  const rel = new DebianRelease(e.suite, root);
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
  const fromCache = (m: Meta): FetchedKernel => ({ id: e.id, source: 'debian', ...m, packages: m.packages ?? packages, cacheKey: key, downloaded: false, ...debianOrigin(m, packages, apt.suite) });
  const cached = await readCached(key, root);
  if (cached && !(await entryDamage(cached))) return fromCache(cached);
  // Another run may be building this very entry: wait for it, then take what it cached.
  const lock = await lockCacheEntry(key, root);
  try {
    const built = await intactCached(key, root, say, e.id);
    if (built) return fromCache(built);
    const dest = join(kernelsDir(root), key);
    await discardEntry(dest);
    const mb = parts.reduce((n, p) => n + p.size, 0) / 1e6;
    say(`${e.id}: downloading ${parts.map((p) => p.package).join(' + ')} ${info.version} (${mb.toFixed(0)} MB) from Debian ${apt.suite}`);
    let meta!: Meta;
    await buildAtomically(dest, async (tmp) => {
      for (const part of parts) {
        const deb = await apt.download(part.package, part.version, tmp);
        say(`${e.id}: unpacking ${basename(deb)}`);
        await unpackArchive(deb, join(tmp, 'root'));
        await rm(deb);
      }
      const tree = await normalizeTree(join(tmp, 'root'), parts.map((p) => `${p.package}_${p.version}.deb`).join(' + '));
      meta = { ...relocate(tree, tmp, dest, description), packages, requested: `${e.suite} ${requested}`, integrity: await fingerprint(tree.kimg, tree.modulesDir) };
      await writeFile(join(tmp, META), JSON.stringify(meta, null, 2) + '\n');
    });
    say(`${e.id}: cached ${meta.release} in ${dest}`);
    return { id: e.id, source: 'debian', ...meta, packages, cacheKey: key, downloaded: true, ...debianOrigin(meta, packages, apt.suite) };
  } finally {
    await lock.release();
  }
}

/** "debian bookworm linux-image-6.1.0-50-amd64=6.1.192-1 (bookworm-security)": the entry's suite, the upload, and its suite when another. */
function debianDescription(suite: string, pkg: string, version: string, from: string): string {
  return `debian ${suite} ${pkg}=${version}${from !== suite ? ` (${from})` : ''}`;
}

/**
 * A pinned upload the suite no longer carries (Debian keeps only the current one): served from
 * the cache when an earlier fetch kept it, else an error that says what the suite has now.
 */
async function pinnedFromCache(e: Extract<KernelEntry, { source: 'debian' }>, rel: DebianRelease, root: string, say: Progress): Promise<FetchedKernel> {
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

async function unpackTo(file: string, dir: string): Promise<string> {
  await unpackArchive(file, dir);
  return dir;
}

/** Paths recorded while building in tmp must point at the final (renamed) location. */
function relocate(tree: { kimg: string; release: string; modulesDir: string | null }, tmp: string, dest: string, description: string): Meta {
  const fix = (p: string) => dest + p.slice(tmp.length);
  return { release: tree.release, kimg: fix(tree.kimg), modulesDir: tree.modulesDir ? fix(tree.modulesDir) : null, description };
}

async function fetchUrl(e: Extract<KernelEntry, { source: 'url' }>, say: Progress, root: string): Promise<FetchedKernel> {
  const key = urlCacheKey(e.sha256);
  const description = `url ${e.url} sha256=${e.sha256}`;
  const cached = await readCached(key, root);
  if (cached && !(await entryDamage(cached))) return { id: e.id, source: 'url', ...cached, cacheKey: key, downloaded: false, ...urlOrigin(e) };
  // Another run may be building this very entry: wait for it, then take what it cached.
  const lock = await lockCacheEntry(key, root);
  try {
    const built = await intactCached(key, root, say, e.id);
    if (built) return { id: e.id, source: 'url', ...built, cacheKey: key, downloaded: false, ...urlOrigin(e) };
    const dest = join(kernelsDir(root), key);
    await discardEntry(dest);
    let meta!: Meta;
    await buildAtomically(dest, async (tmp) => {
      const name = basename(new URL(e.url).pathname) || 'kernel.deb';
      const file = join(tmp, name);
      await download(e.url, file, (done, total) => say(`${e.id}: downloading ${name}: ${(done / 1e6).toFixed(1)}${total ? `/${(total / 1e6).toFixed(1)}` : ''} MB`));
      const got = await sha256File(file);
      if (got !== e.sha256) {
        throw new FetchError(`${e.id}: checksum mismatch for ${e.url}\n  expected sha256 ${e.sha256} (matrix file)\n  got      sha256 ${got}\n  the file changed or the matrix entry is wrong; nothing was cached`);
      }
      const tree = await normalizeTree(await unpackTo(file, join(tmp, 'root')), name);
      await rm(file);
      meta = { ...relocate(tree, tmp, dest, description), integrity: await fingerprint(tree.kimg, tree.modulesDir) };
      await writeFile(join(tmp, META), JSON.stringify(meta, null, 2) + '\n');
    });
    say(`${e.id}: cached ${meta.release} in ${dest}`);
    return { id: e.id, source: 'url', ...meta, cacheKey: key, downloaded: true, ...urlOrigin(e) };
  } finally {
    await lock.release();
  }
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

export { sha256File };

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

async function fetchPath(e: Extract<KernelEntry, { source: 'path' }>, root: string): Promise<FetchedKernel> {
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

/** The upload a Debian entry's release carries now (newest across its suites; the image package a metapackage points at). */
export async function currentDebianUpload(e: Extract<KernelEntry, { source: 'debian' }>, root = cacheRoot()): Promise<DebianPackage | null> {
  const rel = new DebianRelease(e.suite, root);
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
export async function cachedDebian(e: Extract<KernelEntry, { source: 'debian' }>, root = cacheRoot()): Promise<{ key: string; release: string; version: string; suite: string; damaged: string | null } | null> {
  const mine = (await cachedKernels(root)).flatMap((c) => {
    const m = /^debian (\S+) (\S+)=(\S+)(?: \((\S+)\))?$/.exec(c.meta.description);
    if (!m || m[1] !== e.suite) return [];
    if (e.version && c.meta.requested !== `${e.suite} ${e.package}=${e.version}` && !(m[2] === e.package && m[3] === e.version)) return [];
    return [{ key: c.key, release: c.meta.release, version: m[3], suite: m[4] ?? m[1], meta: c.meta }];
  });
  const best = mine.sort((a, b) => (debVersionGt(a.version, b.version) ? -1 : 1))[0];
  // Only the entry a run would take is checked (hashing every cached image per matrix entry is not cheap).
  return best ? { key: best.key, release: best.release, version: best.version, suite: best.suite, damaged: await entryDamage(best.meta) } : null;
}

/** dpkg's own version order (dpkg --compare-versions). */
export function debVersionGt(a: string, b: string): boolean {
  return $.sync({ quiet: true, nothrow: true })`dpkg --compare-versions ${a} gt ${b}`.ok;
}
