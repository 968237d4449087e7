// Coredumps that hand out pidfds: the coredump socket (core_pattern "@/path", 6.16), its
// request/ack protocol ("@@/path", 6.17), the pipe helper's pidfd (%F, 6.16, taken by the LTS
// series in June 2025) and coredump information that outlives every pidfd (6.17, "pidfs: persist
// information"). kernel.core_pattern is one value for the whole system: these cases set it only
// when the run owns the system (needs: own-core-pattern) and always write the old value back.
// The crashing task is a `sleep` child killed with SIGSEGV (its default action dumps core).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { AT_EMPTY_PATH, CLD, O, P, PIDFD_INFO, PIDFD_INFO_SIZE, POLL, SIG, SO, SOL_SOCKET, W } from './lib/constants.js';
import { accept4, bind, close, getpid, getsockopt, kill, listen, poll, read, socket, write, type Res } from './lib/libc.js';
import { getInfo } from './lib/pidfd-info.js';
import { fdinfo, need, pidfdOpen, track } from './lib/pidfd.js';
import { sleepMs, spawnChild, waitid, type SigInfo } from './lib/process.js';
import { nameToHandle, openByHandle } from './lib/fhandle.js';
import { SETUP_ERROR, type Observation } from './lib/observation.js';
import { featureSuite } from './lib/feature-test.js';

const CORE_PATTERN = '/proc/sys/kernel/core_pattern';
const AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0o2000000;
/** How long a dump may take under TCG before the probe gives up waiting. */
const WAIT_MS = 20_000;

/** PIDFD_COREDUMPED, _SKIP, _USER, _ROOT (include/uapi/linux/pidfd.h, 6.16) as names. */
function coredumpNames(mask: number): string {
  const names = [[1, 'COREDUMPED'], [2, 'SKIP'], [4, 'USER'], [8, 'ROOT']] as const;
  const known = names.filter(([b]) => mask & b).map(([, n]) => n);
  const rest = mask & ~0xf;
  return [...known, ...(rest ? [`0x${rest.toString(16)}`] : [])].join(' ') || 'none';
}

/** COREDUMP_KERNEL, _USERSPACE, _REJECT, _WAIT (include/uapi/linux/coredump.h, 6.17) as names. */
const REQ = { KERNEL: 1n, USERSPACE: 2n, REJECT: 4n, WAIT: 8n } as const;
const reqNames = (m: bigint) =>
  (Object.entries(REQ) as [string, bigint][]).filter(([, b]) => m & b).map(([n]) => n).join(' ') || 'none';
const MARKS = ['REQACK', 'MINSIZE', 'MAXSIZE', 'UNSUPPORTED', 'CONFLICTING'];

/** A private directory under /run (tmpfs here, and reachable from init's root, where the kernel looks). */
function workDir(): string {
  return mkdtempSync(existsSync('/run') ? '/run/pidfd-matrix-coredump-' : '/tmp/pidfd-matrix-coredump-');
}

