// setns(2) via pidfd: reference §2 row 13; selftest pidfd_setns_test.c.
import { existsSync, readlinkSync } from 'node:fs';
import { CLONE, NR, O, PIDFD_GET_NS } from './lib/constants.js';
import { addressOf, errnoName, eventfd, getpid, open, poll, read, sys } from './lib/libc.js';
import { ioctl, need, outcome, pidfdOpen, setns, track } from './lib/pidfd.js';
import { reap, spawnChild, waitExitedNoReap } from './lib/process.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { featureSuite, type Probe } from './lib/feature-test.js';
import { clone3Code, openStep, stepsThenExitCode, syscallReportThenSleepCode, STUB_NR } from './lib/stub.js';

featureSuite('setns_pidfd', {
  self_uts: () => needsCapSysAdmin('setns(CLONE_NEWUTS)') ?? outcome(setns(need('pidfd_open(getpid())', track(pidfdOpen(getpid()))), CLONE.NEWUTS)),
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    reap(pid);
    return outcome(setns(fd, CLONE.NEWUTS));
  },
  // selftest pidfd_setns_test.c pidfd_exited_child: an exited, not yet reaped child (its
  // namespaces are gone) gives ESRCH, and the caller's namespaces stay as they were.
  esrch_zombie: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    if (!waitExitedNoReap(pid)) throw new Error(`child ${pid} did not become a zombie`);
    const names = ['user', 'net', 'uts', 'mnt', 'ipc', 'pid', 'cgroup'].filter((n) => existsSync(`/proc/self/ns/${n}`));
    const before = names.map((n) => link(getpid(), n)).join(' ');
    const r = setns(fd, 0x10000000 /* CLONE_NEWUSER */ | CLONE.NEWNET);
    const after = names.map((n) => link(getpid(), n)).join(' ');
    return { ...outcome(r), own_namespaces: before === after ? 'unchanged' : `changed: ${before} -> ${after}` };
  },
});

// ---- pidfd_setns_test.c: joining another process's namespaces through its pidfd ----------
// The namespace types in the selftest's order: the /proc/<pid>/ns name and the setns flag.
const NS = [
  { name: 'user', flag: 0x10000000 }, { name: 'mnt', flag: CLONE.NEWNS }, { name: 'pid', flag: CLONE.NEWPID },
  { name: 'uts', flag: CLONE.NEWUTS }, { name: 'ipc', flag: 0x08000000 }, { name: 'net', flag: CLONE.NEWNET },
  { name: 'cgroup', flag: 0x02000000 }, { name: 'time', flag: 0x80 },
] as const;
type NsName = (typeof NS)[number]['name'];
const CLONE_NEWTIME = 0x80;
const keep: Buffer[] = [];

/** The types this kernel has: /proc/self/ns/<name> exists (a config without one lacks the file). */
const present = () => NS.filter((n) => existsSync(`/proc/self/ns/${n.name}`));

/**
 * Gate: setns() knows pidfds (5.8). A reaped child's pidfd gives ESRCH there; an older kernel
 * refuses any pidfd with EINVAL, the feature's own `without` answer, returned as is.
 */
function pidfdSetnsGate(): { errno: string } | null {
  const pid = spawnChild(['true']);
  const fd = need('pidfd_open', track(pidfdOpen(pid)));
  reap(pid);
  const r = setns(fd, CLONE.NEWUTS);
  return !r.ok && r.errno === 'ESRCH' ? null : { errno: r.ok ? 'result 0' : r.errno };
}

