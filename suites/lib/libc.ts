// The only module that talks to libc through koffi. Every wrapper returns a Res: a value or
// an errno *name* read right after the call (koffi.errno()), never a bare -1.
import koffi from 'koffi';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { ARCH, NR, type SyscallName } from './constants.js';

const libc = koffi.load('libc.so.6');
/**
 * dlopen/dlsym: in libc.so.6 from glibc 2.34, in libdl.so.2 before (bullseye's 2.31), where
 * the runner died at import with "Cannot find function 'dlsym'" in a bullseye container.
 */
export const libdl = (() => {
  try {
    libc.func('void *dlsym(void *, const char *)');
    return libc;
  } catch {
    return koffi.load('libdl.so.2');
  }
})();

export type Res<T = number> = { ok: true; value: T } | { ok: false; errno: string };

const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);
// Linux errnos Node's table lacks.
for (const [n, name] of [[66, 'EREMOTE'], [87, 'EUSERS'], [524, 'ENOTSUPP'], [512, 'ERESTARTSYS']] as const) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);

export function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `E#${n}`;
}

function res(ret: number | bigint): Res {
  const n = Number(ret);
  if (n === -1) return { ok: false, errno: errnoName(koffi.errno()) };
  return { ok: true, value: n };
}

/** Typed variadic argument for syscall(2): ['int', 5], ['void *', buf], ... */
export type Arg = [string, unknown];

const _syscall = libc.func('long syscall(long, ...)');

/** Raw syscall(2): the kernel's answer without any libc wrapper logic. */
export function sys(name: SyscallName, ...args: Arg[]): Res {
  const r = res(_syscall(NR[name], ...args.flat()));
  if (!r.ok && REFUSALS.has(r.errno)) askControl(name, r.errno);
  return r;
}

// ---- seccomp evidence ------------------------------------------------------------------
// Under a seccomp filter an ENOSYS/EPERM/EACCES may be the filter's, not the kernel's. The
// filter answers before the kernel looks at the arguments, so the same syscall is asked a
// second question with a bad argument, which the kernel itself answers EBADF or EINVAL: the
// same refusal again is the filter's. Only syscalls whose bad-argument call is harmless and
// checked before any permission check are asked (not fanotify_init, open_by_handle_at,
// io_uring_setup: the kernel itself checks capabilities first). For ENOSYS, whether the
// kernel has the syscall at all is read from /proc/kallsyms. The judge (harness/judge/judge.ts)
// decides from these records; the probe only observes.
const REFUSALS = new Set(['ENOSYS', 'EPERM', 'EACCES']);
const CONTROL_ARGS: Partial<Record<SyscallName, Arg[]>> = {
  pidfd_open: [['int', -1], ['uint', 0]],                                         // EINVAL
  pidfd_send_signal: [['int', -1], ['int', 0], ['void *', null], ['uint', 0]],    // EBADF
  pidfd_getfd: [['int', -1], ['int', 0], ['uint', 0]],                             // EBADF
  clone3: [['void *', null], ['size_t', 0]],                                       // EINVAL
  process_madvise: [['int', -1], ['void *', null], ['size_t', 0], ['int', 0], ['uint', 0]], // EINVAL/EBADF
  process_mrelease: [['int', -1], ['uint', 0]],                                    // EBADF
  waitid: [['int', 3 /* P_PIDFD */], ['int', -1], ['void *', null], ['int', 4 /* WEXITED */], ['void *', null]], // EBADF (EINVAL < 5.4)
  setns: [['int', -1], ['int', 0]],                                                // EBADF
  ioctl: [['int', -1], ['ulong', 0], ['ulong', 0]],                                // EBADF
  fstatfs: [['int', -1], ['void *', null]],                                        // EBADF
  name_to_handle_at: [['int', -1], ['void *', null], ['void *', null], ['void *', null], ['int', -1]], // EINVAL (flags)
};

/** One refusal under a seccomp filter and the answer to its control question. */
export interface SeccompControl { syscall: string; errno: string; control_errno: string; in_kallsyms: boolean | null }
const controls: SeccompControl[] = [];
let filtered: boolean | null = null;

function seccompFiltered(): boolean {
  if (filtered === null) {
    try {
      filtered = /^Seccomp:\s*2/m.test(readFileSync('/proc/self/status', 'utf8'));
    } catch {
      filtered = false;
    }
  }
  return filtered;
}

