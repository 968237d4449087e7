// KCIDB export validated against the real kcidb-io v5.3 schema: fixtures, a real host run
// through `report --kcidb`, and deliberately broken documents that the schema must reject.
// Known deviations: known-issues entries and catalog broken ranges as issues, xfail/xpass as incidents.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureCells, useFixtureCatalog } from '../fixtures/load.js';
import { allCases, loadCatalog, parseCatalog } from '../judge/catalog.js';
import { parseCommits } from '../judge/commits.js';
import { kcidb, LOG_EXCERPT_MAX } from './kcidb.js';
import { issueContents } from './kcidb-issues.js';
import { bumpVersions, StaleIssueVersions, type IssueVersions } from './kcidb-versions.js';
import { applyKnownIssues, parseKnownIssues } from '../judge/known-issues.js';
import { kcidbErrors } from './kcidb-validate.js';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd: repoPath() });
type Obj = Record<string, unknown>;
type Doc = { version: unknown; checkouts: Obj[]; builds: Obj[]; tests: Obj[]; issues: Obj[]; incidents: Obj[] };

describe('kcidb() on the fixture run', () => {
  beforeAll(useFixtureCatalog);

  it('validates against the v5.3 schema; one checkout and build per kernel, one test per case', () => {
    const cells = fixtureCells();
    const doc = kcidb(cells, { origin: 'my_lab' }) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    expect(doc.version).toEqual({ major: 5, minor: 3 });
    expect(doc.checkouts).toHaveLength(cells.length);
    expect(doc.builds).toHaveLength(cells.length);
    for (const t of doc.tests) {
      expect(t.path).toMatch(/^pidfd\.[a-z0-9_]+\.[a-z0-9_]+$/);
      expect(String(t.id)).toMatch(/^my_lab:/);
    }
    expect(new Set(doc.tests.map((t) => t.status))).toEqual(new Set(['PASS', 'FAIL', 'SKIP', 'ERROR']));
    expect(new Set(doc.tests.map((t) => t.id)).size).toBe(doc.tests.length);
  });

  it('a container cell\'s tests name its userspace, libc6, seccomp profile and runtime (the kernel is the host\'s)', () => {
    const load = (id: string) => JSON.parse(readFileSync(repoPath(`harness/fixtures/userspace/${id}.json`), 'utf8')) as CellResult;
    const doc = kcidb([load('host'), load('bookworm-deny-getfd')]) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    const env = (t: Record<string, unknown>) => t.environment as { comment: string; misc: Record<string, unknown> };
    const inContainer = doc.tests.find((t) => String(t.id).includes(':bookworm-deny-getfd:'))!;
    expect(env(inContainer).comment).toMatch(/^container \(bookworm userspace, seccomp deny-pidfd-getfd\.json, runc, host kernel\) on /);
    expect(env(inContainer).misc).toMatchObject({ userspace: 'bookworm', libc6: '2.36-9+deb12u14', seccomp_profile: 'deny-pidfd-getfd.json', runtime: 'runc' });
    expect(env(doc.tests.find((t) => String(t.id).includes(':host:'))!).misc).not.toHaveProperty('userspace');
  });

  it('keeps log excerpts within the schema limit', () => {
    const cells = fixtureCells();
    cells[0].cases[0].log = 'x'.repeat(40_000);
    const doc = kcidb(cells) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    expect(String(doc.tests[0].log_excerpt).length).toBeLessThanOrEqual(LOG_EXCERPT_MAX);
  });

  it('the schema rejects broken documents (wrong status, bad path, bad origin, unknown field, no version)', () => {
    const good = () => kcidb(fixtureCells()) as Doc;
    const broken: [string, (d: Doc) => void][] = [
      ['status', (d) => { d.tests[0].status = 'XFAIL'; }],
      ['path', (d) => { d.tests[0].path = 'pidfd/open self'; }],
      ['origin', (d) => { d.builds[0].origin = 'Pidfd-Matrix'; }],
      ['field', (d) => { d.checkouts[0].kernel = '6.12'; }],
      ['time', (d) => { d.tests[0].start_time = 'yesterday'; }],
      ['version', (d) => { delete (d as Partial<Doc>).version; }],
    ];
    for (const [what, breakIt] of broken) {
      const d = good();
      breakIt(d);
      expect(kcidbErrors(d), what).not.toEqual([]);
    }
  });
});

