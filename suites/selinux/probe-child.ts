// A probe that runs in a confined SELinux domain: suites/selinux.probe.ts writes the domain to
// /proc/thread-self/attr/exec and spawns `node dist/suites/selinux/probe-child.js NAME OUT ARGS`.
// It only observes: it writes { step: result|errno } as JSON to OUT and exits 0.
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { MSG_CTRUNC, P, POLL, SCM, SIG, SO, SOL_SOCKET, W } from '../lib/constants.js';
import { close, getpid, getsockopt, kill, poll, recvmsg, sendmsg, socketpair } from '../lib/libc.js';
import { fstatfsType, pidfdGetfd, pidfdOpen, pidfdSendSignal } from '../lib/pidfd.js';
import { reap, spawnChild, waitid } from '../lib/process.js';
import type { Observation } from '../lib/observation.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;

const r = (x: { ok: boolean; value?: unknown; errno?: string }): string | number => (x.ok ? 'ok' : x.errno!);

function selfContext(): string {
  try {
    return readFileSync('/proc/self/attr/current', 'utf8').replace(/\0/g, '').trim();
  } catch {
    return '';
  }
}

/** What identifies a pidfd in an AVC line: its /proc link and inode. */
function pidfdId(fd: number): { link: string } {
  try {
    return { link: readlinkSync(`/proc/self/fd/${fd}`) };
  } catch (e) {
    return { link: `unreadable: ${(e as Error).message}` };
  }
}

const probes: Record<string, (args: string[]) => Observation> = {
  // Test 1 (R1): every everyday pidfd operation, as a confined domain, on its own child.
  r1: () => {
    const o: Observation = {};
    const self = pidfdOpen(getpid());
    // Before 5.3 there is nothing to guard (and a child spawned now would never be killed).
    if (!self.ok) return { prereq: 'pidfd_open', errno: self.errno };
    o.pidfd_open = 'fd';
    Object.assign(o, pidfdId(self.value));
    const pid = spawnChild(['sleep', '30']);
    const fd = pidfdOpen(pid);
    o.pidfd_open_child = fd.ok ? 'fd' : fd.errno;
    if (fd.ok) {
      const p0 = poll(fd.value, POLL.IN, 0);
      o.poll_live = p0.ok ? p0.value : p0.errno;
      o.pidfd_send_signal = r(pidfdSendSignal(fd.value, SIG.KILL));
      const p1 = poll(fd.value, POLL.IN, 10_000);
      o.poll_exited = p1.ok ? ((p1.value & POLL.IN) !== 0 ? 'POLLIN' : p1.value) : p1.errno;
      const w = waitid(P.PIDFD, fd.value, W.EXITED);
      o.waitid = w.ok ? 'ok' : w.errno;
      o.waitid_status = w.ok ? w.value.status : null;
    } else {
      kill(pid, SIG.KILL); // never reached through the pidfd: reap would wait out its 30 s
      reap(pid);
    }
    const sp = socketpair(AF_UNIX, SOCK_STREAM);
    if (sp.ok) {
      const peer = getsockopt(sp.value[0], SOL_SOCKET, SO.PEERPIDFD, 4);
      o.so_peerpidfd = peer.ok ? 'fd' : peer.errno;
      if (peer.ok) {
        const pfd = peer.value.readInt32LE(0);
        o.so_peerpidfd_signal0 = r(pidfdSendSignal(pfd, 0));
        close(pfd);
      }
    } else o.so_peerpidfd = `socketpair ${sp.errno}`;
    // Positive control for the capture window: a denial the test policy must log (test 2).
    const s = fstatfsType(self.value);
    o.control_fstatfs = s.ok ? 'ok' : s.errno;
    return o;
  },

  // Test 2: fstatfs on a pidfd needs `filesystem getattr` on its superblock.
  statfs: () => {
    const fd = pidfdOpen(getpid());
    if (!fd.ok) return { prereq: 'pidfd_open', errno: fd.errno };
    const s = fstatfsType(fd.value);
    return { fstatfs: s.ok ? 'ok' : s.errno, f_type: s.ok ? s.value : null, ...pidfdId(fd.value) };
  },

  // Test 3: pidfd_send_signal and kill(2) under a `process signal`/`sigkill` denial.
  signal: ([target]) => {
    const pid = Number(target);
    const fd = pidfdOpen(pid);
    if (!fd.ok) return { prereq: 'pidfd_open(target)', errno: fd.errno };
    return {
      signal0_pidfd: r(pidfdSendSignal(fd.value, 0)),
      sigterm_pidfd: r(pidfdSendSignal(fd.value, SIG.TERM)),
      sigterm_kill: r(kill(pid, SIG.TERM)),
      sigkill_pidfd: r(pidfdSendSignal(fd.value, SIG.KILL)),
      sigkill_kill: r(kill(pid, SIG.KILL)),
    };
  },

  // Test 4: pidfd_getfd needs ptrace rights (PTRACE_MODE_ATTACH_REALCREDS) on the target.
  getfd: ([target]) => {
    const fd = pidfdOpen(Number(target));
    if (!fd.ok) return { prereq: 'pidfd_open(target)', errno: fd.errno };
    const g = pidfdGetfd(fd.value, 0);
    return { pidfd_getfd: g.ok ? 'fd' : g.errno };
  },

  // Test 5, sender: one SCM_RIGHTS message carrying a pidfd of itself.
  send: ([sock]) => {
    const fd = pidfdOpen(getpid());
    if (!fd.ok) return { prereq: 'pidfd_open', errno: fd.errno };
    const data = Buffer.alloc(4);
    data.writeInt32LE(fd.value);
    const s = sendmsg(Number(sock), Buffer.from('P'), [{ level: SOL_SOCKET, type: SCM.RIGHTS, data }]);
    return { sendmsg: s.ok ? 'ok' : s.errno, ...pidfdId(fd.value) };
  },

  // Test 5, receiver: N messages; per message, did the fd arrive and was MSG_CTRUNC set?
  recv: ([sock, count]) => {
    const msgs: Observation[] = [];
    for (let i = 0; i < Number(count); i++) {
      const p = poll(Number(sock), POLL.IN, 10_000);
      if (!p.ok || p.value === 0) {
        msgs.push({ poll: p.ok ? 'timeout' : p.errno });
        break;
      }
      const m = recvmsg(Number(sock), 1, 64);
      if (!m.ok) {
        msgs.push({ recvmsg: m.errno });
        break;
      }
      const fds = m.value.cmsgs.filter((c) => c.level === SOL_SOCKET && c.type === SCM.RIGHTS).flatMap((c) => {
        const out: number[] = [];
        for (let off = 0; off + 4 <= c.data.length; off += 4) out.push(c.data.readInt32LE(off));
        return out;
      });
      msgs.push({ bytes: m.value.bytes, ctrunc: (m.value.flags & MSG_CTRUNC) !== 0, fds: fds.length, links: fds.map((f) => pidfdId(f).link) });
    }
    return { messages: msgs };
  },

  // Who am I: the context a spawned child really got.
  whoami: () => ({ context: selfContext() }),
};

function main(): void {
  const [name, out, ...args] = process.argv.slice(2);
  const probe = probes[name];
  let obs: Observation;
  try {
    obs = probe ? probe(args) : { error: `unknown probe '${name}'` };
  } catch (e) {
    obs = { error: (e as Error).stack ?? String(e) };
  }
  obs.context = obs.context ?? selfContext();
  writeFileSync(out, JSON.stringify(obs) + '\n');
}

main();