let kallsyms: Set<string> | null | undefined;
/** Whether the running kernel has sys_<name> (null: /proc/kallsyms unreadable). */
function kernelHasSyscall(name: string): boolean | null {
  if (kallsyms === undefined) {
    try {
      const names = new Set<string>();
      for (const m of readFileSync('/proc/kallsyms', 'utf8').matchAll(/ [Tt] (?:__(?:x64|arm64|ia32|se)_)?sys_(\w+)$/gm)) names.add(m[1]);
      kallsyms = names.size ? names : null;
    } catch {
      kallsyms = null;
    }
  }
  return kallsyms ? kallsyms.has(name) : null;
}

/** Ask the control question for a refusal seen elsewhere (e.g. in a machine-code child). */
export function askControl(name: SyscallName, errno: string): void {
  if (!REFUSALS.has(errno)) return;
  const args = CONTROL_ARGS[name];
  if (!args || !seccompFiltered() || controls.length > 32) return;
  const c = res(_syscall(NR[name], ...args.flat()));
  controls.push({ syscall: name, errno, control_errno: c.ok ? `result ${c.value}` : c.errno, in_kallsyms: errno === 'ENOSYS' ? kernelHasSyscall(name) : null });
}

/** The control records since the last call (the suite attaches them to the case's observation). */
export function takeSeccompControls(): SeccompControl[] {
  return controls.splice(0);
}

const f = {
  close: libc.func('int close(int)'),
  fcntl: libc.func('int fcntl(int, int, ...)'),
  read: libc.func('long read(int, void *, size_t)'),
  write: libc.func('long write(int, const void *, size_t)'),
  open: libc.func('int open(const char *, int, ...)'),
  poll: libc.func('int poll(void *, unsigned long, int)'),
  epoll_create1: libc.func('int epoll_create1(int)'),
  epoll_ctl: libc.func('int epoll_ctl(int, int, int, void *)'),
  epoll_wait: libc.func('int epoll_wait(int, void *, int, int)'),
  eventfd: libc.func('int eventfd(unsigned int, int)'),
  socketpair: libc.func('int socketpair(int, int, int, _Out_ int *sv)'),
  getsockopt: libc.func('int getsockopt(int, int, int, void *, _Inout_ uint32_t *len)'),
  setsockopt: libc.func('int setsockopt(int, int, int, void *, uint32_t)'),
  sendmsg: libc.func('long sendmsg(int, void *, int)'),
  recvmsg: libc.func('long recvmsg(int, void *, int)'),
  kill: libc.func('int kill(int, int)'),
  getpid: libc.func('int getpid()'),
  dlsym: libdl.func('void *dlsym(void *, const char *)'),
  mmap: libc.func('void *mmap(void *, size_t, int, int, int, long)'),
  clone: libc.func('int clone(void *fn, void *stack, int flags, void *arg, ...)'),
  memcpyTo: libc.func('void *memcpy(uintptr_t, const void *, size_t)'),
  posix_spawnp: libc.func('int posix_spawnp(_Out_ int *pid, const char *file, void *fa, void *attr, const char **argv, const char **envp)'),
  unshare: libc.func('int unshare(int)'),
  socket: libc.func('int socket(int, int, int)'),
  bind: libc.func('int bind(int, void *, uint32_t)'),
  listen: libc.func('int listen(int, int)'),
  accept4: libc.func('int accept4(int, void *, void *, int)'),
  fsetxattr: libc.func('int fsetxattr(int, const char *, const void *, size_t, int)'),
  fgetxattr: libc.func('long fgetxattr(int, const char *, void *, size_t)'),
  flistxattr: libc.func('long flistxattr(int, void *, size_t)'),
  fremovexattr: libc.func('int fremovexattr(int, const char *)'),
};