// Recorded fixture results with known deviations: trixie (6.12.57) fails pidfd_info/exit_status
// and gives EINVAL for pidfd_open/nonblock; host (6.12.48) passes pidfd_open.
const KNOWN = `issues:
  - kernel: { version: ">=6.12 <6.13", mode: guest }
    test: pidfd_info/exit_status
    reason: "Debian 6.12 lacks the PIDFD_INFO_EXIT backport"
    link: https://bugs.example/1
  - kernel: host
    feature: pidfd_open
    reason: "was broken on the CI host"
    link: "see the CI host's changelog"
`;
// The fixture catalog plus broken ranges: one on a feature (its cases inherit it), one on a case.
const CATALOG = readFileSync(repoPath('harness/fixtures/catalog.yaml'), 'utf8')
  .replace(`      - id: nonblock
        probe: pidfd_open(pid, PIDFD_NONBLOCK)`, `      - id: nonblock
        probe: pidfd_open(pid, PIDFD_NONBLOCK)
        broken:
          - { from: "6.12", to: "6.12.60", reason: "fixture: NONBLOCK refused", fixed: [aaaaaaaaaaaa] }`)
  .replace(`    introduced: "6.13"
    without: { errno: ENOTTY }`, `    introduced: "6.13"
    without: { errno: ENOTTY }
    broken:
      - { from: "6.14", to: "6.15", reason: "fixture: GET_INFO broken", ref: "https://lore.example/r/1. (thread)" }`);
const COMMITS = parseCommits(`commits:
  aaaaaaaaaaaa: { subject: "pidfd: accept PIDFD_NONBLOCK", mainline: "6.13", stable: {} }
`);

/** The versions an update records for these sources (over `recorded`). */
function versionsFor(known = KNOWN, catalogText = CATALOG, recorded: IssueVersions = {}): IssueVersions {
  return bumpVersions(recorded, issueContents({ knownIssues: parseKnownIssues(known), catalog: parseCatalog(catalogText), commits: COMMITS }));
}

function knownDoc(known = KNOWN, catalogText = CATALOG, issueVersions = versionsFor(known, catalogText)): Doc {
  const entries = parseKnownIssues(known);
  const cells = fixtureCells().map((c) => applyKnownIssues(c, entries, new Date('2026-11-23')).cell);
  return kcidb(cells, { knownIssues: entries, catalog: parseCatalog(catalogText), commits: COMMITS, issueVersions }) as Doc;
}
const byTest = (d: Doc, kernel: string, id: string) => d.tests.find((t) => String(t.id).includes(`:${kernel}:`) && String(t.id).endsWith(`:${id}`))!;
const incidentOf = (d: Doc, t: Obj) => d.incidents.filter((i) => i.test_id === t.id);

