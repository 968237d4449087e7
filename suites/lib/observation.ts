// The vocabulary probes observe in: observation keys with a meaning to the judge, and the facts
// gathered about the running kernel. Probes only observe; the harness (on the host) judges, so
// nothing here knows the catalog or the expectations.

/** A JSON-able observation: errno names, fdinfo lines, poll masks, inode numbers ... */
export type Observation = Record<string, unknown>;

/** Observation keys with a meaning to the judge (probes and the runner set them). */
export const PREREQ = 'prereq';      // { prereq: 'pidfd_open', errno: 'ENOSYS' }: could not get to the probe
export const PROBE_SKIP = 'skip';    // { skip: 'no non-leader thread' }: probe found itself not applicable
export const NOT_RUN = 'not_run';    // { not_run: 'needs root: ...' }: the runner did not call the probe
// { setup_error: 'child did not open fd 3 within 5 s' }: the probe could not set up what it
// tests, or a precondition of its reading did not hold: an error (could not run), never a skip.
export const SETUP_ERROR = 'setup_error';
// { killed_by: 'SIGSYS' }: a helper process the probe ran died of SIGSYS, which a Seccomp filter
// gives for a call it kills (SECCOMP_RET_KILL_*): the judge calls that "blocked by seccomp" only
// in a cell whose facts show a filter (mode 2), and an error anywhere else.
export const KILLED_BY = 'killed_by';
// { exec_refused: 'ENOEXEC', abi: 'i386', ... }: execve of a helper binary the harness built for
// another ABI of this machine failed with that errno, with what the kernel shows about that ABI
// beside it; the judge decides whether that is a kernel that runs no such binaries (a skip).
export const EXEC_REFUSED = 'exec_refused';

/** Facts read from the running kernel and process (suites/lib/kernel.ts); the host derives the version. */
export interface ObservedFacts {
  release: string;            // uname -r
  /** Raw /proc/version and /proc/version_signature: the distro's note of the stable version. */
  procVersion?: string;
  versionSignature?: string;
  arch: string;               // uname -m
  uid: number;
  root: boolean;
  /** CAP_SYS_ADMIN in CapEff: uid 0 inside a container usually lacks it (absent in old files). */
  capSysAdmin?: boolean;
  seccomp: number;            // /proc/self/status Seccomp: 0 none, 1 strict, 2 filter
  /**
   * The harness's own Seccomp filter, when it installed one (vm/clone3-fallback.py on 5.3.0-5.3.10:
   * glibc's clone3 answered ENOSYS). It never touches a probe's call, so `seccomp: 2` then is not
   * the user's policy and an ENOSYS/EPERM answer is the kernel's.
   */
  harnessFilter?: string;
  lsms: string[];             // /sys/kernel/security/lsm, [] when unreadable
  selinux: 'enforcing' | 'permissive' | 'disabled';
  container: string | null;   // 'docker', 'podman', 'lxc', ... or null (suites/lib/container.ts)
  /** Why: the pid namespace, cgroup or mount that decided `container` (absent in old files). */
  containerEvidence?: string;
  hostname: string;
  /**
   * The process's own libc as it names itself (gnu_get_libc_version(), confstr(_CS_GNU_LIBC_VERSION)):
   * the libc catalog features (suites/catalog/libc.yaml) are judged by it. Absent in old files.
   */
  libc?: { name: string; version: string; source: string; confstr: string | null } | null;
  /** sha256 of the uncompressed /proc/config.gz, when the kernel has one (provenance). */
  procConfigSha256?: string;
  /** /proc/sys/kernel/core_pattern exists: the kernel has CONFIG_COREDUMP (absent in old files). */
  corePattern?: boolean;
  /**
   * The run owns the system-wide kernel.core_pattern (a guest the harness booted, or `probe
   * --own-core-pattern`): the coredump cases may set it, restoring the old value. Absent: not owned.
   */
  ownsCorePattern?: boolean;
}
