// source: container — the suite in a container on the RUNNING kernel (no VM), from a locally
// debootstrapped distro image (kernels/userspace.ts), under a seccomp profile and an OCI runtime.
// Its system under test is vm/container-sut.ts.
import { readFileSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import { release } from 'node:os';
import { firstConfig, runningKernelConfigCandidates } from '../config.js';
import { userspaceInfo } from '../userspace.js';
import { runningKernel } from './host.js';
import { MatrixError, type ContainerAxes, type EntryCommon, type SourceKind } from './types.js';

export type { ContainerAxes };
export const CONTAINER_RUNTIMES = ['runc', 'crun'] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];
export type ContainerEntry = EntryCommon & { source: 'container' } & ContainerAxes;

/** A container cell's axis values in one phrase: "bookworm userspace, seccomp default, runc". */
export function axesLabel(a: ContainerAxes): string {
  // The profile's file name, as the report writers show it (harness/report-text.ts seccompLabel).
  const seccomp = a.seccomp === 'default' || a.seccomp === 'unconfined' ? a.seccomp : basename(a.seccomp);
  return `${a.userspace} userspace, seccomp ${seccomp}, ${a.runtime}`;
}

export const container: SourceKind<ContainerEntry> = {
  name: 'container',
  keys: ['userspace', 'seccomp', 'runtime'],
  parse({ at, common, str, abs }) {
    if (common.append || common.lsm) throw new MatrixError(`${at}: append/lsm need a guest; a 'container' entry shares the running kernel as booted`);
    if (common.arch) throw new MatrixError(`${at}: arch: ${common.arch} needs a guest; a container runs on the host's own kernel and arch`);
    if (common.root) throw new MatrixError(`${at}: root: is a guest's root; a container's userspace is 'userspace:'`);
    const userspace = str('userspace', true)!;
    if (!/^[a-z][a-z0-9-]*$/.test(userspace)) throw new MatrixError(`${at}: userspace '${userspace}' is not a Debian suite name (bullseye, bookworm, trixie)`);
    const seccomp = str('seccomp', false) ?? 'default';
    const profile = seccomp === 'default' || seccomp === 'unconfined' ? seccomp : abs(seccomp);
    if (profile !== seccomp || isAbsolute(seccomp)) {
      let text: string;
      try {
        text = readFileSync(profile, 'utf8');
      } catch {
        throw new MatrixError(`${at}: seccomp '${seccomp}' is neither 'default', 'unconfined' nor a readable profile file (${profile}); paths are relative to this matrix file`);
      }
      try {
        JSON.parse(text);
      } catch (e) {
        throw new MatrixError(`${at}: seccomp profile ${profile} is not valid JSON (${(e as Error).message}); see Docker's seccomp profile format`);
      }
    }
    const runtime = str('runtime', false) ?? 'runc';
    if (!(CONTAINER_RUNTIMES as readonly string[]).includes(runtime)) throw new MatrixError(`${at}: runtime '${runtime}' is not one of: ${CONTAINER_RUNTIMES.join(', ')}`);
    return { ...common, source: 'container', userspace, seccomp: profile, runtime: runtime as ContainerRuntime };
  },
  bootsOn: (e) => ({ sut: 'container', axes: { userspace: e.userspace, seccomp: e.seccomp, runtime: e.runtime } }),
  // A container has no kernel of its own: it runs on this machine's. Its image is the SUT's business.
  fetch: async (e) => runningKernel(e.id, 'container', `host kernel ${release()} (shared: a container runs on the running kernel)`),
  config: (_e, k) => firstConfig(runningKernelConfigCandidates(k.release)),
  describe: (e) => `container on the running kernel: ${axesLabel(e)}`,
  async cacheStatus(e) {
    const u = userspaceInfo(e.userspace);
    return u ? `userspace built (libc6 ${u.packages.libc6})` : '- (debootstrapped on first use)';
  },
};
