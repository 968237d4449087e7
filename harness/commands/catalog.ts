// `pidfd-matrix catalog`: the catalog's version boundaries and which of them real kernels have
// checked (suites/catalog/verified.yaml); `--record` updates that file from stored runs.
import { resolve } from 'node:path';
import { parseOptions } from './args.js';
import { allCases, catalogCommits, CatalogError, loadCatalog } from '../judge/catalog.js';
import { fmt } from '../judge/judge.js';
import { CommitsError, findCommit, type CommitTable } from '../judge/commits.js';
import { cmpVersion, fmtVersion, parseVersion } from '../judge/version.js';
import { describeIdentity } from '../../kernels/identity.js';
import { loadCellResults, ResultsError } from '../report/reports.js';
import { auditSkips } from '../judge/skip-audit.js';
import { boundaries, kernelTable, loadVerified, mergeRecords, provenRecord, recordCell, saveVerified, VERIFIED_PATH, VerifiedError, type Boundary, type KernelRecord } from '../judge/verification.js';
import { LTS_SERIES, ltsChanges, ltsMarkdown, ltsText } from '../judge/lts-changes.js';
import { coverageMarkdown, coverageText, loadCoverage, UpstreamError } from '../judge/upstream.js';
import { UsageError, type Command } from './types.js';

const usage = `Usage: pidfd-matrix catalog [--unverified] [--feature ID] [--table]
       pidfd-matrix catalog --coverage [--markdown]
       pidfd-matrix catalog --lts [--markdown]
       pidfd-matrix catalog --record <results dir>... [--verified FILE]

Show every version boundary of the feature catalog (suites/catalog/*.yaml: introduced,
stable backports, broken ranges) and whether a real kernel checked it, from the record in
suites/catalog/verified.yaml:
  verified      the new answer seen on a kernel of that series at or after the boundary,
                and the older answer on a kernel below it
  after only    only the new answer was seen (no older kernel gave the older one)
  before only   only the older answer was seen
  unverified    no observation on either side
  unobtainable  no kernel for that version here; the reason is in verified.yaml
Each line names the nearest kernels observed on either side. Only kernels of proven identity
(a Debian package, a tarball with its sha256, a public repository and commit: the identity in
verified.yaml) move a boundary; a side seen only on unproven kernels is named as such.
Under each boundary: its upstream commits (suites/catalog/commits.yaml) and, per stable series
(5.4, 5.10, 5.15, 6.1, 6.6, 6.12, 6.18 and any other the table lists), the first release carrying
them, "not taken", or why it is unknown; a boundary naming no commit is judged by version.
Answers read from the source of versions no kernel here shows are marked [source] (catalog
source_answers:); they are never counted as observed.

--record reads results.json files (as written by probe and matrix) and adds one entry per
kernel to the record, replacing an older entry of the same kernel: the cases whose stored
observation the current catalog accepts (pass, xpass, or the case's own without-answer).
Failed or errored cases are never recorded; cells that did not run are skipped. Each entry
carries the kernel's identity from the cell (never a machine path; a cell from before
identities: its Debian packages, else unproven). A re-recorded kernel keeps the stronger
identity: a proof in the record (made by hand against a second copy) is never downgraded by a
run that knows less (the host, an image by path), unless the run's own source hashes, commit,
Makefile or package show another kernel; each kept or replaced identity is printed. A partial
run (probe or matrix --test) replaces only the answers of the cases it ran. It also
names every skip without evidence: a skip must be the kernel's own answer (absent as
expected), a need the recorded facts prove unmet (SELinux off, not root, ...), a proven
Seccomp refusal, or a probe's refusal with its errno; any other skip may hide a check.

Options:
  --unverified     list only boundaries that are not verified
  --feature ID     only this feature (or feature/case)
  --table          kernels x features: how many cases of each feature each kernel answered
                   as the catalog says (markdown, for the README)
  --coverage       every test function of the kernel's pidfd selftests and of LTP's pidfd tests
                   (suites/catalog/upstream.yaml), each with its status: yes (case ids that
                   check it), partly (what is missing) or no (why), and the totals
  --lts            every change inside an LTS series (5.4 ... 6.18): the first release of a backport
                   (commits.yaml, or a case's backports:), its cases, and the nearest kernel of
                   proven identity of that series recorded before it and at or after it (with how
                   many of the cases it answered as the catalog says); ends with the open sides
  --markdown       with --coverage or --lts: the same as a markdown table (the README's)
  --record         treat the arguments as results dirs and update the record
  --verified FILE  the record to read/write (default: suites/catalog/verified.yaml)
  -h, --help       this text
Exit status: 0, or 2 when the catalog, the record, upstream.yaml or a results dir cannot be read
(an unknown case id or a 'no' row without a reason in upstream.yaml is such an error).`;