/** `body` with a fresh work directory, removed afterwards. */
function inWorkDir(body: (dir: string) => Observation): Observation {
  const dir = workDir();
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write kernel.core_pattern; the errno name when the kernel refuses the value. */
function setCorePattern(value: string): string | null {
  try {
    writeFileSync(CORE_PATTERN, value);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

/**
 * Run `body` with core_pattern set to `pattern`, then write the old value back whatever happened.
 * A refused value is the observation `{ set_pattern: errno }` (the kernel's answer to the pattern).
 */
function withCorePattern(pattern: string, body: () => Observation): Observation {
  const old = readFileSync(CORE_PATTERN, 'utf8').replace(/\n$/, '');
  const refused = setCorePattern(pattern);
  if (refused) return { set_pattern: refused };
  try {
    return body();
  } finally {
    const back = setCorePattern(old);
    if (back) throw new Error(`could not restore kernel.core_pattern to '${old}': ${back}`);
  }
}

function unixAddr(path: string): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(path) + 1);
  b.writeUInt16LE(AF_UNIX, 0);
  b.write(path, 2);
  return b;
}

/** waitid(WEXITED|WNOWAIT|WNOHANG): the child's siginfo once it exited (left a zombie), else null. */
function exitedNoReap(pid: number): SigInfo | null {
  const r = waitid(P.PID, pid, W.EXITED | W.NOWAIT | W.NOHANG);
  return r.ok && r.value.pid === pid ? r.value : null;
}

function waitExit(pid: number, ms = WAIT_MS): SigInfo | null {
  for (const end = Date.now() + ms; Date.now() < end; sleepMs(50)) {
    const si = exitedNoReap(pid);
    if (si) return si;
  }
  return null;
}

/** Exactly `n` bytes (or fewer at EOF), each read after poll() says there is data. */
function readN(fd: number, n: number, ms = WAIT_MS): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  for (const end = Date.now() + ms; got < n;) {
    const p = need('poll(coredump connection)', poll(fd, POLL.IN, Math.max(1, end - Date.now())));
    if (p === 0) throw new Error(`no data on the coredump connection within ${ms} ms (${got}/${n} bytes)`);
    const b = need('read(coredump connection)', read(fd, n - got));
    if (b.length === 0) break;
    parts.push(b);
    got += b.length;
  }
  return Buffer.concat(parts);
}

/**
 * Everything up to EOF: its size and whether it starts as an ELF file does. The kernel closing
 * its end with some of our ack unread (a bad size it only peeked at) ends it with ECONNRESET.
 */
function readToEof(fd: number, ms = WAIT_MS): { bytes: number; elf: boolean } {
  let bytes = 0, head = Buffer.alloc(0);
  for (const end = Date.now() + ms; ;) {
    const p = need('poll(coredump connection)', poll(fd, POLL.IN | POLL.HUP, Math.max(1, end - Date.now())));
    if (p === 0) throw new Error(`the coredump connection did not end within ${ms} ms (${bytes} bytes read)`);
    const r = read(fd, 65536);
    if (!r.ok && r.errno === 'ECONNRESET') break;
    const b = need('read(coredump connection)', r);
    if (b.length === 0) break;
    if (head.length < 4) head = Buffer.concat([head, b]).subarray(0, 4);
    bytes += b.length;
  }
  return { bytes, elf: head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])) };
}

/** conn: the accepted coredump connection; hangUp() closes it (once; ends COREDUMP_WAIT). */
interface Crash { child: number; conn: number | null; si: SigInfo | null; pidfd: number | null; hangUp: () => void }

/**
 * A listening socket at <work dir>/core.sock, core_pattern `${prefix}<that path>`, and a child that
 * gets SIGSEGV. Waits until the kernel connects (value: the accepted socket) or the child has
 * exited without a connection (conn null: the kernel took the pattern for a file name).
 */
function crashIntoSocket(prefix: '@' | '@@', serve: (c: Crash) => Observation, o: { pidfd?: boolean } = {}): Observation {
  return inWorkDir((dir) => crashInto(`${dir}/core.sock`, prefix, serve, o));
}

function crashInto(path: string, prefix: '@' | '@@', serve: (c: Crash) => Observation, o: { pidfd?: boolean }): Observation {
  // Closed here, never tracked: a number closed twice could be another fd by then.
  const lst = need('socket(AF_UNIX)', socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC));
  let conn: number | null = null;
  const hangUp = () => {
    if (conn !== null) close(conn);
    conn = null;
  };
  try {
    need(`bind(${path})`, bind(lst, unixAddr(path)));
    need('listen', listen(lst));
    return crashWith(lst, `${prefix}${path}`, serve, o, (c) => (conn = c), hangUp);
  } finally {
    hangUp();
    close(lst);
  }
}

