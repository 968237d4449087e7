// Names of the syscalls a stuck probe is likely to sit in, so a deadline error can say
// "stuck in waitid" rather than "stuck in syscall 247". Per architecture: x86_64 from
// arch/x86/entry/syscalls/syscall_64.tbl, arm64 from include/uapi/asm-generic/unistd.h (it has
// no poll, select, pause or epoll_wait: libc uses ppoll, pselect6, ppoll and epoll_pwait);
// on another arch the number is printed as is.
const X86_64: Record<number, string> = {
  0: 'read', 1: 'write', 7: 'poll', 23: 'select', 34: 'pause', 35: 'nanosleep', 43: 'accept',
  45: 'recvfrom', 47: 'recvmsg', 61: 'wait4', 202: 'futex', 230: 'clock_nanosleep',
  232: 'epoll_wait', 247: 'waitid', 270: 'pselect6', 271: 'ppoll', 281: 'epoll_pwait',
  288: 'accept4', 424: 'pidfd_send_signal', 434: 'pidfd_open', 435: 'clone3', 438: 'pidfd_getfd',
  441: 'epoll_pwait2',
};

const AARCH64: Record<number, string> = {
  22: 'epoll_pwait', 63: 'read', 64: 'write', 72: 'pselect6', 73: 'ppoll', 95: 'waitid', 98: 'futex',
  101: 'nanosleep', 115: 'clock_nanosleep', 202: 'accept', 207: 'recvfrom', 212: 'recvmsg', 242: 'accept4',
  260: 'wait4', 424: 'pidfd_send_signal', 434: 'pidfd_open', 435: 'clone3', 438: 'pidfd_getfd', 441: 'epoll_pwait2',
};
/** By node's process.arch. */
const BY_ARCH: Record<string, Record<number, string>> = { x64: X86_64, arm64: AARCH64 };

export function syscallName(nr: number, arch: string = process.arch): string {
  return BY_ARCH[arch]?.[nr] ?? `syscall ${nr}`;
}

/**
 * What /proc/<pid>/syscall and /proc/<pid>/wchan say a blocked task is doing:
 * "waitid (wchan do_wait)", "running" or "" when unknown.
 */
export function describeBlocked(syscallText: string, wchan: string, arch: string = process.arch): string {
  const s = syscallText.trim();
  const w = wchan.trim();
  const where = w && w !== '0' ? ` (wchan ${w})` : '';
  if (/^-?\d+\s/.test(s) || /^-?\d+$/.test(s)) {
    const nr = Number(s.split(/\s+/)[0]);
    return nr < 0 ? `user space${where}` : `${syscallName(nr, arch)}${where}`;
  }
  if (s === 'running') return 'running (busy in user space)';
  return w && w !== '0' ? `wchan ${w}` : '';
}
