// What the kernel's pidfd selftests and LTP check, mapped to the catalog cases that check the same
// (suites/catalog/upstream.yaml, issue 20). Data a user edits; this module only loads and checks it:
// every row has one status, a `no` row has a reason, and every id names a case of the catalog.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allCases, CATALOG_PATH, type CatalogFeature } from './catalog.js';

export const UPSTREAM_FILE = 'upstream.yaml';
export const UPSTREAM_PATH = join(CATALOG_PATH, UPSTREAM_FILE);

/**
 * `neither`: behaviours no upstream suite checks that issue 20 listed (optional in the file), so a
 * behaviour left out there is a reasoned row too, not a silent gap.
 */
export const SUITES = ['selftests', 'ltp', 'neither'] as const;
const OPTIONAL_SUITES: readonly UpstreamSuite[] = ['neither'];
export type UpstreamSuite = (typeof SUITES)[number];
export type CoverageStatus = 'yes' | 'partly' | 'no';

export interface CoverageRow {
  suite: UpstreamSuite;
  file: string;
  revision: string;
  test: string;
  what: string;
  status: CoverageStatus;
  /** Catalog case or feature ids, as written. */
  cases: string[];
  /** partly: what is not checked here; no: why nothing is. */
  reason: string;
}

export interface Coverage {
  revisions: Record<string, string>;
  rows: CoverageRow[];
}

export class UpstreamError extends Error {}

const str = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function idList(v: unknown, where: string, key: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every(str))
    throw new UpstreamError(`${where}: '${key}' must be a non-empty list of case ids`);
  return v as string[];
}

/**
 * A `no` reason must say why nothing checks the test. "not probed yet", "TODO" and the like only
 * say that nothing does (issue 20's must-show: no row is "no" without a written reason).
 */
const PLACEHOLDER = /^\s*(not (yet )?(probed|checked|covered|done|written|implemented)\b|todo\b|tbd\b|later\b|pending\b|n\/a\b|-+\s*$)/i;
const MIN_REASON = 30;

/** One test entry: exactly one of covered / partly (+ missing) / no (a reason). */
type RowBase = Omit<CoverageRow, 'test' | 'what' | 'status' | 'cases' | 'reason'>;

function row(t: Record<string, unknown>, base: RowBase, where: string): CoverageRow {
  if (!str(t.test)) throw new UpstreamError(`${where}: a test without 'test:' (its function name)`);
  const at = `${where} ${t.test}`;
  const given = ['covered', 'partly', 'no'].filter((k) => k in t);
  if (given.length !== 1)
    throw new UpstreamError(`${at}: give exactly one of 'covered: [ids]', 'partly: [ids]' with 'missing:', `
      + `or 'no: "reason"' (found ${given.join(', ') || 'none'})`);
  const known = new Set(['test', 'what', 'covered', 'partly', 'missing', 'no', 'note']);
  const extra = Object.keys(t).filter((k) => !known.has(k));
  if (extra.length) throw new UpstreamError(`${at}: unknown key(s) ${extra.join(', ')}`);
  const what = str(t.what) ? t.what : '';
  if ('covered' in t) {
    if ('missing' in t) throw new UpstreamError(`${at}: 'missing:' belongs to a 'partly:' row`);
    return { ...base, test: t.test, what, status: 'yes', cases: idList(t.covered, at, 'covered'), reason: '' };
  }
  if ('partly' in t) {
    if (!str(t.missing)) throw new UpstreamError(`${at}: a 'partly:' row must say what is 'missing:'`);
    return { ...base, test: t.test, what, status: 'partly', cases: idList(t.partly, at, 'partly'), reason: t.missing };
  }
  if (!str(t.no)) throw new UpstreamError(`${at}: 'no' without a reason: write why it is not checked (no: "...")`);
  if (PLACEHOLDER.test(t.no) || t.no.trim().length < MIN_REASON)
    throw new UpstreamError(`${at}: 'no: "${t.no}"' says that it is not checked, not why: write the reason (not pidfd `
      + `behaviour, a setup the suite cannot make, ...), or add the case and list it under 'covered:'`);
  if ('missing' in t) throw new UpstreamError(`${at}: 'missing:' belongs to a 'partly:' row`);
  return { ...base, test: t.test, what, status: 'no', cases: [], reason: t.no };
}

