// Where a catalog answer changes inside an LTS series (a backport's first release, from
// commits.yaml or a case's `backports:`), and whether a kernel of proven identity of that series
// was run on each side of it (issue 19.5: "where a claim changes inside a series, also run a
// release from before the change"). Pure: catalog, commit table and record in, rows out.
import { allCases, type CatalogFeature } from './catalog.js';
import { findCommit, type CommitTable } from './commits.js';
import { cmpVersion, parseVersion, type Version } from './version.js';
import { provenRecord, type KernelRecord, type Verified } from './verification.js';

/** The long-term series (kernel.org's list; 6.18 is one too). */
export const LTS_SERIES = ['5.4', '5.10', '5.15', '6.1', '6.6', '6.12', '6.18'];

export interface LtsSide { kernel: KernelRecord; seen: number }

export interface LtsChange {
  series: string;
  release: string;          // first release of the series with the new answer
  commits: string[];        // upstream commits behind it ([] when only a `backports:` version says so)
  cases: string[];
  before: LtsSide | null;   // nearest proven kernel of the series below `release`
  after: LtsSide | null;    // nearest proven kernel of the series at or after `release`
}

const seriesOf = (v: Version) => `${v[0]}.${v[1]}`;

/**
 * The release of `series` from which the commits bring the answer (commits.yaml): all of them
 * (`commits:`), or the first one (`commits_any:`). A commit in the series' base (mainline at or
 * below it) is there from X.Y.0; null when the answer does not change inside the series (all in
 * the base, not taken, or unknown).
 */
function commitsRelease(shas: string[], any: boolean, table: CommitTable, series: string): { at: Version; by: string[] } | null {
  const base = parseVersion(series)!;
  const at = shas.map((sha): Version | 'base' | null => {
    const e = findCommit(table, sha);
    if (e?.mainline && cmpVersion([base[0], base[1], 0], e.mainline) >= 0) return 'base';
    const s = e?.stable.get(series);
    return s && 'release' in s ? s.release : null;
  });
  const rel = at.filter((x): x is Version => Array.isArray(x)).sort(cmpVersion);
  if (!rel.length || (any ? at.includes('base') : at.includes(null))) return null;
  const first = any ? rel[0] : rel[rel.length - 1];
  // The commits backported inside the series (for commits_any, the one that came first).
  const by = shas.filter((_, i) => Array.isArray(at[i]) && (!any || cmpVersion(at[i] as Version, first) === 0));
  return { at: first, by };
}

export function ltsChanges(features: CatalogFeature[], table: CommitTable, verified: Verified, series = LTS_SERIES): LtsChange[] {
  const groups = new Map<string, { series: string; release: Version; commits: Set<string>; cases: Set<string> }>();
  const add = (id: string, at: Version, commits: string[]) => {
    const s = seriesOf(at);
    if (!series.includes(s)) return;
    const key = at.join('.');
    const g = groups.get(key) ?? { series: s, release: at, commits: new Set<string>(), cases: new Set<string>() };
    commits.forEach((c) => g.commits.add(c));
    g.cases.add(id);
    groups.set(key, g);
  };
  for (const c of allCases(features).filter((x) => !x.libc)) {
    const fromCommits = (shas: string[], any = false) => {
      for (const s of series) {
        const r = commitsRelease(shas, any, table, s);
        if (r) add(c.id, r.at, r.by);
      }
    };
    // A `backports:` version; its commits join the row when commits.yaml gives the same release.
    for (const b of c.backports) add(c.id, b, []);
    fromCommits(c.commits, c.commitsAny);
    for (const b of c.broken) {
      for (const x of b.backports) add(c.id, x, []);
      fromCommits(b.broke);
      fromCommits(b.fixed);
    }
  }
  const kernels = verified.kernels.filter(provenRecord).map((k) => ({ k, v: parseVersion(k.version)! })).filter((x) => x.v);
  const side = (cases: Set<string>, pick: { k: KernelRecord } | undefined): LtsSide | null =>
    pick ? { kernel: pick.k, seen: [...cases].filter((id) => pick.k.with.includes(id) || pick.k.without.includes(id)).length } : null;
  return [...groups.values()]
    .sort((a, b) => cmpVersion(a.release, b.release))
    .map((g) => {
      const same = kernels.filter(({ v }) => seriesOf(v) === g.series);
      const before = same.filter(({ v }) => cmpVersion(v, g.release) < 0).sort((a, b) => cmpVersion(b.v, a.v))[0];
      const after = same.filter(({ v }) => cmpVersion(v, g.release) >= 0).sort((a, b) => cmpVersion(a.v, b.v))[0];
      return {
        series: g.series, release: g.release.join('.'), commits: [...g.commits].sort(), cases: [...g.cases].sort(),
        before: side(g.cases, before), after: side(g.cases, after),
      };
    });
}

function sideText(s: LtsSide | null, n: number): string {
  return s ? `${s.kernel.version} (${s.kernel.kernelId}; ${s.seen}/${n} cases as the catalog says)` : 'none run';
}

/** The open sides, e.g. "6.6 before 6.6.143". */
export function ltsGaps(rows: LtsChange[]): string[] {
  return rows.flatMap((r) => [...(r.before ? [] : [`${r.series} before ${r.release}`]), ...(r.after ? [] : [`${r.series} at/after ${r.release}`])]);
}

export function ltsText(rows: LtsChange[]): string {
  const lines = ['Changes inside an LTS series (first release of a backport: commits.yaml, catalog backports:) and the',
    'nearest kernel of proven identity of that series recorded on each side (verified.yaml):'];
  for (const r of rows) {
    lines.push(`  ${r.series.padEnd(5)} ${r.release.padEnd(9)} ${r.commits.join(', ') || '(backports: only)'}: ${r.cases.join(', ')}`);
    lines.push(`        before: ${sideText(r.before, r.cases.length)}   after: ${sideText(r.after, r.cases.length)}`);
  }
  const gaps = ltsGaps(rows);
  lines.push(`${rows.length} changes; ${gaps.length ? `no proven kernel run: ${gaps.join(', ')}` : 'each has a proven kernel run on both sides'}`);
  return lines.join('\n');
}

export function ltsMarkdown(rows: LtsChange[]): string {
  const cell = (s: LtsSide | null, n: number) => (s ? `${s.kernel.version} (${s.seen}/${n})` : '**none**');
  return ['| series | change at | commits | cases | before (proven) | at/after (proven) |', '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.series} | ${r.release} | ${r.commits.join(', ') || '(backports: only)'} | ${r.cases.map((c) => `\`${c}\``).join(', ')} | ` +
      `${cell(r.before, r.cases.length)} | ${cell(r.after, r.cases.length)} |`)].join('\n');
}
