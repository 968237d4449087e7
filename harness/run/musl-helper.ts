// The musl test binary (suites/musl/pidfd-wrappers.c), built on demand by suites/musl/build.sh
// (installing musl-tools if needed) into the cache (harness/run/built-helper.ts).
import { repoPath } from '../../suites/lib/paths.js';
import { builtHelperPath, ensureBuiltHelper, type HelperSpec } from './built-helper.js';
import type { CatalogCase } from '../judge/catalog.js';
import type { BuiltHelper } from '../../suites/lib/plan.js';

export type MuslHelper = BuiltHelper;

export const MUSL_BUILD_SCRIPT = repoPath('suites/musl/build.sh');
const MUSL: HelperSpec = {
  name: 'musl', script: MUSL_BUILD_SCRIPT, sources: [repoPath('suites/musl/pidfd-wrappers.c'), MUSL_BUILD_SCRIPT],
  binary: 'pidfd-wrappers', fix: 'as root, run `bash suites/musl/build.sh` (or make deps)',
};

/** Where build.sh puts the binary: <cache>/musl/<sha256(source, build.sh) prefix>/pidfd-wrappers (same key as build.sh). */
export const muslHelperPath = (root?: string): string => builtHelperPath(MUSL, root);

/** Whether any selected case asks the musl binary (the `musl` case of the libc_* features). */
export function needsMusl(cases: Pick<CatalogCase, 'case'>[]): boolean {
  return cases.some((c) => c.case === 'musl');
}

/** The cached binary, building it first when missing; a failed build is the musl cases' error. */
export const ensureMuslHelper = (o: { progress?: (m: string) => void; cache?: string } = {}): Promise<MuslHelper> => ensureBuiltHelper(MUSL, o);
