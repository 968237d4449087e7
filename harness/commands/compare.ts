// `pidfd-matrix compare BASE_DIR NEW_DIR`: per (kernel, test), what changed between two runs.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseOptions } from './args.js';
import { compareCells, compareText, isRegression, pairCells } from '../report/compare.js';
import { loadCellResults, ResultsError } from '../report/reports.js';
import { matrixHtml } from '../report/html.js';
import { newSkipsMarkdown } from '../report/new-skips.js';
import { UsageError, type Command } from './types.js';

const usage = `Usage: pidfd-matrix compare BASE_DIR NEW_DIR [--pair BASE_ID=NEW_ID ...] [--json FILE] [--html FILE] [--new-skips]

Compare two runs (directories of results.json files, as matrix, probe and report write them)
test by test, for every kernel id they share, and list:
  new-failure          fail now, not fail before (or a new test that fails)
  new-error            error now, not error before (did not run: boot, panic, hang, crash)
  fixed                fail or error before, anything else now
  status-changed       any other status change (e.g. skip -> pass, pass -> xfail)
  observation-changed  same status, but an observed value the expected answers talk about
                       differs (an errno that went from ESRCH to EBADF is news); raw pids,
                       fds and inode numbers are not compared
  new-test, gone-test  the catalog changed between the runs

Exit status: 1 when there is any new failure or new error, 0 otherwise; 2 for bad input.

Options:
  --pair B=N     compare base kernel id B with new kernel id N (e.g. trixie=my-build);
                 repeatable. Without it kernels pair by id; when each run has exactly one
                 kernel, those two pair whatever their ids.
  --json FILE    also write the changes as JSON
  --html FILE    also write the new run's feature x kernel matrix with every changed cell
                 outlined; hover or click a cell for its old status and observation
  --new-skips    instead: the tests each base cell ran (any status but skip) that its new
                 cell skips, grouped by the new cell's reason, as a markdown table (an arm64
                 cell against its x86_64 twin: what the arch axis does not run, and why)
  -h, --help     this text`;

export const compareCommand: Command = {
  name: 'compare',
  summary: 'list new failures, fixes, new errors and changed observations between two runs',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { pair: { type: 'string', multiple: true }, json: { type: 'string' }, html: { type: 'string' }, 'new-skips': { type: 'boolean' } }, usage);
    if (positionals.length !== 2) throw new UsageError(`compare takes two results dirs (base, new), got ${positionals.length}\n\n${usage}`);
    const pairs: Record<string, string> = {};
    for (const p of values.pair ?? []) {
      const m = /^([a-z0-9][a-z0-9_-]*)=([a-z0-9][a-z0-9_-]*)$/.exec(p);
      if (!m) throw new UsageError(`--pair wants BASE_ID=NEW_ID (kernel ids), got '${p}'`);
      pairs[m[1]] = m[2];
    }
    let base, next;
    try {
      base = (await loadCellResults(resolve(positionals[0]))).map((l) => l.cell);
      next = (await loadCellResults(resolve(positionals[1]))).map((l) => l.cell);
    } catch (e) {
      if (e instanceof ResultsError) throw new UsageError(e.message);
      throw e;
    }
    if (!base.length) throw new UsageError(`no results.json under ${positionals[0]}`);
    if (!next.length) throw new UsageError(`no results.json under ${positionals[1]}`);
    if (!values.pair && base.length === 1 && next.length === 1) pairs[base[0].kernelId] = next[0].kernelId;
    const { paired, onlyBase, onlyNew } = pairCells(base, next, pairs);
    if (!paired.length)
      throw new UsageError(`the runs share no kernel id (base: ${base.map((c) => c.kernelId).join(', ')}; new: ${next.map((c) => c.kernelId).join(', ')}): name pairs with --pair BASE_ID=NEW_ID`);
    if (values['new-skips']) {
      for (const p of paired) console.log(newSkipsMarkdown(p.base, p.next));
      return 0;
    }
    const changes = compareCells(paired);
    console.log(`comparing ${paired.map((p) => (p.base.kernelId === p.next.kernelId ? p.base.kernelId : `${p.base.kernelId} -> ${p.next.kernelId}`)).join(', ')}`);
    if (onlyBase.length) console.log(`only in base (not compared): ${onlyBase.join(', ')}`);
    if (onlyNew.length) console.log(`only in new (not compared): ${onlyNew.join(', ')}`);
    console.log(compareText(changes));
    if (values.json) await writeFile(values.json, JSON.stringify(changes, null, 2) + '\n');
    if (values.html) await writeFile(values.html, matrixHtml(next, { changes }));
    return changes.some(isRegression) ? 1 : 0;
  },
};
