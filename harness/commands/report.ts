// `pidfd-matrix report <results dir>`: regenerate every output (merged JUnit, index.html,
// summary.md, per-kernel results.json) from the results.json files of a run, re-applying
// kernels/known-issues.yaml so an edit to that file shows without rerunning any kernel.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseOptions } from '../args.js';
import { applyKnownIssues, KnownIssuesError, loadKnownIssues, KNOWN_ISSUES_PATH, staleEntries } from '../known-issues.js';
import { writeJunit } from '../junit.js';
import { loadCellResults, ResultsError, writeMatrixReports } from '../reports.js';
import { isBad } from '../status.js';
import { statusTable, testRows } from '../table.js';
import { UsageError, type Command } from './types.js';

const usage = `Usage: pidfd-matrix report <results dir> [--out DIR] [--known-issues FILE | --no-known-issues]

Regenerate all outputs from the results.json files found under <results dir> (as written
by probe and matrix: <results dir>/<kernel-id>/results.json):
  DIR/junit.xml              merged JUnit, one testsuite per kernel
  DIR/index.html             self-contained feature x kernel matrix
  DIR/summary.md             markdown table, totals, failures with rerun commands
  DIR/<kernel-id>/results.json  (and junit.xml where one exists) with known issues re-applied
Prints the feature x kernel table. Exits 1 when any test failed or errored (like probe and
matrix), 2 when the results or the known-issues file cannot be read.

Options:
  --out DIR            where to write (default: <results dir>)
  --known-issues FILE  known deviations to apply (default: kernels/known-issues.yaml)
  --no-known-issues    keep the statuses exactly as recorded
  -h, --help           this text`;

export const reportCommand: Command = {
  name: 'report',
  summary: 'regenerate JUnit, HTML and markdown reports from results.json files',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      out: { type: 'string' }, 'known-issues': { type: 'string' }, 'no-known-issues': { type: 'boolean' },
    }, usage);
    if (positionals.length !== 1) throw new UsageError(`${positionals.length ? `one results dir, got ${positionals.length} arguments` : 'which results dir? e.g. pidfd-matrix report reports'}\n\n${usage}`);
    if (values['known-issues'] && values['no-known-issues']) throw new UsageError(`--known-issues and --no-known-issues exclude each other\n\n${usage}`);
    const dir = resolve(positionals[0]);
    const out = resolve(values.out ?? dir);

    let loaded;
    let entries;
    try {
      loaded = await loadCellResults(dir, [out]);
      const kiPath = values['known-issues'] ? resolve(values['known-issues']) : KNOWN_ISSUES_PATH;
      if (values['known-issues'] && !existsSync(kiPath)) throw new UsageError(`--known-issues ${values['known-issues']}: no such file`);
      entries = values['no-known-issues'] ? [] : loadKnownIssues(kiPath);
    } catch (e) {
      if (e instanceof ResultsError || e instanceof KnownIssuesError) throw new UsageError(e.message);
      throw e;
    }
    if (loaded.length === 0) throw new UsageError(`no results.json under ${dir} (run pidfd-matrix probe or matrix first)`);

    for (const w of staleEntries(entries, testRows(loaded.map((l) => l.cell)).map((r) => r.id))) console.error(`warning: ${w}`);
    const cells = loaded.map(({ cell }) => {
      if (values['no-known-issues']) return cell;
      const { cell: applied, warnings } = applyKnownIssues(cell, entries);
      for (const w of warnings) console.error(`warning: ${w}`);
      return applied;
    });
    await writeMatrixReports(cells, out);
    // A per-kernel junit.xml written by probe would otherwise keep the old statuses.
    for (const cell of cells) {
      const cellJunit = join(out, cell.kernelId, 'junit.xml');
      if (existsSync(cellJunit)) await writeJunit([cell], cellJunit);
    }
    console.log(statusTable(cells, { color: process.stdout.isTTY }));
    console.log(`\nreports: ${join(out, 'junit.xml')}  ${join(out, 'index.html')}  ${join(out, 'summary.md')}`);
    return cells.some((c) => c.error || c.cases.some((k) => isBad(k.status))) ? 1 : 0;
  },
};
