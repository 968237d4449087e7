// `pidfd-matrix kernels list|fetch|clean`: inspect the matrix file and manage the kernel cache.
import { rm } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './types.js';
import { UsageError } from './types.js';
import { reportInputError } from './input-errors.js';
import { parseOptions } from './args.js';
import { defaultMatrixFile, entryArch, loadMatrix, selectKernels, type KernelEntry } from '../../kernels/matrix.js';
import { composeMatrices, matrixYaml } from '../../kernels/compose.js';
import { writeFileSync } from 'node:fs';
import { cacheRoot, holdKernelCache, kernelsDir, lockKernelCacheForClean } from '../../kernels/cache.js';
import { fetchKernel } from '../../kernels/fetch.js';
import { isGuest, sourceKind } from '../../kernels/sources/index.js';
import { BuildSetupError, buildKernel, buildsDir } from '../../kernels/build.js';
import { SourcePackageError, fetchDebianSource, sourcesDir } from '../../kernels/debian-source.js';
import { intOption } from './args.js';
import { copyFile, writeFile } from 'node:fs/promises';
import { describeIdentity } from '../../kernels/identity.js';
import { TARBALL, unpackSourceTarball } from '../../kernels/tarball-source.js';
import { OriginClaimError, parseOriginOption, type OriginClaim } from '../../kernels/origin-claim.js';
import { resolve } from 'node:path';
import { BUILD_ARCHES, isBuildArch, type BuildArch } from '../../kernels/build-arch.js';

const usage = `Usage: pidfd-matrix kernels <list|fetch|clean> [ids] [--matrix FILE] [--refresh] [--offline]
       pidfd-matrix kernels build DIR|TARBALL|--package linux-source-X.Y [--suite S] [--config FRAGMENT]... [--out FILE]
                                  [--origin owner/name@COMMIT[:subdir]] [--arch x86_64|arm64]
       pidfd-matrix kernels compose [ids] [--matrix FILE] [--add FILE...] [--selinux FILE...] --out FILE

  list [ids]     the matrix entries (id, source, ci, lsm, root), what is already cached (for Debian:
                 the exact upload and the suite it came from), and when Debian has a newer upload
                 than the cached or pinned one (a 'debian' entry takes the newest of <suite>,
                 <suite>-updates and <suite>-security; reads the private package lists, refreshed
                 once a day; --offline: the cache only). An entry whose image or modules no
                 longer match what the unpack recorded (size, sha256) is listed as DAMAGED
  fetch [ids]    download and unpack (or build, for 'build' entries) the kernels (all by
                 default; 'ci' = the CI smoke set); a second run fetches nothing, except a
                 damaged entry (checked before each use, as by matrix), which is fetched again.
                 --refresh re-reads the Debian package lists.
  build DIR      build the kernel source tree DIR on its own and print the image and the
                 matrix entry that boots it. Out of tree (O= under the cache; DIR stays clean),
                 make tinyconfig + kernels/configs/pidfd-minimal.config + the architecture's
                 kernels/configs/arch/<arch>.config + each --config FRAGMENT (repeatable),
                 olddefconfig, make -jN bzImage (arm64: Image) under nice -n 19, ccache when
                 installed, the per-series workarounds of kernels/configs/workarounds.yaml.
                 --arch arm64 cross-compiles (ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-, from
                 Debian's gcc-aarch64-linux-gnu: make build-deps) for qemu's -M virt; the default
                 is x86_64. Cached by source identity (git tree of the content, or a content
                 hash), config hash, compiler and arch: a second run builds nothing. --package fetches
                 Debian's kernel source package (default suite bookworm) instead of DIR; a
                 TARBALL (linux-X.Y.Z.tar.xz, checked against kernel.org's signed sha256sums
                 first) is unpacked once into the cache. build.json records the identity: the
                 package (version, sha256), the tarball (name, sha256), or a git tree's public
                 repository, commit and describe (else unproven), with the Makefile version and
                 the sha256 of the pidfd sources. A DIR with no .git (a git archive of a
                 snapshot) names its origin with --origin owner/name@<40-hex commit>[:subdir]
                 or a PROVENANCE file at its top (lines repo:, commit:, optional subdir: and
                 describe:; no part of the content hash): recorded as that repository and
                 commit with the git tree id of the content, unproven until someone checks it
                 (git rev-parse COMMIT^{tree} in a copy prints the same id) or matches the pidfd
                 sources against a second copy. --out FILE also copies the bzImage there (and
                 the record to FILE.build.json). --jobs N (default: CPUs), --force
                 builds again (and replaces a cached build that is damaged: a run that finds
                 one stops and prints this command). Exit 0 built or cached, 1 the build failed (log tail and log
                 path printed), 2 bad input or missing build tools (bash scripts/setup/kernel-build.sh).
  source --package linux-source-X.Y [--suite S]
                 fetch and unpack Debian's kernel source package into the cache (as 'build'
                 entries do) and print the tree's path; a second run fetches nothing
  compose [ids]  write one matrix file (--out) from the ids of --matrix (default: all of
                 kernels/matrix.yaml) and every entry of each --add FILE (repeatable), with
                 absolute kernel paths, for one 'matrix --matrix' run over kernels kept in
                 several files (make boundary). --selinux FILE adds each entry of FILE as
                 <id>-selinux instead: booted with SELinux enforcing and the pidfs-unaware test
                 policy, as bookworm-selinux is. An id defined twice is an error.
  clean          delete the kernel cache (${kernelsDir()}), the builds
                 (${buildsDir()}), the unpacked sources and the private apt lists;
                 refuses (exit 1) while a matrix, bench, fetch or build uses the cache

Ids are comma or space separated. The matrix file defaults to kernels/matrix.yaml; the cache to
\${PIDFD_MATRIX_CACHE:-\${XDG_CACHE_HOME:-~/.cache}/pidfd-matrix} (now: ${cacheRoot()}).`;

