// Known deviations as KCIDB v5.3 issues, and each xfail or xpass as an incident (pure; used by
// kcidb.ts). The schema's own words decide the mapping (third_party/kcidb, $defs issue/incident).
//
// Issues: every kernels/known-issues.yaml entry and every catalog `broken` range, whether or not
// this run met it (an issue is a fact about kernels, not about one run).
//   id       <origin>:known:<test or feature>:<kernel selector>  what a known-issues entry is about
//            <origin>:broken:<feature>[/<case>]:<from>           where a range is declared, and the
//                                                                release that broke it
//            Editing a reason, link, expiry, or a range's end, backports or fix keeps the id.
//   version  from kernels/kcidb-issue-versions.yaml (kcidb-versions.ts): KCIDB triages by the
//            highest version of an id, so an edit must raise it, which a hash cannot promise.
//            An issue whose content is not the one its recorded version stands for is refused
//            (StaleIssueVersions names `kcidb versions --update`); the origin is not part of it.
//   report_url / report_subject  the entry's own URL (known-issues `link`, a URL in a range's
//            `ref`); else, for a range with a `fixed` commit in a mainline release, that
//            commit on git.kernel.org and its subject (the commit message describes the bug).
//   culprit  { code: true }: a listed deviation is the tested kernel's (or its distro's or
//            LSM's) behaviour; the harness and the probe (the "tool") are not at fault.
import type { BrokenRange, CatalogCase, CatalogFeature } from '../judge/catalog.js';
import { findCommit, type CommitTable } from '../judge/commits.js';
import { expectationIn } from '../judge/judge.js';
import { describeSelector, knownIssueFor, type KnownIssue } from '../judge/known-issues.js';
import type { CaseResult, CellResult } from '../results.js';
import { fmtVersion } from '../judge/version.js';
import { staleIssues, StaleIssueVersions, type IssueContent, type IssueVersions } from './kcidb-versions.js';

export type KcidbObject = Record<string, unknown>;

/** An issue to submit, and what the incidents need to link to it. */
export interface IssueRef { id: string; version: number; issue: KcidbObject }

/** What the writer knows about known deviations: the applied entries and the catalog judged by. */
export interface IssueSources {
  knownIssues?: KnownIssue[];
  catalog?: CatalogFeature[];
  /** suites/catalog/commits.yaml: the subjects of the commits a range names. */
  commits?: CommitTable;
}

const clean = (s: string): string => s.replace(/\0/g, '\\0');

/** Only an absolute http(s) URL is a report_url (the schema's `uri` format); a bare sha or a note is not. */
function asUrl(s: string | undefined): string | undefined {
  const m = s ? /https?:\/\/[^\s)\]>,;"']+/.exec(s) : null;
  const url = m?.[0].replace(/[.:]+$/, '');
  if (!url) return undefined;
  try {
    new URL(url);
    return url;
  } catch {
    return undefined;
  }
}

const CULPRIT = { code: true, harness: false, tool: false };

function knownIssueKey(e: KnownIssue): string {
  return `${e.test ?? e.feature}:${describeSelector(e.kernel)}`;
}

/** One issue per known-issues entry; an entry repeating another's test and selector gets #2, #3. */
function knownIssueContents(entries: KnownIssue[]): Map<KnownIssue, IssueContent> {
  const contents = new Map<KnownIssue, IssueContent>();
  const seen = new Map<string, number>();
  for (const e of entries) {
    const key = knownIssueKey(e);
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const url = asUrl(e.link);
    const about = e.test ? `test ${e.test}` : `feature ${e.feature} (every case)`;
    contents.set(e, {
      key: `known:${key}${n > 1 ? `#${n}` : ''}`,
      content: {
        comment: clean(`${e.reason} (known issue: ${about} on ${describeSelector(e.kernel)}`
          + `${e.expires ? `, review by ${e.expires}` : ''})`),
        ...(url ? { report_url: url } : {}),
        culprit: CULPRIT,
        misc: {
          source: 'known-issues', ...(e.test ? { test: e.test } : { feature: e.feature }),
          kernel: describeSelector(e.kernel),
          ...(e.link ? { link: clean(e.link) } : {}), ...(e.expires ? { expires: e.expires } : {}),
        },
      },
    });
  }
  return contents;
}