/** Parse and check upstream.yaml against the catalog (ids must exist). */
export function parseCoverage(text: string, file: string, features: CatalogFeature[]): Coverage {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new UpstreamError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new UpstreamError(`${file}: expected a mapping with 'selftests:' and 'ltp:'`);
  const d = doc as Record<string, unknown>;
  const revisions = (d.revisions ?? {}) as Record<string, string>;
  const rows: CoverageRow[] = [];
  for (const suite of SUITES) {
    const files = d[suite];
    if (files === undefined && OPTIONAL_SUITES.includes(suite)) continue;
    if (!Array.isArray(files)) throw new UpstreamError(`${file}: '${suite}:' must be a list of upstream files`);
    for (const [i, f] of (files as Record<string, unknown>[]).entries()) {
      const where = `${file}: ${suite}[${i}]${str(f?.file) ? ` ${f.file}` : ''}`;
      if (!str(f?.file)) throw new UpstreamError(`${where}: an entry without 'file:'`);
      if (!str(f.revision)) throw new UpstreamError(`${where}: 'revision:' (the upstream commit read) is required`);
      if (!Array.isArray(f.tests) || f.tests.length === 0) throw new UpstreamError(`${where}: 'tests:' must list its test functions`);
      for (const t of f.tests as Record<string, unknown>[]) rows.push(row(t ?? {}, { suite, file: f.file, revision: f.revision }, where));
    }
  }
  const ids = new Set(allCases(features).flatMap((c) => [c.id, c.feature]));
  const unknown = rows.flatMap((r) => r.cases.filter((id) => !ids.has(id)).map((id) => `${r.file} ${r.test}: '${id}'`));
  if (unknown.length)
    throw new UpstreamError(`${file}: unknown case id(s), not in suites/catalog/*.yaml (see pidfd-matrix probe --list):\n  `
      + unknown.join('\n  '));
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.suite} ${r.file} ${r.test}`;
    if (seen.has(key)) throw new UpstreamError(`${file}: ${r.file} lists '${r.test}' twice`);
    seen.add(key);
  }
  return { revisions, rows };
}

export function loadCoverage(features: CatalogFeature[], path = UPSTREAM_PATH): Coverage {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UpstreamError(`${path}: cannot read: ${(e as Error).message}`);
  }
  return parseCoverage(text, path, features);
}

export interface CoverageTotals { rows: number; yes: number; partly: number; no: number }

export function totals(rows: CoverageRow[]): CoverageTotals {
  const n = (s: CoverageStatus) => rows.filter((r) => r.status === s).length;
  return { rows: rows.length, yes: n('yes'), partly: n('partly'), no: n('no') };
}

const totalLine = (label: string, t: CoverageTotals) => `${label}: ${t.rows} tests, ${t.yes} covered, ${t.partly} partly, ${t.no} not`;

/** The terminal listing: one block per upstream file, one line per test. */
export function coverageText(c: Coverage): string {
  const out: string[] = [];
  let file = '';
  for (const r of c.rows) {
    if (r.file !== file) {
      file = r.file;
      out.push(`${r.suite} ${r.file} @ ${r.revision.slice(0, 12)}`);
    }
    const cases = r.cases.length ? `  [${r.cases.join(', ')}]` : '';
    const why = r.reason ? `\n         ${r.status === 'no' ? 'why' : 'missing'}: ${r.reason}` : '';
    out.push(`  ${r.status.padEnd(6)} ${r.test}${cases}${why}`);
  }
  out.push('');
  for (const s of SUITES) out.push(totalLine(s, totals(c.rows.filter((r) => r.suite === s))));
  out.push(totalLine('all', totals(c.rows)));
  return out.join('\n');
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The README table (markdown), regenerated by `catalog --coverage --markdown`. */
export function coverageMarkdown(c: Coverage): string {
  const t = (s: UpstreamSuite) => totals(c.rows.filter((r) => r.suite === s));
  const sum = (label: string, x: CoverageTotals) => `${label}: ${x.rows} tests, ${x.yes} covered, ${x.partly} partly, ${x.no} not covered`;
  const neither = t('neither');
  const lines = [
    `${sum('Selftests', t('selftests'))}; ${sum('LTP', t('ltp'))}${neither.rows ? `; ${sum('in neither suite', neither)}` : ''}.`,
    '',
    '| suite | file | test | status | cases | missing / why not |',
    '|---|---|---|---|---|---|',
    ...c.rows.map((r) => {
      const ids = r.cases.map((id) => `\`${id}\``).join(', ');
      return `| ${r.suite} | ${cell(r.file)} | ${cell(r.test)} | ${r.status} | ${ids} | ${cell(r.reason)} |`;
    }),
  ];
  return lines.join('\n');
}
