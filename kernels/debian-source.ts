// Debian's kernel source package (linux-source-X.Y: /usr/src/linux-source-X.Y.tar.xz, the
// patched Debian tree), fetched like the image packages (private apt lists, signature-checked,
// no install) and unpacked once into the cache: sources/debian-<pkg>_<version>/<tree>.
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx/core';
import { PrivateApt } from './apt.js';
import { buildAtomically, cacheRoot, debianCacheKey } from './cache.js';
import type { SourceIdentity } from './source-identity.js';

export const sourcesDir = (root = cacheRoot()) => join(root, 'sources');

export class SourcePackageError extends Error {}

const CHANGELOG = 'changelog.Debian.gz';

export interface SourceTree {
  tree: string; version: string; package: string; identity: SourceIdentity; downloaded: boolean;
  /** The .deb as the signed index names it: what proves the tree's identity (kernels/identity.ts). */
  deb: { package: string; version: string; sha256: string; suite: string };
  /** The package's changelog.Debian.gz, kept beside the tree (null in caches from before it was kept). */
  changelog: string | null;
}

/** The versioned linux-source-X.Y package a metapackage (linux-source) points at. */
export function sourceDependency(depends: string): string | null {
  for (const alt of depends.split(',')) {
    const name = alt.trim().split(/[\s|(]/)[0];
    if (/^linux-source-\d/.test(name)) return name;
  }
  return null;
}

export async function fetchDebianSource(pkg: string, suite: string, say: (m: string) => void, root = cacheRoot()): Promise<SourceTree> {
  const apt = new PrivateApt(suite, undefined, root);
  await apt.update();
  let info = await apt.show(pkg);
  if (!info) throw new SourcePackageError(`Debian ${suite} has no package '${pkg}'; fix 'package:' (e.g. linux-source-6.1 in bookworm, linux-source-6.12 in trixie) or 'suite:'`);
  const dep = sourceDependency(info.depends);
  if (dep && !/^linux-source-\d/.test(pkg)) {
    const real = await apt.show(dep);
    if (!real) throw new SourcePackageError(`${pkg} (Debian ${suite}) depends on ${dep}, which the suite does not have`);
    info = real;
  }
  const dest = join(sourcesDir(root), debianCacheKey(info.package, info.version));
  const identity: SourceIdentity = { id: `debian:${info.package}=${info.version}`, description: `debian ${suite} ${info.package}=${info.version}`, commit: null, dirty: false };
  const meta = join(dest, 'source.json');
  const deb = { package: info.package, version: info.version, sha256: info.sha256, suite };
  const changelog = () => (existsSync(join(dest, CHANGELOG)) ? join(dest, CHANGELOG) : null);
  if (existsSync(meta)) {
    const m = JSON.parse(await readFile(meta, 'utf8')) as { tree: string };
    if (existsSync(join(dest, m.tree, 'Makefile'))) return { tree: join(dest, m.tree), version: info.version, package: info.package, identity, downloaded: false, deb, changelog: changelog() };
  }
  say(`downloading ${info.package} ${info.version} (${(info.size / 1e6).toFixed(0)} MB) from Debian ${suite}`);
  let treeName = '';
  await buildAtomically(dest, async (tmp) => {
    const deb = await apt.download(info!.package, info!.version, tmp);
    await $({ quiet: true })`dpkg -x ${deb} ${join(tmp, 'deb')}`;
    await rm(deb);
    const src = join(tmp, 'deb/usr/src');
    const tarball = existsSync(src) ? readdirSync(src).find((f) => /^linux-source-.*\.tar\.(xz|gz|bz2|zst)$/.test(f)) : undefined;
    if (!tarball) throw new SourcePackageError(`${info!.package}_${info!.version}.deb has no /usr/src/linux-source-*.tar.* inside; is it a kernel source package?`);
    say(`unpacking ${tarball}`);
    await $({ quiet: true })`tar -xf ${join(src, tarball)} -C ${tmp}`;
    // Debian's changelog says which stable updates and patches the tree carries (harness/commit-oracle.ts).
    const log = join(tmp, 'deb/usr/share/doc', info!.package, CHANGELOG);
    if (existsSync(log)) await copyFile(log, join(tmp, CHANGELOG));
    await rm(join(tmp, 'deb'), { recursive: true, force: true });
    treeName = readdirSync(tmp).find((d) => d.startsWith('linux-source-') && existsSync(join(tmp, d, 'Makefile'))) ?? '';
    if (!treeName) throw new SourcePackageError(`${tarball} did not unpack to a linux-source-*/ tree`);
    await writeFile(join(tmp, 'source.json'), JSON.stringify({ package: info!.package, version: info!.version, suite, tree: treeName }, null, 2) + '\n');
  });
  say(`cached ${info.package} ${info.version} in ${join(dest, treeName)}`);
  return { tree: join(dest, treeName), version: info.version, package: info.package, identity, downloaded: true, deb, changelog: changelog() };
}

/** The changelog of an unpacked Debian kernel package (usr/share/doc/<package>/changelog[.Debian].gz). */
export function findDebianChangelog(root: string, packages: string[]): string | null {
  const doc = join(root, 'usr/share/doc');
  const dirs = [...packages, ...(existsSync(doc) ? readdirSync(doc).filter((d) => /^linux-(image|binary|modules)-/.test(d)) : [])];
  for (const d of dirs)
    for (const f of ['changelog.Debian.gz', 'changelog.gz']) if (existsSync(join(doc, d, f))) return join(doc, d, f);
  return null;
}
