// The i386 compat probe helper (suites/compat32/pidfd-compat32.c): the compat32 cases run it as
// a 32-bit process on the x86_64 kernel. Built on demand by suites/compat32/build.sh (installing
// gcc-N-multilib if needed) into the cache (harness/run/built-helper.ts).
import { repoPath } from '../../suites/lib/paths.js';
import { builtHelperPath, ensureBuiltHelper, type HelperSpec } from './built-helper.js';
import type { CatalogCase } from '../judge/catalog.js';
import type { BuiltHelper } from '../../suites/lib/plan.js';

export const COMPAT32_BUILD_SCRIPT = repoPath('suites/compat32/build.sh');
export const COMPAT32_FEATURE = 'compat32';
const COMPAT32: HelperSpec = {
  name: 'compat32', script: COMPAT32_BUILD_SCRIPT,
  sources: [repoPath('suites/compat32/pidfd-compat32.c'), COMPAT32_BUILD_SCRIPT],
  binary: 'pidfd-compat32', fix: 'as root, run `bash suites/compat32/build.sh` (it installs gcc-N-multilib)',
};

export const compat32HelperPath = (root?: string): string => builtHelperPath(COMPAT32, root);

/** Whether any selected case runs the i386 helper (the cases of the compat32 feature). */
export function needsCompat32(cases: Pick<CatalogCase, 'feature'>[]): boolean {
  return cases.some((c) => c.feature === COMPAT32_FEATURE);
}

export const ensureCompat32Helper = (o: { progress?: (m: string) => void; cache?: string } = {}): Promise<BuiltHelper> =>
  ensureBuiltHelper(COMPAT32, o);
