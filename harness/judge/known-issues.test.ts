import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { applyKnownIssues, staleEntries, KNOWN_ISSUES_PATH, loadKnownIssues, parseKnownIssues, parseVersionRange, selectorMatches, KnownIssuesError } from './known-issues.js';
import { fixtureCell } from '../fixtures/load.js';
import type { CellResult } from '../results.js';

const TODAY = new Date('2026-11-23T12:00:00Z');
const caseOf = (cell: CellResult, id: string) => cell.cases.find((c) => c.id === id)!;

describe('kernels/known-issues.yaml', () => {
  it('the shipped file parses (commented, zero or more real entries)', () => {
    expect(readFileSync(KNOWN_ISSUES_PATH, 'utf8')).toContain('# Each entry:');
    expect(Array.isArray(loadKnownIssues(KNOWN_ISSUES_PATH))).toBe(true);
  });
  it('a missing file means no entries', () => {
    expect(loadKnownIssues('/nonexistent/known-issues.yaml')).toEqual([]);
  });
});

describe('applyKnownIssues', () => {
  it('turns a listed failure into xfail, keeping the reason and setting knownIssue', () => {
    const entries = parseKnownIssues(`issues:
  - kernel: { version: ">=6.12 <6.13" }
    test: pidfd_info/exit_status
    reason: "Debian 6.12 lacks the PIDFD_INFO_EXIT backport"
    link: https://bugs.example/1
`);
    const before = caseOf(fixtureCell('trixie'), 'pidfd_info/exit_status');
    const { cell, warnings } = applyKnownIssues(fixtureCell('trixie'), entries, TODAY);
    const c = caseOf(cell, 'pidfd_info/exit_status');
    expect(c.status).toBe('xfail');
    expect(c.reason.startsWith(before.reason)).toBe(true);
    expect(c.reason).toContain('[known issue: Debian 6.12 lacks the PIDFD_INFO_EXIT backport (https://bugs.example/1)]');
    expect(c.knownIssue).toEqual({ reason: 'Debian 6.12 lacks the PIDFD_INFO_EXIT backport', link: 'https://bugs.example/1' });
    expect(warnings).toEqual([]);
    // other cases untouched, input not mutated
    expect(caseOf(cell, 'pidfd_open/basic').status).toBe('pass');
    expect(caseOf(fixtureCell('trixie'), 'pidfd_info/exit_status').status).toBe('fail');
  });

  it('a listed test that passes becomes xpass and says "remove this entry"', () => {
    const entries = parseKnownIssues(`issues:
  - kernel: host
    feature: pidfd_open
    reason: "was broken on the CI host"
`);
    const { cell, warnings } = applyKnownIssues(fixtureCell('host'), entries, TODAY);
    for (const id of ['pidfd_open/basic', 'pidfd_open/nonblock']) {
      expect(caseOf(cell, id).status).toBe('xpass');
      expect(caseOf(cell, id).reason).toMatch(/remove this entry\]$/);
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^host pidfd_open\/basic: xpass, passes although listed in .*issues\[0\] \(pidfd_open\): remove this entry$/);
  });

  it('leaves skip, error and the catalog\'s own xfail/xpass alone', () => {
    const entries = parseKnownIssues(`issues:
  - feature: pidfd_info
    reason: r
  - feature: pidfd_getfd
    reason: r
`);
    const host = applyKnownIssues(fixtureCell('host'), entries, TODAY).cell;
    expect(host.cases.map((c) => c.status)).toEqual(fixtureCell('host').cases.map((c) => c.status));
    const trixie = applyKnownIssues(fixtureCell('trixie'), entries, TODAY).cell;
    expect(caseOf(trixie, 'pidfd_info/cgroupid').status).toBe('error');
    expect(caseOf(trixie, 'pidfd_getfd/basic').status).toBe('xpass');
  });

  it('an expired entry still applies but warns', () => {
    const entries = parseKnownIssues(`issues:
  - kernel: { id: trixie }
    test: pidfd_info/exit_status
    reason: r
    expires: "2026-01-31"
  - kernel: { id: bookworm }
    test: pidfd_info/exit_status
    reason: other kernel, not warned about for trixie
    expires: "2026-01-31"
  - kernel: { id: trixie }
    test: pidfd_open/basic
    reason: not yet expired
    expires: "2027-01-31"
`);
    const { cell, warnings } = applyKnownIssues(fixtureCell('trixie'), entries, TODAY);
    expect(caseOf(cell, 'pidfd_info/exit_status').status).toBe('xfail');
    expect(caseOf(cell, 'pidfd_info/exit_status').reason).toContain('expired 2026-01-31');
    const expired = warnings.filter((w) => w.includes('expired'));
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatch(/issues\[0\] \(pidfd_info\/exit_status\): expired on 2026-01-31 \(kernel trixie\): .*extend 'expires' or remove/);
  });

  it('is idempotent and reversible: re-applying after editing the file gives the fresh answer', () => {
    const one = parseKnownIssues(`issues:\n  - { kernel: trixie, test: pidfd_info/exit_status, reason: r1 }\n  - { kernel: trixie, test: pidfd_open/basic, reason: r2 }\n`);
    const applied = applyKnownIssues(fixtureCell('trixie'), one, TODAY).cell;
    const again = applyKnownIssues(applied, one, TODAY).cell;
    expect(again).toEqual(applied);
    const removed = applyKnownIssues(applied, [], TODAY).cell;
    expect(removed).toEqual(fixtureCell('trixie'));
  });
});

