// The LTS change table: a backport's first release (commit table or `backports:`) per series, and
// the nearest proven kernel run on each side; unproven kernels never close a side.
import { describe, expect, it } from 'vitest';
import { parseCatalog } from './catalog.js';
import { parseCommits } from './commits.js';
import { ltsChanges, ltsGaps, ltsMarkdown, ltsText } from './lts-changes.js';
import type { KernelRecord } from './verification.js';

const catalog = `features:
  - id: f
    title: t
    area: a
    introduced: "7.1"
    kind: change
    without: { errno: EBADF }
    cases:
      - id: by_commit
        probe: call
        with: { errno: ESRCH }
        commits: ["aaaaaaaaaaaa"]
      - id: by_version
        probe: call
        with: { errno: ESRCH }
        backports: ["5.10.259"]
      - id: any_commits
        probe: call
        with: { errno: ESRCH }
        commits_any: ["bbbbbbbbbbbb", "aaaaaaaaaaaa"]
`;

const commits = parseCommits(`commits:
  aaaaaaaaaaaa:
    subject: "s"
    mainline: "7.1"
    stable:
      "6.6": { release: "6.6.143", evidence: "e" }
      "6.1": { taken: false, evidence: "e" }
      "6.12": { release: "6.12.94", evidence: "e" }
      "6.19": { release: "6.19.3", evidence: "e (not an LTS series)" }
  bbbbbbbbbbbb:
    subject: "the same answer, earlier upstream"
    mainline: "6.9"
    stable:
      "6.6": { taken: false, evidence: "e" }
`);

const kernel = (version: string, proven: boolean, w: string[], wo: string[]): KernelRecord => ({
  version, release: version, kernelId: `k-${version}`, date: '2026-12-06', harness: 'x', with: w, without: wo, xpass: [],
  identity: proven ? { kind: 'git', repo: 'o/r', commit: 'c', proven: true, why: 'w' } : { kind: 'unproven', proven: false, why: 'w' },
});

describe('ltsChanges', () => {
  const features = parseCatalog(catalog);
  it('lists each change inside an LTS series with the nearest proven kernel on either side', () => {
    const rows = ltsChanges(features, commits, {
      unobtainable: [],
      kernels: [
        kernel('6.6.142', true, [], ['f/by_commit']),
        kernel('6.6.145', false, ['f/by_commit'], []), // nearer, but unproven: not a side
        kernel('6.6.150', true, ['f/by_commit'], []),
        kernel('6.6.100', true, [], []),
      ],
    });
    // commits_any: 6.12 has bbbbbbbbbbbb from 6.12.0 (mainline 6.9), so only by_commit changes there.
    expect(rows.map((r) => `${r.series} ${r.release} ${r.cases.join(',')}`))
      .toEqual(['5.10 5.10.259 f/by_version', '6.6 6.6.143 f/any_commits,f/by_commit', '6.12 6.12.94 f/by_commit']);
    const six = rows[1];
    expect(six.commits).toEqual(['aaaaaaaaaaaa']); // bbbbbbbbbbbb: not taken by 6.6
    expect([six.before?.kernel.version, six.before?.seen, six.after?.kernel.version, six.after?.seen]).toEqual(['6.6.142', 1, '6.6.150', 1]);
    expect(ltsGaps(rows)).toEqual(['5.10 before 5.10.259', '5.10 at/after 5.10.259', '6.12 before 6.12.94', '6.12 at/after 6.12.94']);
    expect(ltsText(rows)).toMatch(/no proven kernel run: 5\.10 before 5\.10\.259, .*6\.12 at\/after 6\.12\.94$/);
    expect(ltsMarkdown(rows)).toContain('| 6.6 | 6.6.143 | aaaaaaaaaaaa | `f/any_commits`, `f/by_commit` | 6.6.142 (1/2) | 6.6.150 (1/2) |');
  });
  it('says so when every change has both sides', () => {
    const rows = ltsChanges(features, commits, { unobtainable: [], kernels: [] }, ['6.6']);
    expect(ltsText(rows.map((r) => ({ ...r, before: r.after })))).toMatch(/none run/);
    const both = rows.map((r) => ({ ...r, before: { kernel: kernel('6.6.1', true, [], []), seen: 0 }, after: { kernel: kernel('6.6.150', true, [], []), seen: 0 } }));
    expect(ltsText(both)).toMatch(/each has a proven kernel run on both sides$/);
  });
});
