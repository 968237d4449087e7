// PIDFD_GET_INFO (6.13) and struct pidfd_info: reference §1.3. Offsets are those of the
// 6.19 header (VER0 64, VER1 72, VER2 80); supported_mask is parsed only when its bit comes back
// (open question Q1 about the 7.1 layout).
import { PIDFD_INFO, PIDFD_INFO_SIZE, pidfdGetInfo } from './constants.js';
import type { Res } from './libc.js';
import { ioctl } from './pidfd.js';

export interface PidfdInfo {
  mask: bigint; cgroupid: bigint; pid: number; tgid: number; ppid: number; ruid: number; euid: number;
  exitCode: number; coredumpMask: number; coredumpSignal: number; supportedMask: bigint | null;
}

const INFO_BITS = Object.entries(PIDFD_INFO) as [string, bigint][];
export const maskNames = (m: bigint) => INFO_BITS.filter(([, b]) => (m & b) !== 0n).map(([n]) => n);

/** ioctl(PIDFD_GET_INFO) encoded with `size`; parses only what the size holds. */
export function getInfo(fd: number, mask: bigint, size: number = PIDFD_INFO_SIZE.VER0): Res<PidfdInfo> {
  const b = Buffer.alloc(Math.max(size, 88));
  b.writeBigUInt64LE(mask, 0);
  const r = ioctl(fd, pidfdGetInfo(size), b);
  if (!r.ok) return r;
  return parse(b, size);
}

function parse(b: Buffer, size: number): Res<PidfdInfo> {
  const mask = b.readBigUInt64LE(0);
  return {
    ok: true,
    value: {
      mask, cgroupid: b.readBigUInt64LE(8), pid: b.readUInt32LE(16), tgid: b.readUInt32LE(20), ppid: b.readUInt32LE(24),
      ruid: b.readUInt32LE(28), euid: b.readUInt32LE(36), exitCode: b.readInt32LE(60),
      coredumpMask: size >= 72 ? b.readUInt32LE(64) : 0, coredumpSignal: size >= 72 ? b.readUInt32LE(68) : 0,
      // Q1: parse supported_mask only when the kernel says it filled it (offset 72 per 6.19)
      supportedMask: size >= 80 && (mask & PIDFD_INFO.SUPPORTED_MASK) !== 0n ? b.readBigUInt64LE(72) : null,
    },
  };
}