/** Where an entry's kernel comes from, in one phrase: its source kind says. */
export function describeSource(e: KernelEntry): string {
  return sourceKind(e).describe(e);
}

export const kernelsCommand: Command = {
  name: 'kernels',
  summary: 'list, fetch, build, compose or clean the kernels of the matrix (kernels/matrix.yaml)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      matrix: { type: 'string' }, refresh: { type: 'boolean' }, offline: { type: 'boolean' },
      config: { type: 'string', multiple: true }, out: { type: 'string' }, package: { type: 'string' }, suite: { type: 'string' },
      jobs: { type: 'string' }, force: { type: 'boolean' }, add: { type: 'string', multiple: true }, selinux: { type: 'string', multiple: true }, origin: { type: 'string' },
      arch: { type: 'string' },
    }, usage);
    const [action, ...ids] = positionals;
    if (action === 'build') return buildAction(ids, values);
    if (action === 'compose') {
      if (!values.out) throw new UsageError(`kernels compose needs --out FILE (the composed matrix file)\n\n${usage}`);
      try {
        const base = values.matrix ?? defaultMatrixFile();
        const files = values.add ?? [], selinux = values.selinux ?? [];
        const m = composeMatrices([
          { matrix: loadMatrix(base), ids: ids.join(',') },
          ...files.map((f) => ({ matrix: loadMatrix(resolve(f)) })),
          ...selinux.map((f) => ({ matrix: loadMatrix(resolve(f)), selinux: true })),
        ], resolve(values.out));
        writeFileSync(resolve(values.out), matrixYaml(m, [base, ...files.map((f) => resolve(f)), ...selinux.map((f) => `${resolve(f)} (SELinux variants)`)]));
        console.log(`${resolve(values.out)}: ${m.kernels.map((k) => k.id).join(', ')}`);
        return 0;
      } catch (e) {
        const code = reportInputError(this.name, values.matrix, e);
        if (code !== null) return code;
        throw e;
      }
    }
    if (action === 'source') {
      if (!values.package || ids.length) throw new UsageError(`kernels source wants --package linux-source-X.Y [--suite S]\n\n${usage}`);
      try {
        const s = await fetchDebianSource(values.package, values.suite ?? 'bookworm', (m) => console.error(m));
        console.error(`${s.downloaded ? 'fetched' : 'cached'} ${s.package} ${s.version}`);
        console.log(s.tree);
        return 0;
      } catch (e) {
        const code = reportInputError('kernels', undefined, e);
        if (code !== null) return code;
        if (!(e instanceof SourcePackageError)) throw e;
        console.error(`pidfd-matrix kernels source: ${e.message}`);
        return 2;
      }
    }
    try {
      const matrix = loadMatrix(values.matrix ?? defaultMatrixFile());
      switch (action) {
        case 'list': {
          const rows = await Promise.all(selectKernels(matrix, ids).map(async (e) => {
            // A guest's arch (the host and containers run on this machine's own).
            const flags = [isGuest(e) ? `arch=${entryArch(e)}` : '', e.ci ? 'ci' : '', e.lsm ? `lsm=${e.lsm}` : '',
              e.root ? `root=${e.root}` : '', e.append ? `append="${e.append}"` : ''].filter(Boolean).join(' ');
            // What the cache holds, as the entry's source kind reads it (Debian: and what the archive has now).
            const status = await sourceKind(e).cacheStatus(e, { offline: !!values.offline, root: cacheRoot() });
            return [e.id, describeSource(e), flags, status];
          }));
          const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
          console.log(`# ${matrix.file}`);
          for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}`.trimEnd());
          return 0;
        }
        case 'fetch': {
          const cache = await holdKernelCache();
          try {
            for (const e of selectKernels(matrix, ids)) {
              if (!isGuest(e)) continue; // the running kernel: nothing to fetch
              const t0 = Date.now();
              const k = await fetchKernel(e, { progress: (m) => console.log(m), refresh: values.refresh });
              console.log(`${e.id}: ${k.downloaded ? 'fetched' : 'cached'} ${k.release} (${k.description}) in ${((Date.now() - t0) / 1000).toFixed(1)}s -> ${k.kimg}`);
            }
          } finally {
            await cache.release();
          }
          return 0;
        }
        case 'clean': {
          // Never under a running matrix, bench or fetch: it may be booting these kernels.
          const lock = await lockKernelCacheForClean();
          if (!lock) {
            console.error(`pidfd-matrix kernels clean: the kernel cache ${kernelsDir()} is in use by a running matrix, bench or fetch; nothing removed. Run clean again when it has finished.`);
            return 1;
          }
          try {
            for (const d of [kernelsDir(), buildsDir(), sourcesDir(), join(cacheRoot(), 'apt')]) {
              if (existsSync(d)) {
                await rm(d, { recursive: true, force: true });
                console.log(`removed ${d}`);
              }
            }
          } finally {
            await lock.release();
          }
          return 0;
        }
        default:
          throw new UsageError(`expected list, fetch, build, source, compose or clean${action ? `, not '${action}'` : ''}\n\n${usage}`);
      }
    } catch (e) {
      const code = reportInputError(this.name, values.matrix, e);
      if (code !== null) return code;
      throw e;
    }
  },
};

/** A matrix id for a built or given kernel: 'build-6-1-158' (no dots: ids become JUnit classnames). */
export function kernelIdForRelease(prefix: string, release: string): string {
  return `${prefix}-${release.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/-+$/, '')}`;
}

async function buildAction(dirs: string[], v: { config?: string[]; out?: string; package?: string; suite?: string; jobs?: string; force?: boolean; origin?: string; arch?: string }): Promise<number> {
  if (!!v.package === (dirs.length === 1) || dirs.length > 1) throw new UsageError(`kernels build wants one source tree DIR, a source TARBALL, or --package linux-source-X.Y\n\n${usage}`);
  if (v.arch !== undefined && !isBuildArch(v.arch)) throw new UsageError(`--arch ${v.arch}: kernels build builds for ${BUILD_ARCHES.join(' or ')}\n\n${usage}`);
  const arch = v.arch as BuildArch | undefined;
  const jobs = intOption(v.jobs, 'jobs');
  let claim: OriginClaim | undefined;
  try {
    claim = v.origin ? parseOriginOption(v.origin) : undefined;
  } catch (e) {
    if (e instanceof OriginClaimError) throw new UsageError(`${e.message}\n\n${usage}`);
    throw e;
  }
  if (claim && (v.package || TARBALL.test(dirs[0] ?? ''))) throw new UsageError(`--origin names where a source tree DIR came from; a package or a tarball names itself\n\n${usage}`);
  const say = (m: string) => console.log(m);
  try {
    let tree = dirs[0] ? resolve(dirs[0]) : '';
    let identity;
    let known: Parameters<typeof buildKernel>[0]['known'];
    if (tree && TARBALL.test(tree) && statSync(tree, { throwIfNoEntry: false })?.isFile()) {
      ({ tree, identity, known } = await unpackSourceTarball(tree, (m) => say(`build: ${m}`)));
    } else if (v.package) {
      const src = await fetchDebianSource(v.package, v.suite ?? 'bookworm', (m) => say(`build: ${m}`));
      ({ tree, identity } = src);
      known = { kind: 'debian', ...src.deb };
    }
    const t0 = Date.now();
    const b = await buildKernel({ tree, fragments: v.config, identity, known, claim, jobs, force: v.force, progress: say, arch });
    if (!b.ok) {
      console.error(`pidfd-matrix kernels build: ${b.reason}\n--- last lines of ${b.logPath} ---\n${b.logTail}\n---\nlog: ${b.logPath}`);
      return 1;
    }
    // A copy keeps its build record beside it (<out>.build.json): a path entry finds its identity there.
    if (v.out) {
      await copyFile(b.kimg, resolve(v.out));
      await writeFile(`${resolve(v.out)}.build.json`, JSON.stringify({ ...b, ok: undefined, cached: undefined }, null, 2) + '\n');
    }
    const kernel = v.out ? resolve(v.out) : b.kimg;
    console.log(`${b.cached ? 'cached' : 'built'} Linux ${b.release} from ${b.identity.description} in ${((Date.now() - t0) / 1000).toFixed(0)}s${b.cached ? ` (the build took ${b.buildSeconds}s)` : ''}`);
    if (b.kernelIdentity) {
      const id = b.kernelIdentity;
      console.log(`identity: ${describeIdentity(id)}; Makefile ${id.makefile ?? '?'}; ${Object.keys(id.pidfd_sources ?? {}).length} pidfd sources hashed; ${id.proven ? 'proven' : `unproven (${id.why})`}`);
    }
    const foreign = b.arch && b.arch !== 'x86_64' ? b.arch : null;
    console.log(`${foreign ? `${foreign} Image` : 'bzImage'}: ${kernel}`);
    // Another arch's kernel boots in a guest of that arch, on a root of it (the matrix entry's arch: and
    // root:), emulated instruction by instruction (TCG): minutes, hence the longer timeout (kernels/matrix-arm64.yaml).
    const archLines = foreign ? `\n    arch: ${foreign}\n    root: trixie\n    timeout: 1200` : '';
    console.log(`matrix entry (a --matrix file):\n  - id: ${kernelIdForRelease(foreign ? `build-${foreign}` : 'build', b.release)}\n    source: path\n    kernel: ${kernel}${archLines}`);
    return 0;
  } catch (e) {
    if (e instanceof BuildSetupError || e instanceof SourcePackageError) {
      console.error(`pidfd-matrix kernels build: ${e.message}`);
      return 2;
    }
    const code = reportInputError('kernels', undefined, e);
    if (code !== null) return code;
    throw e;
  }
}
