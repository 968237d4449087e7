// pidfs file handles (6.14): name_to_handle_at(2) of a pidfd and open_by_handle_at(2) back.
// Shared by the handle cases (suites/handles.probe.ts) and the persistence case (coredump.probe.ts).
import { AT_EMPTY_PATH, O } from './constants.js';
import { sys, type Res } from './libc.js';

export interface Handle { buf: Buffer; bytes: number; type: number; payload: string }

export function nameToHandle(fd: number, flags = AT_EMPTY_PATH, name = ''): Res<Handle> {
  const buf = Buffer.alloc(8 + 128);
  buf.writeUInt32LE(128, 0);
  const mnt = Buffer.alloc(8);
  const r = sys('name_to_handle_at', ['int', fd], ['const char *', name], ['void *', buf], ['void *', mnt], ['int', flags]);
  if (!r.ok) return r;
  const bytes = buf.readUInt32LE(0);
  const payload = bytes === 8 ? String(buf.readBigUInt64LE(8)) : buf.subarray(8, 8 + bytes).toString('hex');
  return { ok: true, value: { buf, bytes, type: buf.readInt32LE(4), payload } };
}

export const openByHandle = (mountFd: number, h: Handle, flags = O.RDONLY | O.CLOEXEC): Res =>
  sys('open_by_handle_at', ['int', mountFd], ['void *', h.buf], ['int', flags]);