/** Each range where it is written: on the feature (its cases inherit it) or on one case. */
function declaredRanges(features: CatalogFeature[]): { range: BrokenRange; at: string }[] {
  const out: { range: BrokenRange; at: string }[] = [];
  for (const f of features) {
    const own = new Set(f.base.broken);
    for (const range of f.base.broken) out.push({ range, at: f.id });
    for (const c of f.cases) for (const range of c.broken) if (!own.has(range)) out.push({ range, at: c.id });
  }
  return out;
}

function brokenRangeContents(features: CatalogFeature[], commits: CommitTable | undefined): Map<BrokenRange, IssueContent> {
  const contents = new Map<BrokenRange, IssueContent>();
  const seen = new Map<string, number>();
  for (const { range: b, at } of declaredRanges(features)) {
    if (contents.has(b)) continue;
    const key = `${at}:${fmtVersion(b.from)}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const fixes = b.fixed.map((sha) => commits && findCommit(commits, sha)).filter((x) => !!x);
    const mainlineFix = fixes.find((x) => x.mainline);
    const ownUrl = asUrl(b.ref);
    const report = ownUrl ? { report_url: ownUrl }
      : mainlineFix ? {
        report_url: `https://git.kernel.org/torvalds/c/${mainlineFix.sha}`, report_subject: clean(mainlineFix.subject),
      } : {};
    const fixedIn = b.backports.length ? `, fixed in ${b.backports.map(fmtVersion).join(', ')}` : '';
    const span = `broken from ${fmtVersion(b.from)} until ${fmtVersion(b.to)}${fixedIn}`;
    contents.set(b, {
      key: `broken:${key}${n > 1 ? `#${n}` : ''}`,
      content: {
        comment: clean(`${b.reason} (catalog: ${at} ${span})`),
        ...report,
        culprit: CULPRIT,
        misc: {
          source: 'catalog', at, from: fmtVersion(b.from), to: fmtVersion(b.to), ...(b.ref ? { ref: clean(b.ref) } : {}),
          backports: b.backports.map(fmtVersion), broke: b.broke, fixed: b.fixed,
          fixed_subjects: fixes.map((x) => clean(x.subject)),
        },
      },
    });
  }
  return contents;
}

/** Every issue the sources state, in the order the writer submits them (known-issues first). */
export function issueContents(sources: IssueSources): IssueContent[] {
  return [
    ...knownIssueContents(sources.knownIssues ?? []).values(),
    ...brokenRangeContents(sources.catalog ?? [], sources.commits).values(),
  ];
}

/** Links results to issues; built once per document. Throws StaleIssueVersions for an unrecorded edit. */
export class IssueIndex {
  readonly issues: KcidbObject[];
  private readonly known: Map<KnownIssue, IssueRef>;
  private readonly broken: Map<BrokenRange, IssueRef>;
  private readonly cases: Map<string, CatalogCase>;

  constructor(private readonly sources: IssueSources, origin: string, versions: IssueVersions) {
    const known = knownIssueContents(sources.knownIssues ?? []);
    const broken = brokenRangeContents(sources.catalog ?? [], sources.commits);
    const stale = staleIssues(versions, [...known.values(), ...broken.values()]);
    if (stale.length) throw new StaleIssueVersions(stale);
    const ref = ({ key, content }: IssueContent): IssueRef => {
      const id = `${origin}:${key}`;
      const { version } = versions[key];
      return { id, version, issue: { id, version, origin, ...content } };
    };
    this.known = new Map([...known].map(([e, c]) => [e, ref(c)]));
    this.broken = new Map([...broken].map(([b, c]) => [b, ref(c)]));
    this.cases = new Map((sources.catalog ?? []).flatMap((f) => f.cases.map((c) => [c.id, c] as const)));
    this.issues = [...this.known.values(), ...this.broken.values()].map((r) => r.issue);
  }

  /**
   * The issue behind an xfail or xpass: the known-issues entry that set it (applyKnownIssues
   * marks those with `knownIssue`), else the catalog range the judge found for this kernel.
   * null for any other status, and for an xpass against a plain `introduced` version (no issue
   * claims that kernel broken: the catalog lacks a backport, which the test's reason says).
   */
  issueFor(cell: CellResult, c: CaseResult): IssueRef | null {
    if (c.status !== 'xfail' && c.status !== 'xpass') return null;
    if (c.knownIssue) {
      const e = knownIssueFor(this.sources.knownIssues ?? [], cell, c);
      return e ? this.known.get(e) ?? null : null;
    }
    const kase = this.cases.get(c.id);
    const range = kase && cell.facts ? expectationIn(kase, cell.facts).range : undefined;
    return range ? this.broken.get(range) ?? null : null;
  }
}