function line(b: Boundary): string {
  const sides = [b.after ? `new answer on ${b.after}` : null, b.before ? `older answer on ${b.before}` : null].filter(Boolean).join('; ');
  const weak = [b.unproven.after ? `new answer on ${b.unproven.after}` : null, b.unproven.before ? `older answer on ${b.unproven.before}` : null].filter(Boolean).join('; ');
  return `  ${b.state.padEnd(12)} ${`${b.kind} ${b.version}`.padEnd(20)} ${b.case}${sides ? `  (${sides})` : ''}${weak ? `  (unproven kernels only: ${weak})` : ''}` +
    `${b.note ? `  [${b.note}]` : ''}${b.commits.length ? '' : b.commitsUnknown ? '  {no commit named, version rule: see below}' : '  {no commit named: version rule}'}` +
    (b.commitsUnknown ? `\n      commit unknown: ${b.commitsUnknown}` : '');
}

/** The series every boundary is shown for (the LTS series), plus any other a commit's entry lists. */
const LTS = LTS_SERIES;

/** One commit of a boundary: subject, mainline release, and per stable series its first release or why unknown. */
export function commitLines(sha: string, table: CommitTable): string[] {
  const e = findCommit(table, sha);
  if (!e) return [`      ${sha}: not in commits.yaml`];
  const below = (s: string) => !e.mainline || cmpVersion(parseVersion(s)!, e.mainline) < 0;
  const series = [...new Set([...LTS, ...e.stable.keys()])].filter(below).sort((a, b) => cmpVersion(parseVersion(a)!, parseVersion(b)!));
  const known: string[] = [];
  const unknown: string[] = [];
  const unlisted: string[] = [];
  for (const s of series) {
    const x = e.stable.get(s);
    if (!x) unlisted.push(s);
    else if ('release' in x) known.push(`${s}: ${x.release.join('.')}`);
    else if ('taken' in x) known.push(`${s}: not taken`);
    else unknown.push(`${s} unknown: ${x.unknown}`);
  }
  // Older than every series shown: each has it from its .0, which is the answer per series.
  const inBase = !series.length && e.mainline ? [`        every series here (${LTS.join(', ')}) has it from its .0`] : [];
  return [
    `      ${e.sha} "${e.subject}" (mainline ${e.mainline ? fmtVersion(e.mainline) : 'none yet'})`,
    ...inBase,
    ...(known.length ? [`        ${known.join(' · ')}`] : []),
    ...unknown.map((u) => `        ${u}`),
    ...(unlisted.length ? [`        ${unlisted.join(', ')}: unknown (not researched: no entry in commits.yaml)`] : []),
  ];
}

export function tableMarkdown(records: ReturnType<typeof kernelTable>): string {
  const head = `| feature | ${records.kernels.map((k) => k.release === k.version ? k.version : `${k.version} (${k.release})`).join(' | ')} |`;
  const sep = `|---|${records.kernels.map(() => '---').join('|')}|`;
  return [head, sep, ...records.rows.map((r) => `| ${r.feature} | ${r.cells.map((c) => c || '·').join(' | ')} |`)].join('\n');
}

