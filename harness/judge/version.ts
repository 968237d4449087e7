// Kernel version parsing and comparison. Versions only feed expectations; probes decide.
import type { ObservedFacts } from '../../suites/lib/observation.js';
import type { KernelFacts } from '../results.js';
export type Version = [number, number, number];

/** "6.18.44-fc-v782" -> [6,18,44]; "7.0-rc3" -> [7,0,0]; null when unparsable. */
export function parseVersion(s: string): Version | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/**
 * The upstream version a kernel is built from. Distro releases hide the stable sublevel:
 * Debian's `uname -r` is 5.10.0-32-amd64 for stable 5.10.223, so a backport listed as
 * "5.10.220" would never match. Debian names the real version in /proc/version ("... SMP
 * Debian 5.10.223-1 (2024-08-10)"), Ubuntu in /proc/version_signature ("Ubuntu
 * 5.15.0-91.101-generic 5.15.131"). Used only when major.minor agree with `uname -r`.
 */
export function kernelVersion(release: string, procVersion = '', versionSignature = ''): { version: Version; source: string } {
  const base = parseVersion(release) ?? [0, 0, 0];
  const sameSeries = (v: Version | null): v is Version => !!v && v[0] === base[0] && v[1] === base[1] && v[2] >= base[2];
  const sig = versionSignature.trim().split(/\s+/).pop() ?? '';
  const fromSig = /^\d+\.\d+\.\d+$/.test(sig) ? parseVersion(sig) : null;
  if (sameSeries(fromSig)) return { version: fromSig, source: `/proc/version_signature (${sig})` };
  const debian = [...procVersion.matchAll(/\bDebian (\d+\.\d+\.\d+)[-+~]\S*/g)].pop();
  const fromDebian = debian ? parseVersion(debian[1]) : null;
  if (sameSeries(fromDebian)) return { version: fromDebian, source: `/proc/version (${debian![0]})` };
  return { version: base, source: 'uname -r' };
}

export function cmpVersion(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

export function fmtVersion(v: Version): string {
  return v[2] ? v.join('.') : `${v[0]}.${v[1]}`;
}

/** True when `v` is at or after `floor`. */
export function atLeast(v: Version, floor: Version): boolean {
  return cmpVersion(v, floor) >= 0;
}

/** A stable backport "6.18.14" applies to 6.18.x kernels with x >= 14 only. */
export function hasBackport(v: Version, backport: Version): boolean {
  return v[0] === backport[0] && v[1] === backport[1] && v[2] >= backport[2];
}

/** The judge's facts: what the guest observed plus the version derived from its /proc/version. */
export function withVersion(o: ObservedFacts): KernelFacts {
  const { version, source } = kernelVersion(o.release, o.procVersion ?? '', o.versionSignature ?? '');
  return { ...o, version, versionSource: source };
}
