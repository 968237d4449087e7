// source: host — the running kernel, no VM: the suite runs directly on this machine.
import { release } from 'node:os';
import { firstConfig, runningKernelConfigCandidates } from '../config.js';
import { HOST_IDENTITY } from '../identity.js';
import { MatrixError, type EntryCommon, type FetchedKernel, type SourceKind } from './types.js';

export type HostEntry = EntryCommon & { source: 'host' };

/** The running kernel, as a fetched kernel: nothing to download, nothing proven about its source. */
export function runningKernel(id: string, source: string, description: string): FetchedKernel {
  return {
    id, source, kimg: null, release: release(), modulesDir: null, description, cacheKey: null, downloaded: false,
    identity: HOST_IDENTITY, origin: { kind: 'version' },
  };
}

export const host: SourceKind<HostEntry> = {
  name: 'host',
  keys: [],
  parse({ at, common }) {
    if (common.append || common.lsm) throw new MatrixError(`${at}: append/lsm need a guest; a 'host' entry runs on the running kernel as booted`);
    if (common.arch) throw new MatrixError(`${at}: arch: ${common.arch} needs a guest (source: debian, path, url or build); the host runs as it is`);
    if (common.root) throw new MatrixError(`${at}: root: needs a guest (it is the root a guest boots); the host runs on its own root, or use a container cell for another userspace`);
    return { ...common, source: 'host' };
  },
  bootsOn: () => ({ sut: 'host' }),
  fetch: async (e) => runningKernel(e.id, 'host', `host kernel ${release()}`),
  config: (_e, k) => firstConfig(runningKernelConfigCandidates(k.release)),
  describe: () => 'the running kernel (no VM)',
  cacheStatus: async () => '',
};
