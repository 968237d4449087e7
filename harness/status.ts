// The one status model every output is derived from (console table, results.json, JUnit,
// HTML, markdown). Keep this list and its meanings in sync with README.md.
export const STATUSES = ['pass', 'fail', 'skip', 'xfail', 'xpass', 'error'] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_MEANING: Record<Status, string> = {
  pass: 'the kernel gave the expected answer',
  fail: 'regression: the kernel should have the feature (or fix) and answered differently',
  skip: 'not applicable here (feature absent as expected, needs root, blocked by seccomp, ...), with the reason',
  xfail: 'a listed known deviation (catalog broken range or known-issues entry), with the reason',
  xpass: 'works although listed as broken or newer than the kernel (a backport)',
  error: 'the test could not run: boot failure, panic, timeout, probe crash, infrastructure',
};

/** Statuses that make the run exit non-zero. */
export function isBad(s: Status): boolean {
  return s === 'fail' || s === 'error';
}

/** Worst-first ordering, used when one cell or row has to show a single status. */
export const SEVERITY: Record<Status, number> = { error: 5, fail: 4, xpass: 3, xfail: 2, pass: 1, skip: 0 };

export function worst(statuses: Iterable<Status>): Status | null {
  let w: Status | null = null;
  for (const s of statuses) if (w === null || SEVERITY[s] > SEVERITY[w]) w = s;
  return w;
}
