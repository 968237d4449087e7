// SO_PEERPIDFD, SO_PASSPIDFD / SCM_PIDFD (6.5), reaped peers (R10, 6.16) and reaped senders
// (6.17): reference §2 row 18, §7 R10. Peers that must exit are clone3 children running a
// single connect()/write() (suites/lib/stub.ts), so the kernel records *their* pid.
import { PIDFD_INFO, SCM, SO, SOL_SOCKET, MSG_CTRUNC } from './lib/constants.js';
import { abstractUnixAddr, accept4, addressOf, errnoName, bind, getpid, getsockopt, listen, recvmsg, sendmsg, setsockoptInt, socket, socketpair, type Res } from './lib/libc.js';
import { getInfo, maskNames } from './lib/pidfd-info.js';
import { fdinfo, fstatfsType, hex, need, track } from './lib/pidfd.js';
import { reap } from './lib/process.js';
import { clone3Code, syscallThenExitCode, STUB_NR } from './lib/stub.js';
import { featureSuite } from './lib/feature-test.js';

const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0o2000000;

function pair(type: number): [number, number] {
  const r = socketpair(AF_UNIX, type | SOCK_CLOEXEC);
  const [a, b] = need('socketpair', r);
  track({ ok: true, value: a });
  track({ ok: true, value: b });
  return [a, b];
}

/** What a pidfd returned by the socket layer refers to (fdinfo Pid:, fs magic). */
function describePidfd(fd: number) {
  track({ ok: true, value: fd });
  const info = fdinfo(fd);
  const ft = fstatfsType(fd);
  return { pid_line: info.lines.Pid ?? 'missing', f_type: ft.ok ? hex(ft.value) : ft.errno };
}

function peerPidfd(sock: number): Res<number> {
  const r = getsockopt(sock, SOL_SOCKET, SO.PEERPIDFD, 4);
  return r.ok ? { ok: true, value: r.value.readInt32LE(0) } : r;
}

/** Exit info of a pidfd whose task was reaped (6.15+), for the record. */
function exitInfo(fd: number) {
  const r = getInfo(fd, PIDFD_INFO.EXIT);
  if (!r.ok) return { exit_info: r.errno };
  return { exit_info: maskNames(r.value.mask).includes('EXIT') ? `status ${hex(r.value.exitCode)}` : 'no EXIT bit' };
}

let seq = 0;
/** A listening abstract AF_UNIX socket and a clone3 child that connected to it and exited. */
function connectFromChild(): { lst: number; child: number } {
  const addr = abstractUnixAddr(`pidfd-matrix-${getpid()}-${seq++}`);
  const lst = need('socket(listener)', track(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)));
  need('bind', bind(lst, addr));
  need('listen', listen(lst));
  const cli = need('socket(client)', track(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)));
  const child = need('clone3(connect child)', clone3Code(0n, syscallThenExitCode(STUB_NR.connect, [cli, addressOf(addr), addr.length])));
  return { lst, child };
}

/**
 * A listening socket and an accepted connection whose peer is a clone3 child that ran
 * connect() and exited (status 0), reaped before this returns. value: accepted socket.
 */
function reapedPeerConnection(): { accepted: number; child: number } {
  const { lst, child } = connectFromChild();
  const si = reap(child);
  if (!si || si.status !== 0) throw new Error(`connect child failed: ${JSON.stringify(si)}`);
  const accepted = need('accept4', track(accept4(lst)));
  return { accepted, child };
}

featureSuite('so_peerpidfd', {
  socketpair_self: () => {
    const [a] = pair(SOCK_STREAM);
    const r = peerPidfd(a);
    if (!r.ok) return { errno: r.errno };
    const d = describePidfd(r.value);
    return { result: 'fd', pid_matches: d.pid_line === String(getpid()), ...d };
  },
  live_child_peer: () => {
    // connect from a child that then exits but is not reaped: still a task (zombie) -> pidfd
    const { lst, child } = connectFromChild();
    const accepted = need('accept4', track(accept4(lst)));
    const r = peerPidfd(accepted);
    if (!r.ok) return { errno: r.errno, child };
    const d = describePidfd(r.value);
    return { result: 'fd', pid_matches: d.pid_line === String(child), ...d, child };
  },
});

featureSuite('so_peerpidfd_reaped', {
  reaped_peer: () => {
    const [a] = pair(SOCK_STREAM);
    need('SO_PEERPIDFD(socketpair)', peerPidfd(a)); // 6.5+: otherwise a missing prerequisite
    const { accepted, child } = reapedPeerConnection();
    const r = peerPidfd(accepted);
    if (!r.ok) return { errno: r.errno, child };
    const d = describePidfd(r.value);
    return { result: 'fd', ...d, ...exitInfo(r.value), child };
  },
});

function passPidfdRecv(recvSock: number) {
  const m = need('recvmsg', recvmsg(recvSock, 64, 256));
  const c = m.cmsgs.find((x) => x.level === SOL_SOCKET && x.type === SCM.PIDFD);
  return { m, value: c ? c.data.readInt32LE(0) : null };
}

featureSuite('so_passpidfd', {
  scm_pidfd_self: () => {
    const [a, b] = pair(SOCK_DGRAM);
    const s = setsockoptInt(b, SOL_SOCKET, SO.PASSPIDFD, 1);
    if (!s.ok) return { errno: s.errno, step: 'setsockopt(SO_PASSPIDFD)' };
    need('sendmsg', sendmsg(a, Buffer.from('x')));
    const { m, value } = passPidfdRecv(b);
    if (value === null) return { scm_pidfd: 'none', ctrunc: (m.flags & MSG_CTRUNC) !== 0 };
    if (value < 0) return { scm_pidfd: 'errno', scm_errno: errnoName(-value) };
    const d = describePidfd(value);
    return { scm_pidfd: 'fd', pid_matches: d.pid_line === String(getpid()), ...d };
  },
  getsockopt_reads_back: () => {
    const [, b] = pair(SOCK_DGRAM);
    const s = setsockoptInt(b, SOL_SOCKET, SO.PASSPIDFD, 1);
    if (!s.ok) return { errno: s.errno, step: 'setsockopt(SO_PASSPIDFD)' };
    const g = need('getsockopt(SO_PASSPIDFD)', getsockopt(b, SOL_SOCKET, SO.PASSPIDFD, 4));
    return { passpidfd: g.readInt32LE(0) };
  },
});

featureSuite('scm_pidfd_reaped', {
  reaped_sender: () => {
    const [a, b] = pair(SOCK_DGRAM);
    need('setsockopt(SO_PASSPIDFD)', setsockoptInt(b, SOL_SOCKET, SO.PASSPIDFD, 1)); // 6.5+
    const byte = Buffer.from('x');
    const child = need('clone3(write child)', clone3Code(0n, syscallThenExitCode(STUB_NR.write, [a, addressOf(byte), 1])));
    const si = reap(child);
    if (!si || si.status !== 0) return { prereq: 'child write()', errno: si ? `status ${si.status}` : 'ECHILD' };
    const { m, value } = passPidfdRecv(b);
    if (value === null) return { scm_pidfd: 'none', ctrunc: (m.flags & MSG_CTRUNC) !== 0, child };
    // <= 6.16 puts pidfd_prepare()'s negative errno into the cmsg instead of an fd [D]
    if (value < 0) return { scm_pidfd: 'errno', scm_errno: errnoName(-value), child };
    const d = describePidfd(value);
    return { scm_pidfd: 'fd', ...d, ...exitInfo(value), child };
  },
});