export const catalogCommand: Command = {
  name: 'catalog',
  summary: 'the catalog\'s version boundaries, which real kernels verified them, and --record from runs',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      unverified: { type: 'boolean' }, feature: { type: 'string' }, table: { type: 'boolean' },
      record: { type: 'boolean' }, verified: { type: 'string' }, coverage: { type: 'boolean' }, markdown: { type: 'boolean' },
      lts: { type: 'boolean' },
    }, usage);
    if (values.markdown && !values.coverage && !values.lts) throw new UsageError(`--markdown goes with --coverage or --lts\n\n${usage}`);
    if (values.coverage) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${usage}`);
      try {
        const coverage = loadCoverage(loadCatalog());
        console.log(values.markdown ? coverageMarkdown(coverage) : coverageText(coverage));
      } catch (e) {
        if (e instanceof CatalogError || e instanceof UpstreamError) throw new UsageError(e.message);
        throw e;
      }
      return 0;
    }
    const path = values.verified ? resolve(values.verified) : VERIFIED_PATH;
    let features, verified, table;
    try {
      features = loadCatalog();
      verified = loadVerified(path);
      table = catalogCommits();
    } catch (e) {
      if (e instanceof CatalogError || e instanceof VerifiedError || e instanceof CommitsError) throw new UsageError(e.message);
      throw e;
    }
    if (values.record) {
      if (positionals.length === 0) throw new UsageError(`which results dir? e.g. pidfd-matrix catalog --record reports\n\n${usage}`);
      const records: KernelRecord[] = [];
      const ran = new Map<KernelRecord, Set<string>>();
      for (const dir of positionals) {
        let loaded;
        try {
          loaded = await loadCellResults(resolve(dir));
        } catch (e) {
          if (e instanceof ResultsError) throw new UsageError(e.message);
          throw e;
        }
        if (loaded.length === 0) throw new UsageError(`no results.json under ${dir} (run pidfd-matrix probe or matrix first)`);
        for (const { cell } of loaded) {
          const r = recordCell(cell, features);
          if (r.skipped) console.error(`skipped: ${r.skipped}`);
          for (const d of r.dropped) console.error(`not recorded (${cell.kernelId}): ${d}`);
          for (const f of auditSkips(cell, features)) console.error(`skip without evidence (${cell.kernelId}): ${f.id}: ${f.why} (reason: ${f.reason})`);
          if (r.record) {
            records.push(r.record);
            ran.set(r.record, r.ran);
            const id = r.record.identity!;
            console.log(`recorded ${r.record.version} (${r.record.release}, ${cell.kernelId}): ${r.record.with.length} with, ${r.record.without.length} without, ${r.record.xpass.length} xpass; ${describeIdentity(id)}${id.proven ? '' : ': unproven, it does not move a boundary on its own'}`);
          }
        }
      }
      const notes: string[] = [];
      saveVerified(mergeRecords(verified, records, notes, ran), path);
      for (const n of notes) if (n.includes('a partial run')) console.log(`record of ${n}`);
      for (const n of notes) if (!n.includes('a partial run')) console.log(`identity of ${n}`);
      console.log(`updated ${path}`);
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (did you mean --record?)\n\n${usage}`);
    if (values.lts) {
      const rows = ltsChanges(features, table, verified);
      console.log(values.markdown ? ltsMarkdown(rows) : ltsText(rows));
      return 0;
    }
    if (values.table) {
      console.log(tableMarkdown(kernelTable(features, verified)));
      return 0;
    }
    const sel = values.feature;
    const all = boundaries(features, verified).filter((b) => !sel || b.case === sel || b.case.startsWith(`${sel}/`));
    if (sel && all.length === 0) throw new UsageError(`no catalog feature or case '${sel}'`);
    const shown = values.unverified ? all.filter((b) => b.state !== 'verified') : all;
    let feature = '';
    const byId = new Map(allCases(features).map((c) => [c.id, c]));
    const sourced = new Set<string>();
    for (const b of shown) {
      const f = b.case.split('/')[0];
      if (f !== feature) {
        feature = f;
        console.log(f);
      }
      console.log(line(b));
      if (b.commitsAny) console.log('      any one of these brings the answer:');
      for (const sha of b.commits) for (const l of commitLines(sha, table)) console.log(l);
      // Answers read from the source of versions no kernel here shows: once per case, never observed.
      const c = byId.get(b.case);
      if (c && !sourced.has(c.id)) {
        sourced.add(c.id);
        for (const a of c.sourceAnswers) console.log(`      [source] ${fmtVersion(a.version)}: ${fmt(a.answer)}; ${a.evidence.replace(/^\[source\]\s*/, '')}`);
      }
    }
    const count = (s: string) => all.filter((b) => b.state === s).length;
    console.log(`\n${all.length} boundaries: ${count('verified')} verified, ${count('after only')} after only, ${count('before only')} before only, ${count('unverified')} unverified, ${count('unobtainable')} unobtainable; ${verified.kernels.length} kernels recorded in ${path}`);
    const weak = all.filter((b) => b.unproven.after || b.unproven.before);
    const unprovenKernels = verified.kernels.filter((k) => !provenRecord(k)).map((k) => k.version);
    const why = all.filter((b) => !b.commits.length && b.commitsUnknown).length;
    console.log(`${all.filter((b) => b.commits.length).length} boundaries name their commits, ${all.filter((b) => !b.commits.length).length} are judged by version only` +
      ` (${why} of them say why no commit is named, ${all.filter((b) => !b.commits.length).length - why} not researched)`);
    if (weak.length) console.log(`${weak.length} boundaries have a side seen only on kernels of unproven identity (${unprovenKernels.join(', ')}): they do not move on those alone`);
    return 0;
  },
};
