// The report formats, as a list. A new format is one module exporting a ReportWriter
// (harness/report/writer.ts) and one line here; `--reports` selects among them by name.
import { resultsWriter, type ReportWriter } from './writer.js';
import { junitWriter } from './junit.js';
import { ktapWriter } from './ktap.js';
import { htmlWriter } from './html.js';
import { summaryWriter } from './markdown.js';
import { policyWriter } from './policy.js';
import { kcidbWriter } from './kcidb.js';

const WRITERS: ReportWriter[] = [junitWriter, ktapWriter, htmlWriter, summaryWriter, policyWriter, kcidbWriter];

/** What a run writes when `--reports` is not given: matrix and report write the whole set, probe one cell's files. */
export const DEFAULT_REPORTS = {
  run: ['junit', 'ktap', 'html', 'summary', 'policy'],
  probe: ['junit', 'ktap'],
} as const;

export class ReportsError extends Error {}

/** Add a format to the list (its name must be new). */
export function registerWriter(w: ReportWriter): void {
  if (w.name === resultsWriter.name || WRITERS.some((x) => x.name === w.name)) throw new Error(`a report writer named '${w.name}' exists already`);
  WRITERS.push(w);
}

export function writerNames(): string[] {
  return WRITERS.map((w) => w.name);
}

/** The --help lines of the formats, one per writer. */
export function writersHelp(indent = '  '): string {
  const width = Math.max(...WRITERS.map((w) => w.name.length));
  return WRITERS.map((w) => `${indent}${w.name.padEnd(width)}  ${w.description}`).join('\n');
}

/**
 * The writers of `names` (a --reports value: comma separated, or a list), results.json always
 * first; the error names the formats there are.
 */
export function selectWriters(names: string | readonly string[]): ReportWriter[] {
  const list = (typeof names === 'string' ? names.split(',') : [...names]).map((n) => n.trim()).filter(Boolean);
  const unknown = list.filter((n) => n !== resultsWriter.name && !WRITERS.some((w) => w.name === n));
  if (unknown.length) throw new ReportsError(`unknown report format(s): ${unknown.join(', ')} (there are: ${writerNames().join(', ')})`);
  return [resultsWriter, ...WRITERS.filter((w) => list.includes(w.name))];
}
