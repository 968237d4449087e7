// Resolves a matrix entry to a bootable kernel in the cache, fetching only what is missing. How
// is each source kind's business (kernels/sources/); this is the one entry point callers use.
import type { KernelEntry } from './matrix.js';
import { cacheRoot } from './cache.js';
import { sourceKind } from './sources/index.js';
import { FetchError, entryArch, type AnyEntry, type FetchedKernel, type FetchOptions } from './sources/types.js';
import { imageArchProblem } from './image-arch.js';

export { BuildFailedError, FetchError, MirrorUnreachable, type DebianPackage, type FetchedKernel, type Progress } from './sources/types.js';
export { cachedKernels, download, entryDamage } from './cache-entry.js';
export { cachedDebian, currentDebianUpload, debVersionGt, kernelParts } from './sources/debian.js';
export { pathOrigin } from './sources/path.js';
export { sha256File } from './integrity.js';

export async function fetchKernel(e: KernelEntry | AnyEntry, opts: FetchOptions = {}): Promise<FetchedKernel> {
  const kind = sourceKind(e);
  const k = await kind.fetch(e, { say: opts.progress ?? (() => {}), root: opts.cache ?? cacheRoot(), refresh: !!opts.refresh });
  // `arch:` is a claim about the image (path, url, build); its boot header may contradict it.
  const wrong = k.kimg ? imageArchProblem(e.id, entryArch(e), k.kimg) : null;
  if (wrong) throw new FetchError(wrong);
  return { ...k, config: kind.config(e, k) };
}