export const close = (fd: number): Res => res(f.close(fd));
export const fcntl = (fd: number, cmd: number, arg = 0): Res => res(f.fcntl(fd, cmd, 'int', arg));
export const open = (path: string, flags: number): Res => res(f.open(path, flags, 'int', 0));
export const kill = (pid: number, sig: number): Res => res(f.kill(pid, sig));
export const getpid = (): number => f.getpid();
export const gettid = (): number => (sys('gettid') as { value: number }).value;
export const unshare = (flags: number): Res => res(f.unshare(flags));
export const eventfd = (): Res => res(f.eventfd(0, 0o2000000));
export const socket = (domain: number, type: number): Res => res(f.socket(domain, type, 0));
export const bind = (fd: number, addr: Buffer): Res => res(f.bind(fd, addr, addr.length));
export const listen = (fd: number, backlog = 8): Res => res(f.listen(fd, backlog));
export const accept4 = (fd: number, flags = 0o2000000): Res => res(f.accept4(fd, null, null, flags));
export const fsetxattr = (fd: number, name: string, value: Buffer, flags = 0): Res => res(f.fsetxattr(fd, name, value, value.length, flags));
export const fremovexattr = (fd: number, name: string): Res => res(f.fremovexattr(fd, name));
export function fgetxattr(fd: number, name: string, size = 256): Res<Buffer> {
  const buf = Buffer.alloc(size);
  const r = res(f.fgetxattr(fd, name, buf, size));
  return r.ok ? { ok: true, value: buf.subarray(0, r.value) } : r;
}
/** flistxattr: the NUL-separated names as a list. */
export function flistxattr(fd: number, size = 4096): Res<string[]> {
  const buf = Buffer.alloc(size);
  const r = res(f.flistxattr(fd, buf, size));
  return r.ok ? { ok: true, value: buf.subarray(0, r.value).toString().split('\0').filter(Boolean) } : r;
}

/** struct sockaddr_un for a Linux abstract address ("\0name"); length is exact (no trailing NULs). */
export function abstractUnixAddr(name: string): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(3 + n.length);
  b.writeUInt16LE(1 /* AF_UNIX */, 0);
  n.copy(b, 3);
  return b;
}

export function read(fd: number, len: number): Res<Buffer> {
  const buf = Buffer.alloc(len);
  const r = res(f.read(fd, buf, len));
  return r.ok ? { ok: true, value: buf.subarray(0, r.value) } : r;
}

/** write(2) all of buf in one call; value = bytes written. */
export function write(fd: number, buf: Buffer): Res {
  return res(f.write(fd, buf, buf.length));
}

/** poll(2) one fd; value = revents. */
export function poll(fd: number, events: number, timeoutMs: number): Res {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(events, 4);
  const r = res(f.poll(pfd, 1, timeoutMs));
  return r.ok ? { ok: true, value: pfd.readInt16LE(6) & 0xffff } : r;
}

export const epollCreate = (): Res => res(f.epoll_create1(0o2000000));

export function epollAdd(epfd: number, fd: number, events: number): Res {
  const ev = Buffer.alloc(16); // struct epoll_event is packed (12 bytes) on x86_64
  ev.writeUInt32LE(events, 0);
  ev.writeUInt32LE(fd, 4);
  return res(f.epoll_ctl(epfd, 1, fd, ev));
}

/** epoll_wait for one event; value = the event mask (0 on timeout). */
export function epollWait(epfd: number, timeoutMs: number): Res {
  const ev = Buffer.alloc(16 * 4);
  const r = res(f.epoll_wait(epfd, ev, 4, timeoutMs));
  return r.ok ? { ok: true, value: r.value === 0 ? 0 : ev.readUInt32LE(0) } : r;
}

export function socketpair(domain: number, type: number): Res<[number, number]> {
  const sv = [0, 0];
  const r = res(f.socketpair(domain, type, 0, sv));
  return r.ok ? { ok: true, value: [sv[0], sv[1]] } : r;
}

/** getsockopt returning the raw option bytes. */
export function getsockopt(fd: number, level: number, opt: number, size = 4): Res<Buffer> {
  const buf = Buffer.alloc(size);
  const len = [size];
  const r = res(f.getsockopt(fd, level, opt, buf, len));
  return r.ok ? { ok: true, value: buf.subarray(0, len[0]) } : r;
}

export function setsockoptInt(fd: number, level: number, opt: number, value: number): Res {
  const buf = Buffer.alloc(4);
  buf.writeInt32LE(value);
  return res(f.setsockopt(fd, level, opt, buf, 4));
}

