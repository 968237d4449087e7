// `pidfd-matrix report <results dir>`: regenerate every output (merged JUnit, index.html,
// summary.md, per-kernel results.json) from the results.json files of a run, re-applying
// kernels/known-issues.yaml so an edit to that file shows without rerunning any kernel.
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseOptions } from './args.js';
import { KnownIssuesError, loadKnownIssues, KNOWN_ISSUES_PATH, staleEntries } from '../judge/known-issues.js';
import { KCIDB_ORIGIN_RE } from '../report/kcidb.js';
import {
  ISSUE_VERSIONS_PATH, IssueVersionsError, loadIssueVersions, staleIssuesMessage, StaleIssueVersions, type IssueVersions,
} from '../report/kcidb-versions.js';
import { updateCommand } from './kcidb.js';
import { loadCellResults, ResultsError, writeMatrixReports } from '../report/reports.js';
import { DEFAULT_REPORTS, writersHelp } from '../report/formats.js';
import { finishCell } from '../run/finish-cell.js';
import { reportsOption } from './reports-option.js';
import { readFileSync } from 'node:fs';
import { isBad } from '../status.js';
import { statusTable, testRows } from '../report/table.js';
import { UsageError, type Command } from './types.js';
import {
  allCases, catalogCommits, CatalogError, loadCatalog, type CatalogCase, type CatalogFeature,
} from '../judge/catalog.js';
import type { CommitTable } from '../judge/commits.js';
import { rejudgeCell, type VerdictChange } from '../judge/rejudge.js';

const usage = `Usage: pidfd-matrix report <results dir> [--rejudge [--catalog PATH]] [--out DIR] [--known-issues FILE | --no-known-issues]
                           [--kcidb FILE [--kcidb-origin NAME] [--kcidb-versions FILE]] [--reports FORMAT[,FORMAT...]]
       pidfd-matrix report merge --out DIR <shard dir>... [same options]

Regenerate all outputs from the results.json files found under <results dir> (as written
by probe and matrix: <results dir>/<kernel-id>/results.json):
  DIR/junit.xml              merged JUnit, one testsuite per kernel
  DIR/results.ktap           the same grid as KTAP v1 (kunit.py parse reads it)
  DIR/index.html             self-contained feature x kernel matrix
  DIR/summary.md             markdown table, totals, failures with rerun commands
  DIR/<kernel-id>/results.json  (and junit.xml where one exists) with known issues re-applied
Prints the feature x kernel table. Exits 1 when any test failed or errored (like probe and
matrix), 2 when the results or the known-issues file cannot be read.

'report merge' joins the outputs of 'matrix --shard K/N' runs (each shard's --out dir, as CI
artifacts) into one DIR: every cell's directory (results.json, console logs) is copied in and
the merged JUnit, KTAP, HTML and summary are written as one matrix run writes them. A kernel
id found in two shard dirs is an error (exit 2).

With --rejudge, every stored answer is judged again from its raw observation and kernel
facts against the current catalog (suites/catalog/*.yaml) and known issues, with no guest
booted, and each verdict that changed is printed (CHANGED <kernel> <test>: old -> new).
Cases that never answered (deadline, crash, not reached) stay errors.

Options:
  --rejudge            judge the stored observations again (after a catalog edit)
  --catalog PATH       the catalog to judge by (default: suites/catalog/)
  --out DIR            where to write (default: <results dir>)
  --known-issues FILE  known deviations to apply (default: kernels/known-issues.yaml)
  --no-known-issues    keep the statuses exactly as recorded
  --kcidb FILE         also write a KernelCI KCIDB v5.3 submission: a checkout and a build
                       per kernel, a test per case (path pidfd.<feature>.<case>; PASS, FAIL,
                       SKIP, ERROR), each known-issues entry and catalog broken range as an
                       issue, and each xfail (FAIL, present) or xpass (PASS, absent) as an
                       incident naming its issue. It is validated against
                       third_party/kcidb/kcidb-v5.3.schema.json before it is written.
                       Each issue's version comes from kernels/kcidb-issue-versions.yaml: an
                       issue edited since its version was recorded is an error (exit 2) that
                       names the fix, \`pidfd-matrix kcidb versions --update\`.
  --kcidb-origin NAME  the KCIDB origin (your CI system's name; [a-z0-9_]+, default pidfd_matrix)
  --kcidb-versions FILE  the issue versions to use (default: kernels/kcidb-issue-versions.yaml);
                       with your own --known-issues, keep your own FILE (kcidb versions --versions)
  --reports LIST       the formats to write besides results.json, comma separated (default:
                       ${DEFAULT_REPORTS.run.join(',')}; kcidb writes DIR/kcidb.json):
${writersHelp('                         ')}
  -h, --help           this text`;

