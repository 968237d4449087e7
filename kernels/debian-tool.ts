// A program from a Debian package of another architecture, for a guest of that architecture:
// an arm64 guest's initramfs needs a static arm64 busybox (vng --busybox), which a minbase root
// does not carry and this host's busybox-static is not. Fetched like the kernels (private apt
// lists of that architecture, signature-checked, never installed), unpacked once into
// <cache>/tools/debian-<pkg>_<version>_<arch>/.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx/core';
import { PrivateApt } from './apt.js';
import { buildAtomically, cacheRoot, debianCacheKey, toolsDir } from './cache.js';

export class DebianToolError extends Error {}

export interface DebianTool { suite: string; arch: string; pkg: string; /** The file inside the package, e.g. usr/bin/busybox. */ path: string }

/** The static busybox of an arm64 guest's initramfs. */
export const ARM64_BUSYBOX: DebianTool = { suite: 'trixie', arch: 'arm64', pkg: 'busybox-static', path: 'usr/bin/busybox' };

/** musl's static libc, headers and gcc specs for arm64: the musl test binary of an arm64 guest (suites/musl/build.sh). */
export const ARM64_MUSL_DEV: DebianTool = { suite: 'trixie', arch: 'arm64', pkg: 'musl-dev', path: 'usr/lib/aarch64-linux-musl/libc.a' };

/** The program's path in the cache, fetching its package first when it is not there. */
export async function ensureDebianTool(t: DebianTool, o: { cache?: string; progress?: (m: string) => void } = {}): Promise<string> {
  const root = o.cache ?? cacheRoot();
  const apt = new PrivateApt(t.suite, undefined, root, t.arch);
  await apt.update();
  const info = await apt.show(t.pkg);
  if (!info) throw new DebianToolError(`Debian ${t.suite} (${t.arch}) has no package '${t.pkg}'`);
  const dir = join(toolsDir(root), `${debianCacheKey(info.package, info.version)}_${t.arch}`);
  const file = join(dir, t.path);
  if (existsSync(file)) return file;
  o.progress?.(`tools: fetching ${t.pkg} ${info.version} (${t.arch}) from Debian ${t.suite} for ${t.path}`);
  await buildAtomically(dir, async (tmp) => {
    const deb = await apt.download(info.package, info.version, tmp);
    await $({ quiet: true })`dpkg -x ${deb} ${tmp}`;
    await rm(deb);
    if (!existsSync(join(tmp, t.path))) throw new DebianToolError(`${t.pkg} ${info.version} (${t.arch}) has no ${t.path}`);
  });
  return file;
}
