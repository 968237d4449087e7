// koffi's native module for a guest of another architecture (issue 23.1). npm installs only the
// host's prebuilt package (@koromix/koffi-linux-x64); an arm64 guest's node needs
// @koromix/koffi-linux-arm64, at the version package-lock.json pins. It is fetched once with
// `npm pack` (the registry's ordinary client), checked against the lockfile's integrity hash,
// and unpacked into the cache as <cache>/koffi/<pkg>-<version>/node_modules/<pkg>: the guest
// gets that node_modules dir through NODE_PATH, where koffi's own require() of the package
// finds it, so the checkout's node_modules is never written.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAtomically, cacheRoot, locksDir, safeName } from './cache.js';
import { withLock } from './lock.js';

const run = promisify(execFile);

export class KoffiNativeError extends Error {}

/** node's process.arch of each guest architecture (vng's --arch name). */
const NODE_ARCH: Record<string, string> = { arm64: 'arm64' };

export interface LockedPackage { name: string; version: string; integrity: string }

/** The lockfile's entry for koffi's prebuilt package of `arch` (name, pinned version, sha512 integrity). */
export function lockedKoffiNative(lockText: string, arch: string): LockedPackage {
  const nodeArch = NODE_ARCH[arch];
  if (!nodeArch) throw new KoffiNativeError(`no koffi package for guest architecture '${arch}' (known: ${Object.keys(NODE_ARCH).join(', ')})`);
  const name = `@koromix/koffi-linux-${nodeArch}`;
  const lock = JSON.parse(lockText) as { packages?: Record<string, { version?: string; integrity?: string }> };
  const e = lock.packages?.[`node_modules/${name}`];
  if (!e?.version || !e.integrity?.startsWith('sha512-'))
    throw new KoffiNativeError(`package-lock.json has no ${name} with a sha512 integrity: koffi's optional dependency is missing from the lockfile (npm install koffi again)`);
  return { name, version: e.version, integrity: e.integrity };
}

/** Whether the tarball's bytes are the ones the lockfile names (npm's `sha512-<base64>`). */
export function integrityMatches(tgz: Buffer, integrity: string): boolean {
  return `sha512-${createHash('sha512').update(tgz).digest('base64')}` === integrity;
}

/**
 * The NODE_PATH dir that holds koffi's native package for `arch`, fetched once into the cache.
 * A tarball whose hash differs from the lockfile's is refused (and nothing is cached).
 */
export async function ensureKoffiNative(arch: string, o: { repo: string; cache?: string; progress?: (m: string) => void }): Promise<string> {
  const pkg = lockedKoffiNative(readFileSync(join(o.repo, 'package-lock.json'), 'utf8'), arch);
  const root = o.cache ?? cacheRoot();
  const dir = join(root, 'koffi', safeName(`${pkg.name.replace('@koromix/', '')}-${pkg.version}`));
  const nodePath = join(dir, 'node_modules');
  const ready = () => existsSync(join(nodePath, pkg.name, 'package.json'));
  if (ready()) return nodePath;
  return withLock(join(locksDir(root), `koffi-${safeName(pkg.name)}.lock`), async () => {
    if (ready()) return nodePath;
    o.progress?.(`koffi: fetching ${pkg.name}@${pkg.version} for ${arch} guests (npm pack, checked against package-lock.json)`);
    await buildAtomically(dir, async (tmp) => {
      try {
        await run('npm', ['pack', `${pkg.name}@${pkg.version}`, '--pack-destination', tmp, '--silent'], { cwd: tmp });
      } catch (e) {
        throw new KoffiNativeError(`npm pack ${pkg.name}@${pkg.version} failed: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}; check that the npm registry answers (npm ping)`);
      }
      const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
      if (!tgz) throw new KoffiNativeError(`npm pack ${pkg.name}@${pkg.version} left no tarball`);
      if (!integrityMatches(readFileSync(join(tmp, tgz)), pkg.integrity))
        throw new KoffiNativeError(`${pkg.name}@${pkg.version} from the registry does not match package-lock.json's integrity ${pkg.integrity}: not used`);
      const dest = join(tmp, 'node_modules', pkg.name);
      await mkdir(dest, { recursive: true });
      await run('tar', ['-xzf', join(tmp, tgz), '-C', dest, '--strip-components=1']);
    });
    return nodePath;
  });
}
