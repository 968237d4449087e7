// Typed pidfd syscalls and the file-level facts probes read (fdinfo, fstatfs, statx, flags).
import { readFileSync, readlinkSync } from 'node:fs';
import { AT_EMPTY_PATH, F, O } from './constants.js';
import { close, fcntl, sys, type Res } from './libc.js';

export const pidfdOpen = (pid: number, flags = 0): Res => sys('pidfd_open', ['int', pid], ['uint', flags]);

export const pidfdSendSignal = (pidfd: number, sig: number, flags = 0, info: Buffer | null = null): Res =>
  sys('pidfd_send_signal', ['int', pidfd], ['int', sig], ['void *', info], ['uint', flags]);

export const pidfdGetfd = (pidfd: number, targetfd: number, flags = 0): Res =>
  sys('pidfd_getfd', ['int', pidfd], ['int', targetfd], ['uint', flags]);

export const setns = (fd: number, nstype: number): Res => sys('setns', ['int', fd], ['int', nstype]);

export const ioctl = (fd: number, cmd: number, arg: Buffer | number | null = null): Res =>
  typeof arg === 'number' ? sys('ioctl', ['int', fd], ['ulong', cmd], ['ulong', arg]) : sys('ioctl', ['int', fd], ['ulong', cmd], ['void *', arg]);

/** Thrown when a probe cannot reach the call it tests; the judge reports it as a prerequisite. */
export class PrereqMissing extends Error {
  constructor(public step: string, public errno: string) {
    super(`${step} failed: ${errno}`);
  }
}

/**
 * Unwrap a Res or stop the probe with PrereqMissing(step, errno). A step that is a feature's own
 * call starts with that feature's id (`pidfd_nonblock (pidfd_open with PIDFD_NONBLOCK)`,
 * `clone3(two-thread child)`): the host then knows whose older answer the refusal is.
 */
export function need<T>(step: string, r: Res<T>): T {
  if (!r.ok) throw new PrereqMissing(step, r.errno);
  return r.value;
}

/** Observation of a call's outcome: { result: 'fd' } / { result: 0 } / { errno: 'EINVAL' }. */
export function outcome(r: Res<unknown>, asFd = false): { result?: unknown; errno?: string } {
  if (!r.ok) return { errno: r.errno };
  return { result: asFd ? ((r.value as number) >= 0 ? 'fd' : r.value) : r.value };
}

const opened: number[] = [];
/** Register an fd to close when the current test ends. */
export function track<T extends Res>(r: T): T {
  if (r.ok && typeof r.value === 'number' && r.value >= 0) opened.push(r.value);
  return r;
}
export function closeTracked(): void {
  while (opened.length) close(opened.pop()!);
}

export interface FdInfo { lines: Record<string, string>; raw: string }
export function fdinfo(fd: number): FdInfo {
  const raw = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const lines: Record<string, string> = {};
  for (const l of raw.split('\n')) {
    const m = /^([A-Za-z_]+):\s*(.*)$/.exec(l);
    if (m) lines[m[1]] = m[2];
  }
  return { lines, raw };
}

export function isCloexec(fd: number): boolean {
  const r = fcntl(fd, F.GETFD);
  return r.ok && (r.value & F.FD_CLOEXEC) !== 0;
}

export function isNonblock(fd: number): boolean {
  const r = fcntl(fd, F.GETFL);
  return r.ok && (r.value & O.NONBLOCK) !== 0;
}

/** fstatfs(2) f_type. */
export function fstatfsType(fd: number): Res {
  const b = Buffer.alloc(128);
  const r = sys('fstatfs', ['int', fd], ['void *', b]);
  return r.ok ? { ok: true, value: Number(b.readBigInt64LE(0)) } : r;
}

export interface Statx { ino: bigint; mode: number; dev: string; uid: number; nlink: number }
export function statx(fd: number): Res<Statx> {
  const b = Buffer.alloc(256);
  const r = sys('statx', ['int', fd], ['const char *', ''], ['int', AT_EMPTY_PATH], ['uint', 0xfff], ['void *', b]);
  if (!r.ok) return r;
  return {
    ok: true,
    value: {
      nlink: b.readUInt32LE(16), uid: b.readUInt32LE(20), mode: b.readUInt16LE(28), ino: b.readBigUInt64LE(32),
      dev: `${b.readUInt32LE(136)}:${b.readUInt32LE(140)}`,
    },
  };
}

export function fdLink(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

export function hex(n: number): string {
  return '0x' + (n >>> 0).toString(16).padStart(8, '0');
}