describe('selectors', () => {
  const sel = (yaml: string) => parseKnownIssues(`issues:\n  - kernel: ${yaml}\n    feature: pidfd_open\n    reason: r\n`)[0].kernel;
  const host = fixtureCell('host'), trixie = fixtureCell('trixie'), bookworm = fixtureCell('bookworm');

  it('by kernel id, list of ids and wildcard', () => {
    expect(selectorMatches(sel('host'), host)).toBe(true);
    expect(selectorMatches(sel('host'), trixie)).toBe(false);
    expect(selectorMatches(sel('{ id: [trixie, bookworm] }'), bookworm)).toBe(true);
    expect(selectorMatches(sel('{ id: "tri*" }'), trixie)).toBe(true);
    expect(selectorMatches(sel('{ id: "tri*" }'), host)).toBe(false);
  });

  it('by version range', () => {
    expect(selectorMatches(sel('{ version: ">=6.12 <6.13" }'), host)).toBe(true);
    expect(selectorMatches(sel('{ version: ">=6.12.50 <6.13" }'), host)).toBe(false);  // 6.12.48
    expect(selectorMatches(sel('{ version: ">=6.12.50 <6.13" }'), trixie)).toBe(true); // 6.12.57
    expect(selectorMatches(sel('{ version: "6.12" }'), trixie)).toBe(true);
    expect(selectorMatches(sel('{ version: "=6.12.48" }'), host)).toBe(true);
    expect(selectorMatches(sel('{ version: ">=6.9 <6.10" }'), host)).toBe(false);
    // a cell that never ran has no version: fact selectors do not match it
    expect(selectorMatches(sel('{ version: ">=1.0" }'), bookworm)).toBe(false);
  });

  it('by probed facts: lsm contains, arch, seccomp, selinux, mode, accel, container', () => {
    expect(selectorMatches(sel('{ lsm: selinux }'), trixie)).toBe(true);
    expect(selectorMatches(sel('{ lsm: selinux }'), host)).toBe(false);
    expect(selectorMatches(sel('{ lsm: apparmor }'), host)).toBe(true);
    expect(selectorMatches(sel('{ arch: x86_64, seccomp: 0 }'), host)).toBe(true);
    expect(selectorMatches(sel('{ seccomp: 2 }'), host)).toBe(false);
    expect(selectorMatches(sel('{ selinux: enforcing, mode: guest, accel: tcg }'), trixie)).toBe(true);
    expect(selectorMatches(sel('{ container: none }'), host)).toBe(true);
    expect(selectorMatches(sel('{ container: docker }'), host)).toBe(false);
    expect(selectorMatches(sel('{ lsm: selinux, version: ">=6.13" }'), trixie)).toBe(false);
  });

  it('version ranges parse comparisons and reject junk', () => {
    const r = parseVersionRange('>=6.9 <6.10');
    expect('test' in r && r.test([6, 9, 3])).toBe(true);
    expect('test' in r && r.test([6, 10, 0])).toBe(false);
    expect(parseVersionRange('>= six')).toEqual({ bad: '>=' });
  });
});

