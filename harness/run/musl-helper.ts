// The musl test binary (suites/musl/pidfd-wrappers.c), built on demand by suites/musl/build.sh
// (installing musl-tools if needed) into the cache (harness/run/built-helper.ts).
import { repoPath } from '../../suites/lib/paths.js';
import { builtHelperPath, ensureBuiltHelper, type HelperSpec } from './built-helper.js';
import type { CatalogCase } from '../judge/catalog.js';
import type { BuiltHelper } from '../../suites/lib/plan.js';
import type { ForeignArch } from '../../kernels/matrix.js';
import { ARM64_MUSL_DEV, ensureDebianTool } from '../../kernels/debian-tool.js';
import { existsSync } from 'node:fs';

export type MuslHelper = BuiltHelper;

export const MUSL_BUILD_SCRIPT = repoPath('suites/musl/build.sh');
const MUSL: HelperSpec = {
  name: 'musl', script: MUSL_BUILD_SCRIPT, sources: [repoPath('suites/musl/pidfd-wrappers.c'), MUSL_BUILD_SCRIPT],
  binary: 'pidfd-wrappers', fix: 'as root, run `bash suites/musl/build.sh` (or make deps)',
};

/** The arm64 binary's variant of the spec: its subdir, and the Debian musl-dev build.sh compiles against. */
const muslArm64 = (sysroot: string): HelperSpec => ({
  ...MUSL, subdir: 'arm64', env: { PIDFD_MATRIX_MUSL_ARCH: 'arm64', PIDFD_MATRIX_MUSL_SYSROOT: sysroot },
  fix: 'install gcc-aarch64-linux-gnu (make deps), then run the arm64 cell again',
});

/**
 * Where build.sh puts the binary: <cache>/musl/<sha256(source, build.sh) prefix>/pidfd-wrappers
 * (same key as build.sh), the arm64 one under arm64/ there.
 */
export const muslHelperPath = (root?: string, arch?: ForeignArch): string => builtHelperPath(arch ? muslArm64('') : MUSL, root);

/** Whether any selected case asks the musl binary (the `musl` case of the libc_* features). */
export function needsMusl(cases: Pick<CatalogCase, 'case'>[]): boolean {
  return cases.some((c) => c.case === 'musl');
}

/**
 * The cached binary, building it first when missing; a failed build is the musl cases' error.
 * An arm64 guest gets an arm64 binary (the x86_64 one would fail execve with ENOEXEC there),
 * built with the cross compiler against Debian's arm64 musl-dev, fetched unpacked, never installed.
 */
export async function ensureMuslHelper(o: { progress?: (m: string) => void; cache?: string; arch?: ForeignArch } = {}): Promise<MuslHelper> {
  if (!o.arch) return ensureBuiltHelper(MUSL, o);
  if (existsSync(muslHelperPath(o.cache, o.arch))) return { bin: muslHelperPath(o.cache, o.arch) };
  let libc: string;
  try {
    libc = await ensureDebianTool(ARM64_MUSL_DEV, { cache: o.cache, progress: o.progress });
  } catch (e) {
    return { error: `could not fetch Debian's arm64 musl-dev for the arm64 musl binary: ${(e as Error).message}` };
  }
  return ensureBuiltHelper(muslArm64(libc.slice(0, -ARM64_MUSL_DEV.path.length - 1)), o);
}
