// The libc axis: the pidfd wrappers of the process's own libc (glibc 2.36: pidfd_open,
// pidfd_send_signal, pidfd_getfd; glibc 2.39: pidfd_spawn, pidfd_spawnp, pidfd_getpid), asked for
// real through koffi. `symbol` cases say whether libc.so.6 exports the wrapper and under which
// version node; `works` cases call it and check the job was done on a real child. A wrapper's
// ENOSYS on a kernel without the syscall is an observation (the judge composes the catalog's
// `requires:` on the kernel feature), and a refusal under seccomp gets its control question.
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { P, POLL, SIG, W } from './lib/constants.js';
import {
  askControl, eventfd, getpid, kcmp, kill, libcPidfdGetfd, libcPidfdGetpid, libcPidfdOpen, libcPidfdSendSignal,
  libcPidfdSpawn, libcSymbol, poll, type WrapperRes,
} from './lib/libc.js';
import { fdinfo, isCloexec, need, pidfdOpen, PrereqMissing, track } from './lib/pidfd.js';
import { adopt, forget, reap, spawnChild, waitid } from './lib/process.js';
import { cldName } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';
import type { Observation } from './lib/observation.js';
import type { SyscallName } from './lib/constants.js';
import { MUSL_BIN_ENV, MUSL_ERROR_ENV } from './lib/plan.js';

const KCMP_FILE = 0;

/** Does libc.so.6 export it, and under which symbol version node. */
function symbol(name: string): Observation {
  const s = libcSymbol(name);
  return s.present ? { symbol: true, version_node: s.node ?? 'unversioned' } : { symbol: false };
}

/** A wrapper's refusal, with the seccomp control question for the syscall behind it. */
function refused(r: WrapperRes & { ok: false }, syscall: SyscallName): Observation {
  askControl(syscall, r.errno);
  return { errno: r.errno };
}

/** pidfd_spawn / pidfd_spawnp: `sh -c 'exit 7'`, then waitid(P_PIDFD) on the pidfd it handed back. */
function spawnWorks(name: 'pidfd_spawn' | 'pidfd_spawnp', file: string): Observation {
  const r = libcPidfdSpawn(name, file, ['sh', '-c', 'exit 7']);
  if (r === null) return { symbol: false };
  if (!r.ok) return refused(r, 'clone3');
  const pidfd = track(r).value;
  // The pid behind the pidfd (fdinfo Pid:, 5.2+) so the suite's cleanup reaps it whatever happens.
  const pid = Number(fdinfo(pidfd).lines.Pid ?? 0);
  adopt(pid);
  const si = need('waitid(P_PIDFD)', waitid(P.PIDFD, pidfd, W.EXITED));
  forget(pid);
  return { result: 'pidfd', cloexec: isCloexec(pidfd), si_code: cldName(si.code), si_status: si.status, si_pid: si.pid === pid && pid > 0 ? 'child' : si.pid };
}

// ---- musl --------------------------------------------------------------------------------
// musl is not this process's libc, so a static musl-gcc test binary answers for it
// (suites/musl/pidfd-wrappers.c). The host builds it before the run, into its cache, and names
// it in the plan (harness/run/musl-helper.ts); it names its musl version, and the judge keys these
// cases by that libc instead of facts.libc.
function musl(name: string): Observation {
  // Could not run, not "not applicable": the binary is ours to build.
  const MUSL_BIN = process.env[MUSL_BIN_ENV];
  const why = process.env[MUSL_ERROR_ENV] ?? 'the plan names none (the harness builds it before a run: suites/musl/build.sh)';
  if (!MUSL_BIN) return { setup_error: `no musl test binary: ${why}` };
  if (!existsSync(MUSL_BIN)) return { setup_error: `no musl test binary at ${MUSL_BIN} (not visible here?): \`bash suites/musl/build.sh\` builds it` };
  const out = join(tmpdir(), `pidfd-matrix-musl-${process.pid}.json`);
  rmSync(out, { force: true });
  const si = reap(spawnChild(['sh', '-c', 'exec "$0" > "$1"', MUSL_BIN, out]));
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  } catch {
    return { setup_error: `${MUSL_BIN} wrote no result (${si ? `${cldName(si.code)} ${si.status}` : 'not reaped'})` };
  } finally {
    rmSync(out, { force: true });
  }
  return { libc: o.libc, symbol: o[name] === true, ...(name === 'pidfd_open' && o.pidfd_open_self ? { self: o.pidfd_open_self } : {}) };
}