function crashWith(
  lst: number, pattern: string, serve: (c: Crash) => Observation, o: { pidfd?: boolean },
  accepted: (conn: number) => void, hangUp: () => void,
): Observation {
  return withCorePattern(pattern, () => {
    const child = spawnChild(['sleep', '30']);
    const pidfd = o.pidfd ? need('pidfd_open(child)', track(pidfdOpen(child))) : null;
    need('kill(child, SIGSEGV)', kill(child, SIG.SEGV));
    let si: SigInfo | null = null;
    for (const end = Date.now() + WAIT_MS; Date.now() < end;) {
      const p = need('poll(listener)', poll(lst, POLL.IN, 100));
      if (p & POLL.IN) break;
      si = exitedNoReap(child);
      // Exited: a connection the kernel made would be queued by now (connect precedes the dump).
      if (si) break;
    }
    const ready = need('poll(listener)', poll(lst, POLL.IN, 0)) & POLL.IN;
    if (!ready && !si) return { [SETUP_ERROR]: `the SIGSEGV child neither connected nor exited within ${WAIT_MS} ms` };
    const conn = ready ? need('accept4(listener)', accept4(lst)) : null;
    if (conn !== null) accepted(conn);
    return serve({ child, conn, si, pidfd, hangUp });
  });
}

function peerPidfd(sock: number): Res<number> {
  const r = getsockopt(sock, SOL_SOCKET, SO.PEERPIDFD, 4);
  return r.ok ? { ok: true, value: r.value.readInt32LE(0) } : r;
}

/** PIDFD_GET_INFO(COREDUMP) of a pidfd as names; 'no COREDUMP bit' before 6.16. */
function coredumpOf(pidfd: number): string {
  const r = getInfo(pidfd, PIDFD_INFO.COREDUMP, PIDFD_INFO_SIZE.VER1);
  if (!r.ok) return r.errno;
  return (r.value.mask & PIDFD_INFO.COREDUMP) ? coredumpNames(r.value.coredumpMask) : 'no COREDUMP bit';
}

const dumped = (si: SigInfo | null) => (si ? si.code === CLD.DUMPED : 'child did not exit');

/** The coredump_req the kernel sends on "@@" sockets, then our ack with `mask`, then its mark. */
function requestAck(conn: number, mask: bigint, ackSize = 16) {
  const req = readN(conn, 16);
  if (req.length < 16) return { req_bytes: req.length };
  const size = req.readUInt32LE(0), sizeAck = req.readUInt32LE(4), reqMask = req.readBigUInt64LE(8);
  if (size > 16) readN(conn, size - 16); // a larger request of a later kernel: the rest is not ours to read
  // ackSize: what the ack says it is and what is sent (8: too small, 16 + 4096: too large)
  const ack = Buffer.alloc(Math.max(ackSize, 16));
  ack.writeUInt32LE(ackSize, 0);
  ack.writeBigUInt64LE(mask, 8);
  need('write(coredump_ack)', write(conn, ack.subarray(0, ackSize)));
  const m = readN(conn, 4);
  const mark = m.length === 4 ? (MARKS[m.readUInt32LE(0)] ?? `mark ${m.readUInt32LE(0)}`) : `${m.length} bytes`;
  return { req_size: size, req_size_ack: sizeAck, req_mask: reqNames(reqMask), mark };
}

/** selftest socket_invalid_paths: socket names the kernel must refuse as they are written (6.17). */
const INVALID_SOCKET_PATTERNS = [
  '@ /tmp/coredump.socket', '@/tmp/../coredump.socket', '@../coredump.socket', '@/tmp/coredump.socket/..', '@..',
  '@@ /tmp/coredump.socket', '@@/tmp/../coredump.socket', '@@../coredump.socket', '@@/tmp/coredump.socket/..', '@@..',
  '@@@/tmp/coredump.socket',
];

