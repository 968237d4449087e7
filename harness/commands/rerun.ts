// `pidfd-matrix rerun <cell> [--test ID]`: print and run the command stored in a cell's
// results.json that reproduces the whole cell or one test, so nobody has to reconstruct
// flags, kernel source or boot options by hand.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { intOption, parseOptions } from './args.js';
import { REPO_ROOT } from '../../suites/lib/paths.js';
import { loadCellResults, parseCellResult, ResultsError, writeMatrixReports } from '../report/reports.js';
import type { CellResult } from '../results.js';
import { UsageError, type Command } from './types.js';

const usage = `Usage: pidfd-matrix rerun <cell> [--test ID] [--repeat N] [--results DIR] [--dry-run]

Print, then run, the rerun command recorded in a cell's results.json: the whole cell
(cell.rerun), or one test (that case's rerun). Exits with the command's exit code. The run
directory's merged junit.xml, summary.md and index.html are then merged again from all its
cells (the rerun cell as it is now).

<cell> is a kernel id (reads <results>/<cell>/results.json), a directory holding
results.json, or the path of a results.json file.

Options:
  --test ID       one test: <feature>/<case>; or <feature> for all its cases
  --repeat N      run it N times in the one boot (the recorded --repeat, if any, replaced):
                  chasing a flaky answer; N=1 drops a recorded --repeat
  --results DIR   where kernel ids are looked up (default: reports)
  --dry-run       print the command(s) without running them
  -h, --help      this text`;

function resultsFile(cellArg: string, resultsDir: string): string {
  const candidates = [
    cellArg.endsWith('.json') ? resolve(cellArg) : null,
    existsSync(cellArg) && statSync(cellArg).isDirectory() ? join(resolve(cellArg), 'results.json') : null,
    join(resultsDir, cellArg, 'results.json'),
  ].filter((p): p is string => p !== null);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new UsageError(`no results for '${cellArg}': looked for ${candidates.join(', ')} (run pidfd-matrix probe or matrix first, or pass --results DIR)`);
  return found;
}

/** The command(s) that rerun `test` (a test or a feature id) on this cell. */
export function rerunCommands(cell: CellResult, test: string | undefined): { commands: string[]; note?: string } {
  if (!test) return { commands: [cell.rerun] };
  if (cell.error && cell.cases.length === 0)
    return { commands: [cell.rerun], note: `kernel ${cell.kernelId} did not run any test (${cell.error.reason}): rerunning the whole cell` };
  const exact = cell.cases.find((c) => c.id === test);
  if (exact) return { commands: [exact.rerun] };
  const ofFeature = cell.cases.filter((c) => c.feature === test);
  if (ofFeature.length === 0) {
    const ids = [...new Set(cell.cases.flatMap((c) => [c.feature, c.id]))].sort();
    throw new UsageError(`kernel ${cell.kernelId} has no test or feature '${test}'; it has: ${ids.join(', ')}`);
  }
  // One command for the feature when each case's command differs only by its own id.
  const asFeature = new Set(ofFeature.map((c) => c.rerun.split(c.id).join(test)));
  if (asFeature.size === 1 && ofFeature.every((c) => c.rerun.includes(c.id))) return { commands: [...asFeature] };
  return { commands: [...new Set(ofFeature.map((c) => c.rerun))] };
}

/** The command with `--repeat N` (replacing one it carries); N=1 runs each case once. */
export function withRepeat(command: string, n: number): string {
  const bare = command.replace(/ --repeat(?:=| )\S+/g, '');
  return n > 1 ? `${bare} --repeat ${n}` : bare;
}

function runShell(command: string): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', command], { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('error', fail);
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] ?? 0 : 0)));
  });
}

/**
 * The rerun wrote its one cell's merged reports over the run's (junit.xml, summary, index):
 * merge every cell of that run directory again, as `pidfd-matrix report DIR` would.
 */
async function remergeRun(runDir: string): Promise<void> {
  if (!existsSync(join(runDir, 'junit.xml'))) return;
  const cells = (await loadCellResults(runDir)).map((r) => r.cell);
  if (cells.length < 2) return;
  await writeMatrixReports(cells, runDir);
  console.log(`rerun: ${runDir}/junit.xml, summary.md and index.html merged again from its ${cells.length} cells`);
}

export const rerunCommand: Command = {
  name: 'rerun',
  summary: 'rerun one kernel cell, or one test on it, from its results.json',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      test: { type: 'string' }, results: { type: 'string' }, 'dry-run': { type: 'boolean' }, repeat: { type: 'string' },
    }, usage);
    const repeat = intOption(values.repeat, 'repeat');
    if (positionals.length !== 1) throw new UsageError(`${positionals.length ? `one cell, got ${positionals.length} arguments` : 'which cell? e.g. pidfd-matrix rerun host --test pidfd_open/basic'}\n\n${usage}`);
    const file = resultsFile(positionals[0], resolve(values.results ?? join(REPO_ROOT, 'reports')));
    let cell: CellResult;
    try {
      cell = parseCellResult(readFileSync(file, 'utf8'), file);
    } catch (e) {
      if (e instanceof ResultsError) throw new UsageError(e.message);
      throw e;
    }
    const found = rerunCommands(cell, values.test);
    const { note } = found;
    const commands = repeat === undefined ? found.commands : found.commands.map((c) => withRepeat(c, repeat));
    if (note) console.error(`note: ${note}`);
    let worst = 0;
    for (const cmd of commands) {
      console.log(`$ ${cmd}`);
      if (values['dry-run']) continue;
      const code = await runShell(cmd);
      if (code !== 0) worst = worst || code;
    }
    if (!values['dry-run']) await remergeRun(dirname(dirname(file)));
    return worst;
  },
};