/** A sleeping child and a pidfd for it from the syscall, so only the wrapper under test is libc's. */
function sleepingChild(): { pid: number; fd: number } {
  const pid = spawnChild(['sleep', '30']);
  return { pid, fd: need('pidfd_open(child)', track(pidfdOpen(pid))) };
}

featureSuite('libc_pidfd_open', {
  symbol: () => symbol('pidfd_open'),
  musl: () => musl('pidfd_open'),
  works: () => {
    const pid = spawnChild(['sleep', '30']);
    const r = libcPidfdOpen(pid);
    if (r === null) return { symbol: false };
    if (!r.ok) return refused(r, 'pidfd_open');
    const fd = track(r).value;
    kill(pid, SIG.KILL);
    const p = poll(fd, POLL.IN, 5000);
    return { result: 'fd', cloexec: isCloexec(fd), readable_after_kill: p.ok ? (p.value & POLL.IN) !== 0 : p.errno };
  },
});

featureSuite('libc_pidfd_send_signal', {
  symbol: () => symbol('pidfd_send_signal'),
  musl: () => musl('pidfd_send_signal'),
  works: () => {
    const { pid, fd } = sleepingChild();
    const r = libcPidfdSendSignal(fd, SIG.KILL);
    if (r === null) return { symbol: false };
    if (!r.ok) return refused(r, 'pidfd_send_signal');
    const si = reap(pid);
    return { result: r.value, si_code: si ? cldName(si.code) : 'reap failed', si_status: si?.status ?? -1 };
  },
});

featureSuite('libc_pidfd_getfd', {
  symbol: () => symbol('pidfd_getfd'),
  musl: () => musl('pidfd_getfd'),
  works: () => {
    const efd = need('eventfd', track(eventfd()));
    const self = need('pidfd_open(getpid())', track(pidfdOpen(getpid())));
    const r = libcPidfdGetfd(self, efd);
    if (r === null) return { symbol: false };
    if (!r.ok) return refused(r, 'pidfd_getfd');
    const fd = track(r).value;
    const k = kcmp(getpid(), getpid(), KCMP_FILE, efd, fd);
    return { result: 'fd', cloexec: isCloexec(fd), kcmp_file: k.ok ? k.value : k.errno };
  },
});

featureSuite('libc_pidfd_spawn', {
  symbol: () => symbol('pidfd_spawn'),
  musl: () => musl('pidfd_spawn'),
  works: () => spawnWorks('pidfd_spawn', '/bin/sh'),
});

featureSuite('libc_pidfd_spawnp', {
  symbol: () => symbol('pidfd_spawnp'),
  musl: () => musl('pidfd_spawnp'),
  works: () => spawnWorks('pidfd_spawnp', 'sh'), // found through PATH
});

featureSuite('libc_pidfd_getpid', {
  symbol: () => symbol('pidfd_getpid'),
  musl: () => musl('pidfd_getpid'),
  works: () => {
    const { pid, fd } = sleepingChild();
    const r = libcPidfdGetpid(fd);
    if (r === null) return { symbol: false };
    if (!r.ok) return { errno: r.errno };
    return { result: r.value === pid ? 'child_pid' : r.value };
  },
  reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    reap(pid);
    // glibc maps the kernel's "Pid: -1" to ESRCH: a kernel that still shows the old pid (before
    // 5.5 and its 5.4.y backport) cannot give that answer, which the catalog's requires: covers.
    const line = fdinfo(fd).lines.Pid ?? 'missing';
    if (line !== '-1') throw new PrereqMissing(`fdinfo Pid: -1 after the reap (the kernel shows ${line})`, 'none');
    const r = libcPidfdGetpid(fd);
    if (r === null) return { symbol: false };
    if (!r.ok) return { errno: r.errno };
    return { result: r.value === pid ? 'child_pid' : r.value };
  },
});