function link(pid: number, name: string): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${name}`);
  } catch {
    return null;
  }
}

/** Wait for an eventfd report (errno + 1 or 1) from a stub child; null when none came. */
function report(efd: number, ms: number): bigint | null {
  const rev = poll(efd, 1 /* POLLIN */, ms);
  if (!rev.ok || rev.value === 0) return null;
  const b = need('read eventfd', read(efd, 8));
  return b.readBigUInt64LE(0);
}

/**
 * The selftest's target: a clone3 child in new user, mnt, cgroup, ipc, uts, pid and net
 * namespaces (those this kernel has) that also switches to a new time namespace, then sleeps.
 */
function target(types: readonly (typeof NS)[number][]): { pid: number; pidfd: number } {
  const ready = need('eventfd', track(eventfd()));
  const cloneFlags = types.filter((t) => t.name !== 'time').reduce((f, t) => f | BigInt(t.flag), 0n);
  const path = Buffer.from('/proc/self/ns/time_for_children\0');
  const one = Buffer.alloc(8);
  one.writeBigUInt64LE(1n);
  const ts = Buffer.alloc(16);
  ts.writeBigInt64LE(30n, 0);
  keep.push(path, one, ts);
  const timeSteps = types.some((t) => t.name === 'time')
    ? [
      { nr: STUB_NR.unshare, args: [CLONE_NEWTIME] },
      openStep(addressOf(path), O.RDONLY | O.CLOEXEC),
      { nr: NR.setns, args: ['prev' as const, CLONE_NEWTIME] },
    ]
    : [];
  const code = stepsThenExitCode([
    ...timeSteps,
    { nr: STUB_NR.write, args: [ready, addressOf(one), 8] },
    { nr: STUB_NR.nanosleep, args: [addressOf(ts), 0] },
  ]);
  const pid = need('clone3(target in new namespaces)', clone3Code(cloneFlags, code));
  if (report(ready, 5000) === null) {
    const si = reap(pid);
    throw new Error(`the target child did not get ready within 5 s (exit status ${si?.status}: 200 + the failed step, ${timeSteps.length ? 'steps: unshare(NEWTIME), open, setns, write' : 'step: write'})`);
  }
  return { pid, pidfd: need('pidfd_open(target)', track(pidfdOpen(pid))) };
}

/** Where the joiner's namespace of each type now is: 'target', 'own' (the prober's) or the link. */
function whereIs(joiner: number, t: number, name: string): string {
  const l = link(joiner, name);
  if (l === null) return 'unreadable';
  if (l === link(t, name)) return 'target';
  if (l === link(getpid(), name)) return 'own';
  return l;
}

/** A clone3 child (a single-threaded copy of this process) that calls setns(pidfd, flags) and stays. */
function join(pidfd: number, flags: number, joinerFlags = 0n): { joiner: number; errno: string | null } {
  const ready = need('eventfd', track(eventfd()));
  const joiner = need('clone3(joiner)', clone3Code(joinerFlags, syscallReportThenSleepCode(NR.setns, [pidfd, flags], ready, 30)));
  const v = report(ready, 5000);
  if (v === null) throw new Error(`the joiner ${joiner} reported nothing within 5 s`);
  return { joiner, errno: v === 1n ? null : errnoName(Number(v - 1n)) };
}

/** Observation per type after a join: pid moves pid_for_children only (the selftest's rule). */
function placed(joiner: number, t: number, names: readonly NsName[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    if (n === 'pid') {
      out.pid = whereIs(joiner, t, 'pid');
      out.pid_for_children = link(joiner, 'pid_for_children') === link(t, 'pid') ? 'target' : whereIs(joiner, t, 'pid_for_children');
    } else if (n === 'time') {
      out.time = whereIs(joiner, t, 'time');
      out.time_for_children = whereIs(joiner, t, 'time_for_children');
    } else out[n] = whereIs(joiner, t, n);
  }
  return out;
}

/** Skip with the kernel's own answer as evidence: opening /proc/self/ns/<name> fails (ENOENT). */
function absentType(name: NsName, types: readonly (typeof NS)[number][]) {
  const r = track(open(`/proc/self/ns/${name}`, O.RDONLY | O.CLOEXEC));
  if (r.ok) throw new Error(`/proc/self/ns/${name} opened after it was found absent`);
  return { skip: `this kernel has no ${name} namespaces (config): /proc/self/ns/${name} is absent`, errno: r.errno, ns_entries: types.map((t) => t.name).join(' ') };
}

/** setns(target pidfd, <type's flag>) alone, as pidfd_incremental_setns does one type at a time. */
function joinOne(name: NsName): Probe {
  return () => {
    const gate = pidfdSetnsGate();
    if (gate) return gate;
    const noCap = needsCapSysAdmin(`setns(pidfd, ${name})`);
    if (noCap) return noCap;
    const types = present();
    if (!types.some((t) => t.name === name))
      return absentType(name, types);
    const t = target(types);
    const flag = NS.find((n) => n.name === name)!.flag;
    const { joiner, errno } = join(t.pidfd, flag);
    if (errno) return { errno };
    return { result: 0, ...placed(joiner, t.pid, [name]) };
  };
}

featureSuite('setns_pidfd_types', {
  ...Object.fromEntries(NS.map((n) => [n.name, joinOne(n.name)])),
  // pidfd_one_shot_setns: every type at once.
  all_at_once: () => {
    const gate = pidfdSetnsGate();
    if (gate) return gate;
    const noCap = needsCapSysAdmin('setns(pidfd, all namespace types)');
    if (noCap) return noCap;
    const types = present();
    const t = target(types);
    const { joiner, errno } = join(t.pidfd, types.reduce((f, n) => f | n.flag, 0));
    if (errno) return { errno };
    const missing = NS.filter((n) => !types.includes(n)).map((n) => n.name);
    return { result: 0, ...placed(joiner, t.pid, types.map((n) => n.name)), ...(missing.length ? { absent_types: missing.join(' ') } : {}) };
  },
  // All or nothing: a joiner that shares this process's memory (CLONE_VM) may not change its time
  // namespace (timens_install: not single-threaded -> EUSERS), which setns validates after UTS.
  // So setns(UTS|TIME) must fail as a whole and leave the already validated UTS join uncommitted,
  // while setns(UTS) alone from such a joiner succeeds.
  all_or_nothing: () => {
    const gate = pidfdSetnsGate();
    if (gate) return gate;
    const noCap = needsCapSysAdmin('setns(pidfd, UTS|TIME)');
    if (noCap) return noCap;
    const types = present();
    if (!types.some((t) => t.name === 'time')) return absentType('time', types);
    const t = target(types);
    const both = join(t.pidfd, CLONE.NEWUTS | CLONE_NEWTIME, BigInt(CLONE.VM));
    const alone = join(t.pidfd, CLONE.NEWUTS, BigInt(CLONE.VM));
    return {
      uts_time: both.errno ?? 'result 0', uts_after: whereIs(both.joiner, t.pid, 'uts'), time_after: whereIs(both.joiner, t.pid, 'time'),
      uts_alone: alone.errno ?? 'result 0', uts_alone_after: whereIs(alone.joiner, t.pid, 'uts'),
    };
  },
  // invalid_flags: 0, -1, CLONE_VM and CLONE_NEWUSER|CLONE_VM through a pidfd are refused.
  invalid_flags: () => {
    const gate = pidfdSetnsGate();
    if (gate) return gate;
    const fd = need('pidfd_open(getpid())', track(pidfdOpen(getpid())));
    const ask = (flags: number) => {
      const r = setns(fd, flags);
      return r.ok ? 'result 0' : r.errno;
    };
    return { flags_0: ask(0), flags_minus_1: ask(-1), clone_vm: ask(CLONE.VM), newuser_vm: ask(0x10000000 | CLONE.VM) };
  },
  // setns_einval: an fd that is neither a pidfd nor a namespace fd (a memfd).
  memfd: () => {
    const gate = pidfdSetnsGate();
    if (gate) return gate;
    const fd = track(sys('memfd_create', ['const char *', 'rostock'], ['uint', 1 /* MFD_CLOEXEC */]));
    return { memfd: ((r) => (r.ok ? 'result 0' : r.errno))(setns(need('memfd_create', fd), 0)) };
  },
});

// ---- pidfd_setns_test.c pidfd_derived_nsfd_incremental_setns: the nsfds of the namespace ioctls --
/** PIDFD_GET_<TYPE>_NAMESPACE of the target's pidfd, then a joiner setns()es into that nsfd. */
featureSuite('setns_pidfd_nsfds', {
  each_type: () => {
    const noCap = needsCapSysAdmin('setns into another process\'s namespaces');
    if (noCap) return noCap;
    const self = need('pidfd_open(getpid())', track(pidfdOpen(getpid())));
    const probe = ioctl(self, PIDFD_GET_NS.uts, 0); // 6.11: the kernel has the ioctls at all
    if (!probe.ok) return { errno: probe.errno };
    track(probe);
    const types = present();
    const t = target(types);
    const out: Record<string, string | number> = { result: 0 };
    for (const n of types) {
      const nsfd = track(ioctl(t.pidfd, PIDFD_GET_NS[n.name], 0));
      if (!nsfd.ok) {
        out[n.name] = `ioctl ${nsfd.errno}`;
        continue;
      }
      const { joiner, errno } = join(nsfd.value, n.flag);
      Object.assign(out, errno ? { [n.name]: errno } : placed(joiner, t.pid, [n.name]));
    }
    const missing = NS.filter((n) => !types.includes(n)).map((n) => n.name);
    return { ...out, ...(missing.length ? { absent_types: missing.join(' ') } : {}) };
  },
});