describe('malformed files fail with the entry and the fix', () => {
  const err = (yaml: string) => {
    try { parseKnownIssues(yaml, 'kernels/known-issues.yaml'); } catch (e) { expect(e).toBeInstanceOf(KnownIssuesError); return (e as Error).message; }
    throw new Error('no error');
  };
  it('names the entry index and test, and says how to fix it', () => {
    expect(err('issues:\n  - kernel: { version: "6.x" }\n    test: pidfd_info/exit_status\n    reason: r\n'))
      .toBe(`kernels/known-issues.yaml issues[0] (pidfd_info/exit_status): 'kernel.version' has '6.x', not a version comparison. Fix: quote a range of comparisons such as ">=6.9 <6.10", "6.1" (that series) or "=6.1.5"`);
    expect(err('issues:\n  - { kernel: host, test: pidfd_info, reason: r }\n')).toMatch(/issues\[0\] \(pidfd_info\): 'test' is "pidfd_info", not a test id\. Fix: write it as <feature>\/<case>/);
    expect(err('issues:\n  - { kernel: host, test: a/b }\n')).toMatch(/issues\[0\] \(a\/b\): 'reason' is missing\. Fix:/);
    expect(err('issues:\n  - { kernel: host, test: a/b, feature: a, reason: r }\n')).toMatch(/exactly one of 'test' or 'feature'/);
    expect(err('issues:\n  - { kernel: { distro: debian }, test: a/b, reason: r }\n')).toMatch(/unknown kernel selector 'distro'\. Fix: use only id, version, lsm/);
    expect(err('issues:\n  - { kernel: host, test: a/b, reason: r, expires: "next year" }\n')).toMatch(/'expires' is "next year"\. Fix: write a date as YYYY-MM-DD/);
    expect(err('issues:\n  - { kernel: host, test: a/b, reason: r, why: x }\n')).toMatch(/unknown key 'why'/);
    expect(err('- kernel: host\n')).toMatch(/top level must be a map with an 'issues:' list/);
    expect(err('issues: [\n')).toMatch(/not valid YAML/);
    expect(err('issues:\n  - { kernel: { seccomp: 3 }, test: a/b, reason: r }\n')).toMatch(/'kernel.seccomp' must be 0, 1 or 2/);
  });
  it('accepts an empty file and an empty list', () => {
    expect(parseKnownIssues('')).toEqual([]);
    expect(parseKnownIssues('issues: []\n')).toEqual([]);
    expect(parseKnownIssues('issues:\n')).toEqual([]);
  });
});

describe('staleEntries', () => {
  it('warns about entries whose test or feature does not exist', () => {
    const entries = parseKnownIssues('issues:\n  - { test: pidfd_open/basic, reason: r }\n  - { test: pidfd_open/renamed, reason: r }\n  - { feature: pidfd_open, reason: r }\n  - { feature: gone, reason: r }\n', 'ki.yaml');
    expect(staleEntries(entries, ['pidfd_open/basic', 'pidfd_info/exit_status'])).toEqual([
      "ki.yaml issues[1] (pidfd_open/renamed): no test 'pidfd_open/renamed' in the catalog or the results: fix the id or remove the entry",
      "ki.yaml issues[3] (gone): no feature 'gone' in the catalog or the results: fix the id or remove the entry",
    ]);
  });
});