describe('kcidb() issues and incidents on recorded results with known issues', () => {
  it('every known-issues entry and every broken range is an issue; the document validates', () => {
    const d = knownDoc();
    expect(kcidbErrors(d)).toEqual([]);
    expect(d.issues.map((i) => i.id)).toEqual([
      'pidfd_matrix:known:pidfd_info/exit_status:version >=6.12 <6.13, mode guest',
      'pidfd_matrix:known:pidfd_open:id host',
      'pidfd_matrix:broken:pidfd_open/nonblock:6.12',
      'pidfd_matrix:broken:pidfd_info:6.14',
    ]);
    for (const i of d.issues) {
      expect(i.version).toSatisfy((v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 31);
      expect(i.culprit).toEqual({ code: true, harness: false, tool: false });
    }
    const [exitStatus, hostOpen, nonblockRange, infoRange] = d.issues;
    expect(exitStatus).toMatchObject({ report_url: 'https://bugs.example/1', comment: expect.stringContaining('Debian 6.12 lacks') });
    // A link that is no URL stays in misc; a URL inside a range's ref is its report_url.
    expect(hostOpen).not.toHaveProperty('report_url');
    expect(hostOpen.misc).toMatchObject({ link: "see the CI host's changelog" });
    expect(infoRange.report_url).toBe('https://lore.example/r/1');
    // A range with a mainline fix names that commit and its subject.
    expect(nonblockRange).toMatchObject({ report_url: 'https://git.kernel.org/torvalds/c/aaaaaaaaaaaa', report_subject: 'pidfd: accept PIDFD_NONBLOCK' });
  });

  it('an xfail is a FAIL with an incident present: true; an xpass a PASS with one present: false', () => {
    const d = knownDoc();
    const issue = (id: string) => d.issues.find((i) => i.id === id)!;
    // known-issues entry, guest failure -> xfail
    const exitStatus = byTest(d, 'trixie', 'pidfd_info/exit_status');
    expect(exitStatus.status).toBe('FAIL');
    expect(incidentOf(d, exitStatus)).toEqual([expect.objectContaining({
      issue_id: issue('pidfd_matrix:known:pidfd_info/exit_status:version >=6.12 <6.13, mode guest').id,
      issue_version: issue('pidfd_matrix:known:pidfd_info/exit_status:version >=6.12 <6.13, mode guest').version,
      build_id: exitStatus.build_id, present: true,
    })]);
    // catalog range, xfail recorded by the judge
    const nonblock = byTest(d, 'trixie', 'pidfd_open/nonblock');
    expect(nonblock.status).toBe('FAIL');
    expect(incidentOf(d, nonblock)).toEqual([expect.objectContaining({
      issue_id: 'pidfd_matrix:broken:pidfd_open/nonblock:6.12', issue_version: issue('pidfd_matrix:broken:pidfd_open/nonblock:6.12').version, present: true,
    })]);
    // known-issues entry for a feature, both cases pass on the host -> xpass, the issue was absent
    for (const id of ['pidfd_open/basic', 'pidfd_open/nonblock']) {
      const t = byTest(d, 'host', id);
      expect(t.status).toBe('PASS');
      expect(incidentOf(d, t)).toEqual([expect.objectContaining({ issue_id: 'pidfd_matrix:known:pidfd_open:id host', present: false })]);
    }
    expect(d.incidents).toHaveLength(4);
    expect(new Set(d.incidents.map((i) => i.id)).size).toBe(4);
    // every incident links a test of this document to an issue of this document, at its version
    for (const i of d.incidents) {
      expect(d.tests.some((t) => t.id === i.test_id && t.build_id === i.build_id)).toBe(true);
      expect(d.issues.some((x) => x.id === i.issue_id && x.version === i.issue_version)).toBe(true);
    }
  });

  it('an xfail or xpass no issue explains gets no incident: SKIP and PASS as before', () => {
    const d = knownDoc();
    // host's exit_status xfail and cgroupid xpass come from `introduced: 6.15/6.13`, not a range
    const xfail = byTest(d, 'host', 'pidfd_info/exit_status');
    const xpass = byTest(d, 'host', 'pidfd_info/cgroupid');
    expect([xfail.status, xpass.status]).toEqual(['SKIP', 'PASS']);
    expect([...incidentOf(d, xfail), ...incidentOf(d, xpass)]).toEqual([]);
    expect((xfail.misc as Obj).pidfd_matrix_status).toBe('xfail');
    // without the sources the writer names no issue at all
    const bare = kcidb(fixtureCells()) as Doc;
    expect([bare.issues, bare.incidents]).toEqual([[], []]);
    expect(byTest(bare, 'trixie', 'pidfd_open/nonblock').status).toBe('SKIP');
  });

  it('ids are stable; the version is the recorded one: an edit is refused until the update raises it by one', () => {
    const a = knownDoc(), b = knownDoc();
    expect(b.issues).toEqual(a.issues);
    expect(b.incidents).toEqual(a.incidents);
    const versions = (d: Doc) => Object.fromEntries(d.issues.map((i) => [i.id, i.version]));
    expect(Object.values(versions(a))).toEqual([1, 1, 1, 1]);
    const recorded = versionsFor();
    // reordering entries changes nothing
    const [head, e1, e2] = KNOWN.split(/\n(?=  - )/);
    expect(versions(knownDoc([head, e2, e1].join('\n'), CATALOG, recorded))).toEqual(versions(a));
    // a new reason: the recorded version no longer stands for it, so the writer refuses it by id
    const id = 'pidfd_matrix:known:pidfd_info/exit_status:version >=6.12 <6.13, mode guest';
    const newReason = KNOWN.replace('lacks the PIDFD_INFO_EXIT backport', 'lacks the backport (Debian #1)');
    expect(() => knownDoc(newReason, CATALOG, recorded)).toThrow(StaleIssueVersions);
    expect(() => knownDoc(newReason, CATALOG, recorded)).toThrow(/exit_status:version >=6\.12 <6\.13, mode guest: changed since version 1[^]*kcidb versions --update/);
    // after the update: same id, version 2, and the incident names it
    const edited = knownDoc(newReason, CATALOG, versionsFor(newReason, CATALOG, recorded));
    expect(versions(edited)[id]).toBe(2);
    expect(edited.incidents.find((i) => i.issue_id === id)!.issue_version).toBe(2);
    expect(edited.incidents.find((i) => i.issue_id === id)!.id).not.toBe(a.incidents.find((i) => i.issue_id === id)!.id);
    // a moved end of a broken range: that issue alone goes to 2
    const movedCatalog = CATALOG.replace('to: "6.12.60"', 'to: "6.12.61"');
    const moved = versions(knownDoc(KNOWN, movedCatalog, versionsFor(KNOWN, movedCatalog, recorded)));
    expect(moved).toEqual({ ...versions(a), 'pidfd_matrix:broken:pidfd_open/nonblock:6.12': 2 });
    // another origin shares the recorded versions: the origin is not part of an issue's content
    const entries = parseKnownIssues(KNOWN);
    const other = kcidb(fixtureCells(), { origin: 'my_lab', knownIssues: entries, catalog: parseCatalog(CATALOG), commits: COMMITS, issueVersions: recorded }) as Doc;
    expect(other.issues.map((i) => i.version)).toEqual([1, 1, 1, 1]);
  });

  it('the schema rejects broken issues and incidents (no version, negative version, present as text, bad url)', () => {
    const broken: [string, (d: Doc) => void][] = [
      ['issue version', (d) => { delete d.issues[0].version; }],
      ['negative', (d) => { d.issues[0].version = -1; }],
      ['present', (d) => { d.incidents[0].present = 'yes'; }],
      ['issue_version', (d) => { delete d.incidents[0].issue_version; }],
      ['url', (d) => { d.issues[0].report_url = 'see the CI host'; }],
      ['culprit', (d) => { (d.issues[0].culprit as Obj).kernel = true; }],
    ];
    for (const [what, breakIt] of broken) {
      const d = knownDoc();
      breakIt(d);
      expect(kcidbErrors(d), what).not.toEqual([]);
    }
  });
});

describe('report --kcidb on a real host run', () => {
  it('writes a valid KCIDB file: a test per case, the real catalog\'s ranges and one known issue as issues, its incident', { timeout: 180_000 }, () => {
    delete process.env.PIDFD_MATRIX_CATALOG;
    const out = mkdtempSync(join(tmpdir(), 'pm-kcidb-'));
    const run = cli(['probe', '--out', join(out, 'host')]);
    expect(run.status, run.stderr).toBe(0);
    // One real case listed as known on this host: it passes here (xpass, the issue absent); a
    // host where it fails would make it xfail and the incident present.
    const known = join(out, 'known-issues.yaml');
    writeFileSync(known, `issues:
  - kernel: { mode: host }
    test: pidfd_open/self
    reason: "listed to show the KCIDB incident of a known issue"
    link: https://man7.org/linux/man-pages/man2/pidfd_open.2.html
`);
    const file = join(out, 'kcidb.json');
    // The entry has no recorded version: report refuses it, naming the id and the update for these files.
    const unrecorded = cli(['report', out, '--known-issues', known, '--kcidb', file]);
    expect(unrecorded.status).toBe(2);
    expect(unrecorded.stderr).toContain('known:pidfd_open/self:mode host: no version recorded');
    expect(unrecorded.stderr).toContain(`kcidb versions --update --known-issues ${known}`);
    const versions = join(out, 'versions.yaml');
    const update = cli(['kcidb', 'versions', '--update', '--known-issues', known, '--versions', versions]);
    expect(update.status, update.stdout + update.stderr).toBe(0);
    const r = cli(['report', out, '--known-issues', known, '--kcidb', file, '--kcidb-origin', 'pidfd_ci', '--kcidb-versions', versions]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    const cell = JSON.parse(readFileSync(join(out, 'host', 'results.json'), 'utf8')) as CellResult;
    expect(doc.tests).toHaveLength(cell.cases.length);
    expect(doc.tests.filter((t) => t.status === 'PASS').length).toBe(cell.cases.filter((c) => c.status === 'pass' || c.status === 'xpass').length);
    // Issues: the entry, and every broken range of the shipped catalog (where it is declared).
    const features = loadCatalog();
    const ranges = new Set([...features.flatMap((f) => f.base.broken), ...allCases(features).flatMap((c) => c.broken)]);
    expect(doc.issues.filter((i) => String(i.id).startsWith('pidfd_ci:broken:'))).toHaveLength(ranges.size);
    const issue = doc.issues.find((i) => i.id === 'pidfd_ci:known:pidfd_open/self:mode host')!;
    expect(issue).toMatchObject({ report_url: 'https://man7.org/linux/man-pages/man2/pidfd_open.2.html', version: 1 });
    const self = doc.tests.find((t) => String(t.id).endsWith(':pidfd_open/self'))!;
    const status = (self.misc as Obj).pidfd_matrix_status;
    expect(['xpass', 'xfail']).toContain(status);
    // Only this case is listed, and the host kernel is in no broken range: one incident.
    expect(doc.incidents).toEqual([expect.objectContaining({
      test_id: self.id, build_id: self.build_id, issue_id: issue.id, issue_version: issue.version, present: status === 'xfail',
    })]);
    expect(r.stderr).toContain(`${doc.tests.length} tests, ${doc.issues.length} issues, 1 incident, valid KCIDB v5.3`);
    expect(cli(['report', out, '--kcidb', file, '--kcidb-origin', 'Bad-Origin']).status).toBe(2);
  });
});
