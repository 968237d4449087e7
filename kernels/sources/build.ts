// source: build — built from source (a tree, or Debian's linux-source-X.Y) with
// kernels/configs/pidfd-minimal.config and arch/<arch>.config for the entry's arch:, out of tree,
// cached by source identity + config + compiler + arch (kernels/build.ts). A build failure is an
// error cell, never bad input.
import { BuildSetupError, buildKernel, describeBuild } from '../build.js';
import { firstConfig, treeConfigCandidates } from '../config.js';
import { SourcePackageError, fetchDebianSource } from '../debian-source.js';
import type { KernelOrigin } from '../identity.js';
import { isGitTop } from '../source-identity.js';
import { BuildFailedError, FetchError, MatrixError, entryArch, type EntryCommon, type SourceKind } from './types.js';

export type BuildEntry = EntryCommon & { source: 'build'; tree?: string; package?: string; suite?: string; config?: string[] };

export const build: SourceKind<BuildEntry> = {
  name: 'build',
  keys: ['tree', 'package', 'suite', 'config'],
  parse({ at, o, common, str, abs }) {
    const tree = str('tree', false);
    const pkg = str('package', false);
    if (!tree === !pkg) throw new MatrixError(`${at}: source 'build' needs exactly one of 'tree:' (a kernel source dir) or 'package:' (Debian's linux-source-X.Y)`);
    if (pkg && !/^linux-source(-[0-9.]+)?$/.test(pkg)) throw new MatrixError(`${at}: package '${pkg}' should be Debian's kernel source package, e.g. linux-source-6.1`);
    const suite = str('suite', false);
    if (suite && !pkg) throw new MatrixError(`${at}: 'suite:' goes with 'package:' (the Debian suite to fetch linux-source-X.Y from)`);
    const list = configList(o.config);
    if (!list) throw new MatrixError(`${at}: 'config' must be a fragment path or a list of them (merged after kernels/configs/pidfd-minimal.config and arch/<arch>.config)`);
    return {
      ...common, source: 'build',
      ...(tree ? { tree: abs(tree) } : { package: pkg!, suite: suite ?? 'bookworm' }),
      ...(list.length ? { config: list.map(abs) } : {}),
    };
  },
  bootsOn: () => ({ sut: 'guest' }),
  async fetch(e, { say, root }) {
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
      // The entry's arch: (absent: x86_64) is what the kernel is built for, as kernels build --arch.
      const b = await buildKernel({ tree, fragments: e.config, identity, known, label: e.id, cache: root, progress: say, arch: entryArch(e) });
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
  },
  config: (_e, k) => (k.kimg ? firstConfig(treeConfigCandidates(k.kimg, k.release)) : null),
  describe: (e) => `build ${e.tree ?? `debian ${e.suite} ${e.package}`}${e.config?.length ? ` + ${e.config.join(' + ')}` : ''}`,
  cacheStatus: async () => '-',
};

/** `config:` as a list of fragment paths (one path or a list); null when it is not. */
export function configList(raw: unknown): string[] | null {
  const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  return list.every((f) => typeof f === 'string' && f.trim()) ? (list as string[]) : null;
}