/** Build a struct msghdr (x86_64/aarch64 LP64 layout) around one iovec and a control buffer. */
function msghdr(data: Buffer, control: Buffer | null) {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(BigInt(koffi.address(data)), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(BigInt(koffi.address(iov)), 16);
  msg.writeBigUInt64LE(1n, 24);
  if (control) {
    msg.writeBigUInt64LE(BigInt(koffi.address(control)), 32);
    msg.writeBigUInt64LE(BigInt(control.length), 40);
  }
  return { msg, iov };
}

export interface Cmsg { level: number; type: number; data: Buffer }

function encodeCmsgs(cmsgs: Cmsg[]): Buffer | null {
  if (!cmsgs.length) return null;
  const parts = cmsgs.map((c) => {
    const len = 16 + c.data.length;
    const b = Buffer.alloc((len + 7) & ~7);
    b.writeBigUInt64LE(BigInt(len), 0);
    b.writeInt32LE(c.level, 8);
    b.writeInt32LE(c.type, 12);
    c.data.copy(b, 16);
    return b;
  });
  return Buffer.concat(parts);
}

export function sendmsg(fd: number, data: Buffer, cmsgs: Cmsg[] = []): Res {
  const control = encodeCmsgs(cmsgs);
  const { msg, iov } = msghdr(data, control);
  const r = res(f.sendmsg(fd, msg, 0));
  void iov; // keep the iovec alive across the call
  return r;
}

export interface Received { bytes: number; flags: number; cmsgs: Cmsg[] }

export function recvmsg(fd: number, maxData = 64, controlLen = 256, flags = 0): Res<Received> {
  const data = Buffer.alloc(maxData);
  const control = Buffer.alloc(controlLen);
  const { msg, iov } = msghdr(data, control);
  const r = res(f.recvmsg(fd, msg, flags));
  void iov;
  if (!r.ok) return r;
  const ctrlLen = Number(msg.readBigUInt64LE(40));
  const cmsgs: Cmsg[] = [];
  for (let off = 0; off + 16 <= ctrlLen; ) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < 16) break;
    cmsgs.push({ level: control.readInt32LE(off + 8), type: control.readInt32LE(off + 12), data: Buffer.from(control.subarray(off + 16, off + len)) });
    off += (len + 7) & ~7;
  }
  return { ok: true, value: { bytes: r.value, flags: msg.readInt32LE(48), cmsgs } };
}

/** posix_spawnp: children Node's libuv does not know about, so it never reaps them. */
export function spawnp(argv: string[], env: string[] = ['PATH=/usr/local/bin:/usr/bin:/bin']): Res {
  const pid = [0];
  const rc: number = f.posix_spawnp(pid, argv[0], null, null, [...argv, null], [...env, null]);
  return rc === 0 ? { ok: true, value: pid[0] } : { ok: false, errno: errnoName(rc) };
}

/** Address of a libc symbol (for clone()'s child function). */
export function symbol(name: string): bigint {
  return BigInt(koffi.address(f.dlsym(null, name)));
}

/**
 * glibc clone(fn, stack, flags, arg, parent_tid): the child runs fn(arg) on `stack` and
 * nothing else, so it never returns into Node. fn is `_exit`, arg the exit status.
 * Without CLONE_VM the child gets a copy of memory, so the shared stack buffer is safe.
 */
export function cloneExit(flags: number, status: number, parentTid: Int32Array): Res {
  const stack = Buffer.alloc(64 * 1024);
  const top = BigInt(koffi.address(stack)) + BigInt(stack.length - 64);
  const r = res(f.clone(symbol('_exit'), top, flags, BigInt(status), 'int *', parentTid));
  void stack;
  return r;
}

/**
 * glibc clone(fn, stack, SIGCHLD, 0) where fn is machine code at `code` that never returns
 * (it ends in exit_group): a child for kernels without clone3 (before 5.3).
 */
export function cloneRunCode(code: bigint): Res {
  const stack = Buffer.alloc(64 * 1024);
  const top = BigInt(koffi.address(stack)) + BigInt(stack.length - 64);
  const r = res(f.clone(code, top, 17 /* SIGCHLD */, null));
  void stack;
  return r;
}

