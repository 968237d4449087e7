// `pidfd-matrix probe`: the whole suite on the running kernel (host mode, and what the
// matrix runs inside each guest). Writes results.json + junit.xml, prints a table.
import { resolve } from 'node:path';
import { intOption, parseOptions } from './args.js';
import { allCases, loadCatalog } from '../judge/catalog.js';
import { loadKnownIssues } from '../judge/known-issues.js';
import { healthFromTaint } from '../judge/health.js';
import { repoPath } from '../../suites/lib/paths.js';
import { writeMatrixReports } from '../report/reports.js';
import { DEFAULT_REPORTS, writersHelp } from '../report/formats.js';
import { finishCell } from '../run/finish-cell.js';
import { reportsOption, kcidbContext } from './reports-option.js';
import { runSuite } from '../run/run-suite.js';
import { isBad } from '../status.js';
import { statusTable } from '../report/table.js';
import { UsageError, type Command } from './types.js';
import { listTests } from '../run/list-tests.js';
import { firstConfig } from '../../kernels/config.js';

const usage = `Usage: pidfd-matrix probe [--kernel-id ID] [--out DIR] [--test ID[,ID...]] [--repeat N] [--kmsg-markers] [--verbose]
                          [--reports FORMAT[,FORMAT...]] [--kcidb-origin NAME] [--kcidb-versions FILE]
                          [--own-core-pattern]

Run the pidfd probe suite on the running kernel and write DIR/results.json (raw
observations, judged here), DIR/junit.xml and DIR/observations.jsonl (the stream each case
appends as it ends). Each case has a deadline (20 s, or the catalog's 'deadline:'): a case
that hangs or crashes the runner is an error, and the rest still run. Prints a feature table;
exits 1 when any test failed or errored, 0 otherwise (skip, xfail and xpass do not fail the run).

Options:
  --kernel-id ID   id recorded for this kernel (default: host); letters, digits, - and _
  --out DIR        output directory (default: reports/<kernel-id>)
  --test IDS       only these tests: feature ids or feature/case ids, comma separated
  --repeat N       run each selected case N times in this one run (default 1), each run with
                   its own deadline; the verdict counts the runs per answer (compared in the
                   catalog's terms, not pids or inode numbers): one answer is judged as usual
                   ("N/N runs"), two or more are an error ("unstable: 97/100 gave ..."). A
                   progress line every few seconds; rerun lines carry --repeat N
  --rerun-prefix S command prefix printed as each test's rerun command (used by matrix)
  --kmsg-markers   write "pidfd-matrix: case <id> start" (and end, with the taint value)
                   to /dev/kmsg around each case, so kernel reports on the console can be
                   attributed to a case (the matrix passes it to guests)
  --verbose        show the probe runner's own output while the suite runs
  --own-core-pattern  let the coredump cases (coredump_socket, coredump_pipe_pidfd, ...) set
                   kernel.core_pattern, which is one value for the whole system: each case sets
                   it, makes a child dump core and writes the old value back. Needs root. Without
                   it those cases are skips that name this option (a guest booted by matrix owns
                   its system and runs them)
  --reports LIST   the formats to write into DIR besides results.json, comma separated
                   (default: ${DEFAULT_REPORTS.probe.join(',')}):
${writersHelp('                     ')}
  --kcidb-origin NAME  the KCIDB origin of --reports kcidb (default: pidfd_matrix)
  --kcidb-versions FILE  the KCIDB issue versions (default: kernels/kcidb-issue-versions.yaml);
                   checked before anything runs: an issue edited without \`kcidb versions --update\`
                   stops the command at once with that command
  --list           print the test ids (with --test: the selected ones) with their feature and
                   area, then exit 0 without running anything
  -h, --help       this text`;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'run the probe suite on the running kernel (host mode)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      'kernel-id': { type: 'string' }, out: { type: 'string' }, test: { type: 'string' },
      'rerun-prefix': { type: 'string' }, verbose: { type: 'boolean' }, 'kmsg-markers': { type: 'boolean' },
      list: { type: 'boolean' }, repeat: { type: 'string' }, reports: { type: 'string' }, 'kcidb-origin': { type: 'string' }, 'kcidb-versions': { type: 'string' },
      'own-core-pattern': { type: 'boolean' },
    }, usage);
    const repeat = intOption(values.repeat, 'repeat');
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${usage}`);
    const kernelId = values['kernel-id'] ?? 'host';
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(kernelId))
      throw new UsageError(`--kernel-id '${kernelId}' must be lower-case letters, digits, '-' or '_' (no dots: it becomes a JUnit classname)`);
    const tests = values.test?.split(',').map((t) => t.trim()).filter(Boolean);
    if (tests?.length) {
      const known = new Set(allCases(loadCatalog()).flatMap((c) => [c.id, c.feature]));
      const unknown = tests.filter((t) => !known.has(t));
      if (unknown.length) throw new UsageError(`unknown test id(s): ${unknown.join(', ')} (ids are feature or feature/case from suites/catalog/*.yaml)`);
    }
    if (values.list) {
      console.log(listTests(tests));
      return 0;
    }
    const writers = reportsOption(values.reports, DEFAULT_REPORTS.probe, values['kcidb-origin']);
    const versionsFile = values['kcidb-versions'] === undefined ? undefined : resolve(values['kcidb-versions']);
    if (versionsFile && !writers.some((w) => w.name === 'kcidb')) throw new UsageError('--kcidb-versions goes with --reports ...,kcidb');
    // Before the suite runs: a stale issue version would otherwise fail only after it.
    const reportContext = kcidbContext(writers, values['kcidb-origin'], versionsFile);
    const out = resolve(values.out ?? repoPath('reports', kernelId));
    const command = ['npx pidfd-matrix probe', ...argv].join(' ');
    console.error(`pidfd-matrix probe: running the suite on ${kernelId}${repeat && repeat > 1 ? `, each case ${repeat} times` : ''} ...`);
    const { cell } = await runSuite({
      kernelId, tests, command, dir: out, rerunPrefix: values['rerun-prefix'], echo: values.verbose, kmsgMarkers: values['kmsg-markers'],
      repeat, progress: (l) => console.error(`pidfd-matrix probe: ${l}`), ownCorePattern: values['own-core-pattern'],
    });
    // Only the running kernel's own copy: in a guest, /boot is the host's.
    const config = firstConfig(['/proc/config.gz']);
    // Here only the taint record is at hand; the matrix judges a guest again from its console.
    const judged = await finishCell(cell, {
      provenance: config ? { configHash: config.sha256, configSource: config.file } : undefined,
      knownIssues: loadKnownIssues(),
      health: healthFromTaint(cell.taint, values['kmsg-markers']
        ? { bootIsOurs: true, checked: 'taint before and after the suite (the console is read by the host)' } : {}),
      dir: out, writers, warn: (w) => console.error(`warning: ${w}`),
    });
    // One cell: the whole-run formats without a per-cell file (html, summary, kcidb, ...) go beside it.
    await writeMatrixReports([judged], out, { writers: writers.filter((w) => !w.cell), context: reportContext });
    // Only the rows this run covered (a --test run would otherwise list the whole catalog as '-').
    const rows = judged.cases.map(({ id, feature, case: c, area, title }) => ({ id, feature, case: c, area, title }));
    console.log(statusTable([judged], { color: process.stdout.isTTY, rows }));
    console.log(`results: ${out}/results.json  junit: ${out}/junit.xml`);
    const bad = judged.cases.filter((c) => isBad(c.status));
    for (const c of bad) console.log(`${c.status.toUpperCase()} ${c.id}: ${c.reason}\n  rerun: ${c.rerun}`);
    if (judged.error) console.log(`ERROR ${kernelId}: ${judged.error.reason}${judged.error.consoleExcerpt ? `\n${judged.error.consoleExcerpt}` : ''}`);
    return bad.length || judged.error ? 1 : 0;
  },
};
