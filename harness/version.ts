// Kernel version parsing and comparison. Versions only feed expectations; probes decide.
export type Version = [number, number, number];

/** "6.18.44-fc-v782" -> [6,18,44]; "7.0-rc3" -> [7,0,0]; null when unparsable. */
export function parseVersion(s: string): Version | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s.trim());
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
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