/** Raw memory helpers for structs the kernel fills in (koffi pointer <-> Buffer). */
export function mmapExec(size: number): bigint {
  const p = f.mmap(null, size, 7 /* RWX */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
  return BigInt(koffi.address(p));
}

export function writeMem(addr: bigint, bytes: Buffer): void {
  f.memcpyTo(addr, bytes, bytes.length);
}

export const addressOf = (b: Buffer): bigint => BigInt(koffi.address(b));

const machineCode2 = koffi.proto('long pidfd_matrix_code2(void *, size_t)');
/** Call machine code at `addr` as long fn(void *, size_t) (arm64's clone3 trampoline): its raw return. */
export function callCode2(addr: bigint, ptr: Buffer, size: number): number {
  return Number(koffi.call(addr, machineCode2, ptr, size));
}

// ---- core-API probe helpers (signal/getfd/mm/fanotify suites) --------------------------
const fx = {
  fanotify_mark: libc.func('int fanotify_mark(int, unsigned int, uint64_t, int, const char *)'),
};

/** kcmp(2): 0 when the two (pid, idx) resources are the same. */
export const kcmp = (pid1: number, pid2: number, type: number, idx1: number, idx2: number): Res =>
  sys('kcmp', ['int', pid1], ['int', pid2], ['int', type], ['ulong', idx1], ['ulong', idx2]);

/** Anonymous private read/write mapping (page aligned); value = its address. */
export function mmapAnon(size: number): Res<bigint> {
  const p = f.mmap(null, size, 3 /* PROT_READ|PROT_WRITE */, 0x22, -1, 0);
  const a = BigInt(koffi.address(p));
  return a === 0xffffffffffffffffn || a === 0n ? { ok: false, errno: errnoName(koffi.errno()) } : { ok: true, value: a };
}

/** process_madvise(2) over one iovec [addr, addr+len). */
export function processMadvise(pidfd: number, addr: bigint, len: number, advice: number, flags = 0): Res {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(addr, 0);
  iov.writeBigUInt64LE(BigInt(len), 8);
  return sys('process_madvise', ['int', pidfd], ['void *', iov], ['size_t', 1], ['int', advice], ['uint', flags]);
}

/** mount(2) of a filesystem with no source device and no flags (e.g. a private cgroup2 mount). */
export const mount = (source: string, target: string, fstype: string): Res =>
  sys('mount', ['const char *', source], ['const char *', target], ['const char *', fstype], ['ulong', 0], ['void *', null]);
export const umount = (target: string): Res => sys('umount2', ['const char *', target], ['int', 0]);

export const processMrelease = (pidfd: number, flags = 0): Res => sys('process_mrelease', ['int', pidfd], ['uint', flags]);

export const fanotifyInit = (flags: number, eventFlags: number): Res => sys('fanotify_init', ['uint', flags], ['uint', eventFlags]);

export const fanotifyMark = (fd: number, flags: number, mask: bigint, dirfd: number, path: string): Res =>
  res(fx.fanotify_mark(fd, flags, mask, dirfd, path));

const fsp = {
  attr_init: libc.func('int posix_spawnattr_init(void *)'),
  attr_destroy: libc.func('int posix_spawnattr_destroy(void *)'),
  attr_setflags: libc.func('int posix_spawnattr_setflags(void *, short)'),
  attr_setpgroup: libc.func('int posix_spawnattr_setpgroup(void *, int)'),
  posix_spawnp: libc.func('int posix_spawnp(_Out_ int *pid, const char *file, void *fa, void *attr, const char **argv, const char **envp)'),
};

/** posix_spawnp with POSIX_SPAWN_SETPGROUP(0): the child leads a new process group. Caller adopts it. */
export const spawnpNewGroup = (argv: string[], env?: string[]): Res => spawnpInGroup(argv, 0, env);

/**
 * posix_spawnp with POSIX_SPAWN_SETPGROUP(pgid): the child joins process group `pgid` (0: a new
 * group it leads) before it execs. Caller adopts it.
 */
export function spawnpInGroup(argv: string[], pgid: number, env: string[] = ['PATH=/usr/local/bin:/usr/bin:/bin']): Res {
  const attr = Buffer.alloc(512); // >= sizeof(posix_spawnattr_t) (336 on glibc x86_64/aarch64)
  let rc: number = fsp.attr_init(attr);
  if (rc === 0) rc = fsp.attr_setflags(attr, 0x2 /* POSIX_SPAWN_SETPGROUP */);
  if (rc === 0) rc = fsp.attr_setpgroup(attr, pgid);
  const pid = [0];
  if (rc === 0) rc = fsp.posix_spawnp(pid, argv[0], null, attr, [...argv, null], [...env, null]);
  fsp.attr_destroy(attr);
  return rc === 0 ? { ok: true, value: pid[0] } : { ok: false, errno: errnoName(rc) };
}

const PR_SET_PDEATHSIG = 1;
let prctlFn: ((...a: number[]) => number) | null = null;
/** prctl(PR_SET_PDEATHSIG, sig): the kernel sends `sig` to this process when its parent dies. */
export function parentDeathSignal(sig: number): Res {
  prctlFn ??= libc.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)') as (...a: number[]) => number;
  return res(prctlFn(PR_SET_PDEATHSIG, sig, 0, 0, 0));
}