// ---- glibc's clone3 fallback -----------------------------------------------------------
// A seccomp filter cannot be taken back, so it goes into a throwaway node child
// (suites/lib/clone3-child.ts), which starts a posix_spawn child and a thread under it and
// writes what it saw to a file. The runner itself is never filtered.
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'clone3-child.js');

function underClone3Filter(mode: 'ENOSYS' | 'EPERM' | 'REMEMBER'): Observation {
  const out = join(tmpdir(), `pidfd-matrix-clone3-${process.pid}-${mode}.json`);
  rmSync(out, { force: true });
  // A foreign-arch root's node finds koffi's native module through NODE_PATH (vm/guest-root.ts).
  const nodePath = process.env.NODE_PATH ? [`NODE_PATH=${process.env.NODE_PATH}`] : [];
  const pid = spawnChild([process.execPath, CHILD, mode, out], nodePath.length ? ['PATH=/usr/local/bin:/usr/bin:/bin', ...nodePath] : undefined);
  const si = reap(pid);
  let seen: Observation;
  try {
    seen = JSON.parse(readFileSync(out, 'utf8')) as Observation;
  } catch {
    const how = si ? `${cldName(si.code)} ${si.status}` : 'not reaped';
    return { setup_error: `the filtered child (node ${CHILD}) wrote no result (${how})` };
  } finally {
    rmSync(out, { force: true });
  }
  return si && !(si.code === 1 && si.status === 0) ? { ...seen, child_exit: `${cldName(si.code)} ${si.status}` } : seen;
}

featureSuite('glibc_clone3_fallback', {
  enosys: () => underClone3Filter('ENOSYS'),
  // EPERM, which glibc does not fall back on: shows clone3 is in the path of pthread_create.
  eperm_thread: () => {
    const o = underClone3Filter('EPERM');
    // Under a policy that already answers clone3 ENOSYS (Docker's default), node's own startup
    // threads have met that ENOSYS before the probe's filter, and a glibc that remembers it
    // (case enosys_remembered) no longer calls clone3 for threads: nothing to see here then.
    if (o.clone3_before_filter === 'ENOSYS' && o.sys_clone3_in_kallsyms === true && o.thread === 'ran') {
      // The evidence that this glibc calls clone3 (its posix_spawn failed under EPERM) but
      // remembers an ENOSYS for threads; a glibc that never calls clone3 (< 2.34) is no such case.
      const r = underClone3Filter('REMEMBER');
      if (r.thread_under_enosys === 'ran' && r.clone3_errno === 'EPERM' && r.thread === 'ran' && r.spawn === 'EPERM')
        // The evidence travels with the skip: the refusal the cell's policy gave (errno) and both runs.
        return {
          skip:
            `this cell's own seccomp policy already answers clone3 ENOSYS (clone3(NULL, 0) got ENOSYS before the ` +
            `probe's filter, while /proc/kallsyms shows the kernel has sys_clone3), and this glibc, which does ` +
            `call clone3 (posix_spawn failed under EPERM), keeps creating threads with clone after one ENOSYS: ` +
            `its clone3 path for threads cannot be shown under this policy`,
          errno: 'ENOSYS',
          ...o,
          remembered: r,
        };
    }
    return o;
  },
  eperm_spawn: () => underClone3Filter('EPERM'),
  enosys_remembered: () => underClone3Filter('REMEMBER'),
});