/** Every shard's cells, each cell's directory copied into `out` (console logs stay with it). */
async function loadShards(dirs: string[], out: string): Promise<Awaited<ReturnType<typeof loadCellResults>>> {
  const all: Awaited<ReturnType<typeof loadCellResults>> = [];
  const from = new Map<string, string>();
  for (const d of dirs) {
    for (const l of await loadCellResults(d, [out])) {
      const other = from.get(l.cell.kernelId);
      if (other) throw new ResultsError(`kernel id '${l.cell.kernelId}' is in two shards (${other} and ${l.file}): each kernel must be in exactly one shard`);
      from.set(l.cell.kernelId, l.file);
      const target = join(out, l.cell.kernelId);
      if (resolve(dirname(l.file)) !== target) await cp(dirname(l.file), target, { recursive: true });
      all.push(l);
    }
  }
  return all.sort((a, b) => String(a.cell.startedAt).localeCompare(String(b.cell.startedAt)) || a.cell.kernelId.localeCompare(b.cell.kernelId));
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'regenerate JUnit, HTML and markdown reports from results.json files',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      out: { type: 'string' }, 'known-issues': { type: 'string' }, 'no-known-issues': { type: 'boolean' },
      kcidb: { type: 'string' }, 'kcidb-origin': { type: 'string' }, 'kcidb-versions': { type: 'string' }, reports: { type: 'string' },
      rejudge: { type: 'boolean' }, catalog: { type: 'string' },
    }, usage);
    if (values.catalog && !values.rejudge) throw new UsageError(`--catalog only applies with --rejudge\n\n${usage}`);
    const origin = values['kcidb-origin'];
    // --kcidb FILE is --reports ...,kcidb with the document at FILE.
    const writers = reportsOption(values.kcidb ? `${values.reports ?? DEFAULT_REPORTS.run.join(',')},kcidb` : values.reports);
    const withKcidb = writers.some((w) => w.name === 'kcidb');
    if (origin !== undefined && !withKcidb) throw new UsageError(`--kcidb-origin goes with --kcidb FILE\n\n${usage}`);
    if (values['kcidb-versions'] && !withKcidb) throw new UsageError(`--kcidb-versions goes with --kcidb FILE\n\n${usage}`);
    if (origin !== undefined && !KCIDB_ORIGIN_RE.test(origin)) throw new UsageError(`--kcidb-origin '${origin}' must be lower-case letters, digits and _ (KCIDB's origin pattern)`);
    const merge = positionals[0] === 'merge';
    if (merge && (positionals.length < 2 || !values.out)) throw new UsageError(`report merge wants --out DIR and at least one shard dir\n\n${usage}`);
    if (!merge && positionals.length !== 1) throw new UsageError(`${positionals.length ? `one results dir, got ${positionals.length} arguments` : 'which results dir? e.g. pidfd-matrix report reports'}\n\n${usage}`);
    if (values['known-issues'] && values['no-known-issues']) throw new UsageError(`--known-issues and --no-known-issues exclude each other\n\n${usage}`);
    const dirs = (merge ? positionals.slice(1) : positionals).map((d) => resolve(d));
    const dir = dirs.join(', ');
    const out = resolve(values.out ?? dirs[0]);
    const versionsPath = values['kcidb-versions'] ? resolve(values['kcidb-versions']) : ISSUE_VERSIONS_PATH;

    let loaded;
    let entries;
    let catalog: CatalogCase[] = [];
    let table: CommitTable | undefined;
    // --kcidb writes the catalog's broken ranges as issues: the catalog the run is judged by.
    let features: CatalogFeature[] = [];
    let issueVersions: IssueVersions = {};
    try {
      if (values.rejudge || withKcidb) {
        const path = values.catalog ? resolve(values.catalog) : undefined;
        if (path && !existsSync(path)) throw new UsageError(`--catalog ${values.catalog}: no such file or directory`);
        features = loadCatalog(path);
        catalog = allCases(features);
        table = catalogCommits(path);
      }
      loaded = merge ? await loadShards(dirs, out) : await loadCellResults(dirs[0], [out]);
      const kiPath = values['known-issues'] ? resolve(values['known-issues']) : KNOWN_ISSUES_PATH;
      if (values['known-issues'] && !existsSync(kiPath)) throw new UsageError(`--known-issues ${values['known-issues']}: no such file`);
      entries = values['no-known-issues'] ? [] : loadKnownIssues(kiPath);
      if (withKcidb) issueVersions = loadIssueVersions(versionsPath);
    } catch (e) {
      if (e instanceof ResultsError || e instanceof KnownIssuesError || e instanceof CatalogError || e instanceof IssueVersionsError)
        throw new UsageError(e.message);
      throw e;
    }
    if (loaded.length === 0) throw new UsageError(`no results.json under ${dir} (run pidfd-matrix probe or matrix first)`);

    for (const w of staleEntries(entries, testRows(loaded.map((l) => l.cell)).map((r) => r.id))) console.error(`warning: ${w}`);
    const changes: VerdictChange[] = [];
    const cells = [];
    const warn = (w: string) => console.error(`warning: ${w}`);
    for (const { cell } of loaded) {
      let judged = cell;
      let knownIssues = values['no-known-issues'] ? null : entries;
      if (values.rejudge) {
        // rejudgeCell judges and applies the known issues itself (it reports what they changed).
        const r = rejudgeCell(cell, catalog, entries, new Date(), table);
        for (const w of r.warnings) warn(w);
        changes.push(...r.changes);
        [judged, knownIssues] = [r.cell, null];
      }
      cells.push(await finishCell(judged, { knownIssues, dir: join(out, cell.kernelId), writers, warn }));
    }
    const kcidbFile = values.kcidb ? resolve(values.kcidb) : join(out, 'kcidb.json');
    try {
      await writeMatrixReports(cells, out, {
        writers,
        context: withKcidb ? { kcidb: { origin, knownIssues: entries, catalog: features, commits: table, issueVersions }, kcidbFile } : {},
      });
    } catch (e) {
      if (!(e instanceof StaleIssueVersions)) throw e;
      const fix = updateCommand({
        versions: values['kcidb-versions'], knownIssues: values['known-issues'], catalog: values.catalog,
      });
      const own = (values['known-issues'] || values.catalog) && !values['kcidb-versions']
        ? '\nWith your own known-issues or catalog, keep your own versions file: add --versions FILE to that'
          + ' command and --kcidb-versions FILE to this one.'
        : '';
      throw new UsageError(staleIssuesMessage(e.stale, versionsPath, fix) + own);
    }
    if (withKcidb) {
      const doc = JSON.parse(readFileSync(kcidbFile, 'utf8')) as Record<string, unknown[]>;
      const n = (k: string) => `${doc[k].length} ${doc[k].length === 1 ? k.slice(0, -1) : k}`;
      console.error(`kcidb: ${kcidbFile} (${n('tests')}, ${n('issues')}, ${n('incidents')}, valid KCIDB v5.3)`);
    }
    console.log(statusTable(cells, { color: process.stdout.isTTY }));
    if (values.rejudge) {
      console.log('');
      for (const c of changes) console.log(`CHANGED ${c.kernelId} ${c.id}: ${c.from} -> ${c.to} (${c.reason})`);
      console.log(`rejudged ${cells.reduce((n, c) => n + c.cases.length, 0)} results of ${cells.length} kernel(s) with no guest booted: ${changes.length} verdict(s) changed`);
    }
    console.log(`\nreports: ${join(out, 'junit.xml')}  ${join(out, 'index.html')}  ${join(out, 'summary.md')}${cells.some((c) => c.container) ? `  ${join(out, 'policy.md')}` : ''}`);
    return cells.some((c) => c.error || c.cases.some((k) => isBad(k.status))) ? 1 : 0;
  },
};