// ---- the process's own libc: identity and its pidfd wrappers ----------------------------
// The libc axis (suites/libc.probe.ts): which wrappers this libc.so.6 exports, under which
// symbol version node, and what calling them does. A wrapper is looked up at call time, never
// declared up front, so a libc without it (glibc < 2.36) still loads this module.
const RTLD_NOW = 2, RTLD_NOLOAD = 4;
const dl = {
  dlopen: libdl.func('void *dlopen(const char *, int)'),
  dlvsym: libdl.func('void *dlvsym(void *, const char *, const char *)'),
  dlsymH: libdl.func('void *dlsym(void *, const char *)'),
  confstr: libc.func('size_t confstr(int, _Out_ char *buf, size_t)'),
};

/** What the process's libc says it is: gnu_get_libc_version() and confstr(_CS_GNU_LIBC_VERSION). */
export interface LibcIdentity { name: string; version: string; source: string; confstr: string | null }

const _CS_GNU_LIBC_VERSION = 2;
export function libcIdentity(): LibcIdentity | null {
  const buf = Buffer.alloc(64);
  const n = Number(dl.confstr(_CS_GNU_LIBC_VERSION, buf, buf.length));
  const cs = n > 0 ? buf.subarray(0, n - 1).toString() : null; // "glibc 2.36"
  if (!libcSymbol('gnu_get_libc_version').present) {
    const m = cs ? /^(\S+) (\S+)$/.exec(cs) : null;
    return m ? { name: m[1], version: m[2], source: 'confstr(_CS_GNU_LIBC_VERSION)', confstr: cs } : null;
  }
  const version = (libc.func('const char *gnu_get_libc_version()') as () => string)();
  return { name: 'glibc', version, source: 'gnu_get_libc_version()', confstr: cs };
}

/** A pointer koffi returned, as a number (0n for NULL, which koffi hands back as null). */
function ptrValue(p: unknown): bigint {
  return p ? BigInt(koffi.address(p)) : 0n;
}

let libcHandle: unknown;
/** libc.so.6's own handle (already loaded: RTLD_NOLOAD), so a symbol of node's own is never found. */
function libcSelf(): unknown {
  libcHandle ??= dl.dlopen('libc.so.6', RTLD_NOW | RTLD_NOLOAD);
  return libcHandle;
}

// Version nodes a symbol could sit under (x86_64 starts at GLIBC_2.2.5): a symbol is looked up
// under each, and the one that gives the same address as the default lookup is reported.
const GLIBC_NODES = ['GLIBC_2.2.5', ...Array.from({ length: 48 }, (_, i) => `GLIBC_2.${3 + i}`)];

/** Whether libc.so.6 exports `name`, and the symbol version node its default definition has. */
export function libcSymbol(name: string): { present: boolean; node: string | null } {
  const h = libcSelf();
  if (!h) return { present: false, node: null };
  const addr = ptrValue(dl.dlsymH(h, name));
  if (addr === 0n) return { present: false, node: null };
  const node = GLIBC_NODES.find((v) => ptrValue(dl.dlvsym(h, name, v)) === addr) ?? null;
  return { present: true, node };
}

const wrappers = new Map<string, (...a: unknown[]) => number>();
function wrapper(proto: string, name: string): ((...a: unknown[]) => number) | null {
  if (!libcSymbol(name).present) return null;
  if (!wrappers.has(name)) wrappers.set(name, libc.func(proto) as (...a: unknown[]) => number);
  return wrappers.get(name)!;
}

/** A libc wrapper's answer: null when this libc has no such symbol. */
export type WrapperRes = Res | null;

/** libc's pidfd_open(pid, flags) (glibc 2.36). */
export function libcPidfdOpen(pid: number, flags = 0): WrapperRes {
  const fn = wrapper('int pidfd_open(int, unsigned int)', 'pidfd_open');
  return fn ? res(fn(pid, flags)) : null;
}

/** libc's pidfd_send_signal(pidfd, sig, NULL, flags) (glibc 2.36). */
export function libcPidfdSendSignal(pidfd: number, sig: number, flags = 0): WrapperRes {
  const fn = wrapper('int pidfd_send_signal(int, int, void *, unsigned int)', 'pidfd_send_signal');
  return fn ? res(fn(pidfd, sig, null, flags)) : null;
}

