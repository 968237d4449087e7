// Names for kernel bitmasks and codes, so observations read "POLLIN|POLLHUP" and "CLD_EXITED".
import { CLD, POLL } from './constants.js';
import type { Res } from './libc.js';
import type { SigInfo } from './process.js';

function maskNames(mask: number, table: Record<string, number>, prefix: string): string {
  if (mask === 0) return 'none';
  const names: string[] = [];
  let rest = mask;
  for (const [name, bit] of Object.entries(table)) {
    if (mask & bit) {
      names.push(prefix + name);
      rest &= ~bit;
    }
  }
  if (rest) names.push('0x' + rest.toString(16));
  return names.join('|');
}

/** poll(2) revents as names: "POLLIN|POLLHUP"; 0 is "none". */
export const pollNames = (mask: number): string => maskNames(mask, POLL, 'POLL');

/** epoll events (same bit values as poll for these): "EPOLLIN|EPOLLHUP". */
export const epollNames = (mask: number): string => maskNames(mask, POLL, 'EPOLL');

const CLD_NAMES = new Map<number, string>(Object.entries(CLD).map(([k, v]) => [v, `CLD_${k}`]));
export const cldName = (code: number): string => (code === 0 ? 'none' : CLD_NAMES.get(code) ?? `code#${code}`);

/** Observation of a waitid(2) outcome: si_code as a name, si_status, and si_pid (named if it is `child`). */
export function waitObs(r: Res<SigInfo>, child?: number): Record<string, string | number> {
  if (!r.ok) return { errno: r.errno };
  const si = r.value;
  const pid: string | number = child !== undefined && si.pid === child ? 'child' : si.pid;
  return { result: 0, si_code: cldName(si.code), si_status: si.status, si_pid: pid };
}
