// Effective capabilities of this process (/proc/self/status CapEff). uid 0 is not enough inside
// a container: root there usually lacks CAP_SYS_ADMIN, and the kernel then answers EPERM.
import { readFileSync } from 'node:fs';

export const CAP_SYS_PTRACE = 19;
export const CAP_SYS_ADMIN = 21;

export function hasCap(cap: number): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? ((BigInt('0x' + m[1]) >> BigInt(cap)) & 1n) === 1n : false;
  } catch {
    return false;
  }
}

/** A probe observation that skips the case when CAP_SYS_ADMIN is missing, else null. */
export function needsCapSysAdmin(what: string): { skip: string } | null {
  return hasCap(CAP_SYS_ADMIN) ? null : { skip: `${what} needs CAP_SYS_ADMIN, which this process lacks (CapEff), e.g. root inside a container` };
}
