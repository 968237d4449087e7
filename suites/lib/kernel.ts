// Facts about the running kernel and process, as read: the host derives the version from them
// (harness/judge/version.ts), and versions only feed expectations: every probe still asks the kernel.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { hostname, machine, release } from 'node:os';
import type { ObservedFacts } from './observation.js';
import { CAP_SYS_ADMIN, hasCap } from './caps.js';
import { detectContainerFrom, type ContainerVerdict } from './container.js';
import { libcIdentity } from './libc.js';
import { OWN_CORE_PATTERN_ENV } from './plan.js';

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

export function selinuxState(): ObservedFacts['selinux'] {
  const e = readOr('/sys/fs/selinux/enforce', '').trim();
  return e === '1' ? 'enforcing' : e === '0' ? 'permissive' : 'disabled';
}

let facts: ObservedFacts | null = null;

export function observeFacts(): ObservedFacts {
  if (facts) return facts;
  const rel = release();
  const uid = process.getuid?.() ?? -1;
  const lsm = readOr('/sys/kernel/security/lsm', '').trim();
  facts = {
    release: rel,
    procVersion: readOr('/proc/version', '').trim(),
    versionSignature: readOr('/proc/version_signature', '').trim(),
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
    libc: libcIdentity(),
    ...procConfig(),
    corePattern: existsSync('/proc/sys/kernel/core_pattern'),
    ownsCorePattern: process.env[OWN_CORE_PATTERN_ENV] === '1',
  };
  return facts;
}

function containerFacts(): Pick<ObservedFacts, 'container' | 'containerEvidence'> {
  const v = detectContainer();
  return { container: v.container, containerEvidence: v.evidence };
}

/** The running kernel's own config (/proc/config.gz), hashed: the host records it as provenance. */
function procConfig(): Pick<ObservedFacts, 'procConfigSha256'> {
  try {
    const text = gunzipSync(readFileSync('/proc/config.gz'));
    if (!/^(CONFIG_\w+=|# CONFIG_\w+ is not set)/m.test(text.subarray(0, 1 << 16).toString('latin1'))) return {};
    return { procConfigSha256: createHash('sha256').update(text).digest('hex') };
  } catch {
    return {}; // no CONFIG_IKCONFIG_PROC: the host falls back to the file the kernel shipped with
  }
}