featureSuite('coredump_socket', {
  core_modes: () => {
    const path = '/proc/sys/kernel/core_modes';
    if (!existsSync(path)) return { core_modes: 'absent' };
    return { core_modes: readFileSync(path, 'utf8').trim().split(/\s+/).join(' ') };
  },
  invalid_paths: () => {
    const old = readFileSync(CORE_PATTERN, 'utf8').replace(/\n$/, '');
    const accepted: string[] = [], errnos = new Set<string>();
    try {
      for (const p of INVALID_SOCKET_PATTERNS) {
        const e = setCorePattern(p);
        if (e) errnos.add(e);
        else accepted.push(p);
      }
    } finally {
      const back = setCorePattern(old);
      if (back) throw new Error(`could not restore kernel.core_pattern to '${old}': ${back}`);
    }
    return {
      accepted: accepted.length, refused_with: [...errnos].sort().join(' ') || 'none',
      accepted_patterns: accepted.join(' | ') || 'none',
    };
  },
  server_peer_pidfd: () => crashIntoSocket('@', ({ child, conn, si, hangUp }) => {
    if (conn === null) return { connected: false, dumped: dumped(si) };
    const peer = need('SO_PEERPIDFD(coredump connection)', track(peerPidfd(conn)));
    const pidLine = fdinfo(peer).lines.Pid;
    const peerCoredump = coredumpOf(peer);
    const core = readToEof(conn);
    hangUp();
    return {
      connected: true, peer_pid_matches: pidLine === String(child), peer_coredump: peerCoredump,
      elf_magic: core.elf, dumped: dumped(waitExit(child)),
    };
  }),
});

featureSuite('coredump_socket_protocol', {
  request_kernel: () => crashIntoSocket('@@', ({ child, conn, si, hangUp }) => {
    if (conn === null) return { connected: false, dumped: dumped(si) };
    const proto = requestAck(conn, REQ.KERNEL | REQ.WAIT);
    const core = readToEof(conn);
    hangUp(); // COREDUMP_WAIT: the task exits only once the server closed the connection
    return { connected: true, ...proto, elf_magic: core.elf, dumped: dumped(waitExit(child)) };
  }),
  request_userspace: () => crashIntoSocket('@@', ({ child, conn, si, hangUp }) => {
    if (conn === null) return { connected: false, dumped: dumped(si) };
    const proto = requestAck(conn, REQ.USERSPACE | REQ.WAIT);
    const rest = readToEof(conn);
    hangUp();
    return { connected: true, ...proto, bytes_after_mark: rest.bytes, dumped: dumped(waitExit(child)) };
  }),
  // selftests socket_request_invalid_flag_combination, _unknown_flag, _invalid_size_small/_large:
  // one crash each; the kernel answers each bad ack with its mark and dumps nothing.
  bad_acks: () => {
    const acks: [string, bigint, number][] = [
      ['conflicting', REQ.KERNEL | REQ.REJECT | REQ.WAIT, 16], ['unknown_flag', 1n << 63n, 16],
      ['size_small', REQ.REJECT | REQ.WAIT, 8], ['size_large', REQ.REJECT | REQ.WAIT, 16 + 4096],
    ];
    const out: Observation = {};
    for (const [name, mask, size] of acks) {
      const o = crashIntoSocket('@@', ({ child, conn, si, hangUp }) => {
        if (conn === null) return { connected: false, dumped: dumped(si) };
        const { mark } = requestAck(conn, mask, size);
        const rest = readToEof(conn);
        hangUp();
        return { connected: true, mark, bytes_after_mark: rest.bytes, dumped: dumped(waitExit(child)) };
      });
      // a kernel without the protocol answers the first one like every other: stop there
      if (o.connected !== true) return o;
      out[name] = `${o.mark}, ${o.bytes_after_mark} bytes, ${o.dumped === true ? 'dumped' : 'not dumped'}`;
    }
    return { connected: true, ...out };
  },
  request_reject: () => crashIntoSocket('@@', ({ child, conn, si, hangUp }) => {
    if (conn === null) return { connected: false, dumped: dumped(si) };
    const proto = requestAck(conn, REQ.REJECT);
    const rest = readToEof(conn);
    hangUp();
    return { connected: true, ...proto, bytes_after_mark: rest.bytes, dumped: dumped(waitExit(child)) };
  }),
});

// The helper reads what the kernel gave it (argument and fd 3) before it drains the dump, so the
// crashing task is still alive (blocked writing the pipe) when fdinfo names its pid.
const HELPER = `#!/bin/sh
# $1: where to write; $2: what %F expanded to (empty when the kernel drops the specifier)
o=$1
l=$(readlink /proc/$$/fd/3 2>/dev/null) || l=none
{ echo "argc=$#"; echo "arg=\${2-none}"; echo "fd3=$l"; grep '^Pid:' /proc/$$/fdinfo/3 2>/dev/null; } > "$o.tmp"
mv "$o.tmp" "$o"
cat > /dev/null
`;

