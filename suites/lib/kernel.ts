// Facts about the running kernel and process. Versions only feed expectations: every probe
// still asks the kernel what it does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { hostname, machine, release } from 'node:os';
import { kernelVersion } from '../../harness/version.js';
import type { KernelFacts } from '../../harness/results.js';
import { CAP_SYS_ADMIN, hasCap } from './caps.js';
import { detectContainerFrom, type ContainerVerdict } from './container.js';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

export function seccompMode(status = readOr('/proc/self/status', '')): number {
  const m = /^Seccomp:\s*(\d+)/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** This process's container (suites/lib/container.ts says why not from /.dockerenv alone). */
export function detectContainer(): ContainerVerdict {
  let pidNsInode: number | null = null;
  try {
    pidNsInode = statSync('/proc/self/ns/pid').ino;
  } catch { /* unreadable: decided from PID 1's environment only */ }
  return detectContainerFrom({
    pidNsInode,
    pid1Environ: readOr('/proc/1/environ', ''),
    cgroup: readOr('/proc/self/cgroup', ''),
    mountinfo: readOr('/proc/self/mountinfo', ''),
    containerenv: existsSync('/run/.containerenv'),
    dockerenv: existsSync('/.dockerenv'),
  });
}

export function selinuxState(): KernelFacts['selinux'] {
  const e = readOr('/sys/fs/selinux/enforce', '').trim();
  return e === '1' ? 'enforcing' : e === '0' ? 'permissive' : 'disabled';
}

let facts: KernelFacts | null = null;

export function kernelFacts(): KernelFacts {
  if (facts) return facts;
  const rel = release();
  const uid = process.getuid?.() ?? -1;
  const lsm = readOr('/sys/kernel/security/lsm', '').trim();
  const { version, source } = kernelVersion(rel, readOr('/proc/version', ''), readOr('/proc/version_signature', ''));
  facts = {
    release: rel,
    version,
    versionSource: source,
    arch: machine(),
    uid,
    root: uid === 0,
    capSysAdmin: hasCap(CAP_SYS_ADMIN),
    seccomp: seccompMode(),
    // Set by vm/clone3-fallback.ts's wrapper; only meaningful while a filter is active.
    ...(process.env.PIDFD_MATRIX_HARNESS_FILTER && seccompMode() === 2 ? { harnessFilter: process.env.PIDFD_MATRIX_HARNESS_FILTER } : {}),
    lsms: lsm ? lsm.split(',') : [],
    selinux: selinuxState(),
    ...containerFacts(),
    hostname: hostname(),
  };
  return facts;
}

function containerFacts(): Pick<KernelFacts, 'container' | 'containerEvidence'> {
  const v = detectContainer();
  return { container: v.container, containerEvidence: v.evidence };
}