/** libc's pidfd_getfd(pidfd, targetfd, flags) (glibc 2.36). */
export function libcPidfdGetfd(pidfd: number, targetfd: number, flags = 0): WrapperRes {
  const fn = wrapper('int pidfd_getfd(int, int, unsigned int)', 'pidfd_getfd');
  return fn ? res(fn(pidfd, targetfd, flags)) : null;
}

/** libc's pidfd_getpid(pidfd) (glibc 2.39: it reads the Pid: line of the pidfd's fdinfo). */
export function libcPidfdGetpid(pidfd: number): WrapperRes {
  const fn = wrapper('int pidfd_getpid(int)', 'pidfd_getpid');
  return fn ? res(fn(pidfd)) : null;
}

/**
 * libc's pidfd_spawn / pidfd_spawnp (glibc 2.39): posix_spawn that hands back a pidfd instead of
 * a pid. Like posix_spawn it returns the error number itself; value = the pidfd.
 */
export function libcPidfdSpawn(name: 'pidfd_spawn' | 'pidfd_spawnp', file: string, argv: string[], env: string[] = ['PATH=/usr/local/bin:/usr/bin:/bin']): WrapperRes {
  const fn = wrapper(`int ${name}(_Out_ int *pidfd, const char *file, void *fa, void *attr, const char **argv, const char **envp)`, name);
  if (!fn) return null;
  const out = [-1];
  const rc = fn(out, file, null, null, [...argv, null], [...env, null]);
  return rc === 0 ? { ok: true, value: out[0] } : { ok: false, errno: errnoName(rc) };
}

/** posix_spawnp's own answer (0 or an error number), for a probe that reads it raw. */
export function posixSpawnp(argv: string[], env: string[] = ['PATH=/usr/local/bin:/usr/bin:/bin']): Res {
  return spawnp(argv, env);
}

const seccompFns = {
  prctl: libc.func('int prctl(int, unsigned long, void *, unsigned long, unsigned long)'),
};
const PR_SET_NO_NEW_PRIVS = 38, PR_SET_SECCOMP = 22, SECCOMP_MODE_FILTER = 2;

/**
 * Install a classic-BPF seccomp filter that answers `syscall` with `errno` (this ABI's calls only), as
 * scripts/seccomp-deny.py does, in *this* process: only for a throwaway child process
 * (suites/lib/clone3-child.ts), never in the runner. Sets no_new_privs first, so it needs no
 * capability.
 */
export function denySyscall(nr: number, errno: number): Res {
  // AUDIT_ARCH_X86_64 or AUDIT_ARCH_AARCH64 (EM_* | 64BIT | LE): the filter matches this process's own ABI.
  const AUDIT_ARCH = ARCH === 'aarch64' ? 0xc00000b7 : 0xc000003e, RET_ALLOW = 0x7fff0000, RET_ERRNO = 0x00050000;
  const LD_W_ABS = 0x20, JEQ_K = 0x15, RET_K = 0x06;
  const insns: [number, number, number, number][] = [
    [LD_W_ABS, 0, 0, 4],                 // A = arch
    [JEQ_K, 0, 3, AUDIT_ARCH],           // other arch: allow
    [LD_W_ABS, 0, 0, 0],                 // A = nr
    [JEQ_K, 0, 1, nr],                   // not ours: allow
    [RET_K, 0, 0, (RET_ERRNO | errno) >>> 0],
    [RET_K, 0, 0, RET_ALLOW],
  ];
  const code = Buffer.alloc(insns.length * 8);
  insns.forEach(([op, jt, jf, k], i) => {
    code.writeUInt16LE(op, i * 8);
    code.writeUInt8(jt, i * 8 + 2);
    code.writeUInt8(jf, i * 8 + 3);
    code.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  const prog = Buffer.alloc(16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  prog.writeUInt16LE(insns.length, 0);
  prog.writeBigUInt64LE(addressOf(code), 8);
  const nnp = res(seccompFns.prctl(PR_SET_NO_NEW_PRIVS, 1, null, 0, 0));
  if (!nnp.ok) return nnp;
  const r = res(seccompFns.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0));
  void code;
  return r;
}

/** Whether the running kernel has sys_<name> (/proc/kallsyms; null when unreadable). */
export const kernelHasSyscallNamed = (name: string): boolean | null => kernelHasSyscall(name);