/** The helper's "key=value" and "Pid:\tN" lines as a map. */
function helperLines(text: string): Record<string, string> {
  const kv: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^(\w+)[=:]\s*(.*)$/.exec(l);
    if (m) kv[m[1]] = m[2];
  }
  return kv;
}

featureSuite('coredump_pipe_pidfd', {
  helper_fd3: () => inWorkDir((dir) => {
    const script = `${dir}/helper.sh`, out = `${dir}/helper.out`;
    writeFileSync(script, HELPER, { mode: 0o755 });
    // sh reads the script: a noexec /run cannot stop the helper.
    return withCorePattern(`|/bin/sh ${script} ${out} %F`, () => {
      const child = spawnChild(['sleep', '30']);
      need('kill(child, SIGSEGV)', kill(child, SIG.SEGV));
      for (const end = Date.now() + WAIT_MS; !existsSync(out) && Date.now() < end;) sleepMs(50);
      const si = waitExit(child);
      if (!existsSync(out)) {
        const state = si ? 'exited' : 'still running';
        return { [SETUP_ERROR]: `the core_pattern helper (/bin/sh ${script}) wrote nothing in ${WAIT_MS} ms (child ${state})` };
      }
      const kv = helperLines(readFileSync(out, 'utf8'));
      const fd3 = kv.fd3 === 'none' ? 'none' : /pidfd/.test(kv.fd3 ?? '') ? 'pidfd' : `other: ${kv.fd3}`;
      return {
        helper_ran: true, arg: kv.arg, fd3, ...(fd3 === 'pidfd' ? { pid_matches: kv.Pid === String(child) } : {}),
        dumped: dumped(si),
      };
    });
  }),
});

featureSuite('pidfs_persist_info', {
  // 6.17 keeps exit and coredump information on the struct pid (pidfs_attr); before, it lived in
  // the pidfs inode, freed with the last pidfd. Nothing here holds a pidfd across the dump but the
  // server's SO_PEERPIDFD one, whose file handle is taken and which is closed with the connection
  // before the task (a zombie, never reaped here) is reopened from that handle.
  coredump_after_close: () => crashIntoSocket('@', ({ child, conn, si, hangUp }) => {
    if (conn === null) return { connected: false, dumped: dumped(si) };
    const peer = need('SO_PEERPIDFD(coredump connection)', peerPidfd(conn));
    const h = nameToHandle(peer, AT_EMPTY_PATH);
    const before = coredumpOf(peer);
    readToEof(conn);
    close(peer);
    hangUp();
    const done = waitExit(child);
    if (!h.ok) return { connected: true, handle: h.errno };
    const self = need('pidfd_open(self)', track(pidfdOpen(getpid())));
    const again = track(openByHandle(self, h.value, O.RDONLY | O.CLOEXEC));
    if (!again.ok) return { connected: true, reopened: again.errno, dumped: dumped(done) };
    return {
      connected: true, while_open: before, reopened: 'fd', reopened_coredump: coredumpOf(again.value), dumped: dumped(done),
    };
  }),
});

featureSuite('pidfd_info_coredump_signal', {
  socket_dump: () => crashIntoSocket('@', ({ child, conn, si, pidfd, hangUp }) => {
    if (conn === null) return { connected: false, dumped: dumped(si) };
    readToEof(conn);
    hangUp();
    const done = waitExit(child);
    const r = need('PIDFD_GET_INFO(COREDUMP|COREDUMP_SIGNAL)',
      getInfo(pidfd!, PIDFD_INFO.COREDUMP | PIDFD_INFO.COREDUMP_SIGNAL, PIDFD_INFO_SIZE.VER1));
    const bit = (r.mask & PIDFD_INFO.COREDUMP_SIGNAL) !== 0n;
    return {
      connected: true, coredump: coredumpNames(r.coredumpMask), coredump_signal_bit: bit,
      ...(bit ? { coredump_signal: r.coredumpSignal } : {}), dumped: dumped(done),
    };
  }, { pidfd: true }),
});
