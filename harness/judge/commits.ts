// The upstream commits behind catalog boundaries (suites/catalog/commits.yaml, data) and, per
// stable series, the first release that carries each one. Loaded and validated here; the
// commit oracle (harness/judge/commit-oracle.ts) asks it about plain versions and Debian kernels.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { repoPath } from '../../suites/lib/paths.js';
import { cmpVersion, fmtVersion, parseVersion, type Version } from './version.js';
import type { CommitAnswer } from '../results.js';

export const COMMITS_FILE = 'commits.yaml';
export const COMMITS_PATH = repoPath('suites/catalog', COMMITS_FILE);

/** Exactly one per series: the first release with it, not taken, or not known yet (and why). */
export type SeriesEntry =
  | { release: Version; evidence: string }
  | { taken: false; evidence: string }
  | { unknown: string };

export interface CommitEntry {
  sha: string;                // the key as written (12 hex digits or more)
  subject: string;
  mainline: Version | null;   // first mainline release containing it (null: not in a release yet)
  stable: Map<string, SeriesEntry>;  // "6.12" -> entry
}

export type CommitTable = Map<string, CommitEntry>;

export class CommitsError extends Error {}

const SHA = /^[0-9a-f]{12,40}$/;
const SERIES = /^\d+\.\d+$/;
const FIX = 'see the schema at the top of suites/catalog/commits.yaml';

function fail(where: string, msg: string): never {
  throw new CommitsError(`${where}: ${msg}`);
}

function text(where: string, field: string, v: unknown): string {
  if (typeof v !== 'string' || !v.trim()) fail(where, `'${field}' must be a non-empty string (${FIX})`);
  return v;
}

function seriesEntry(where: string, series: string, raw: unknown): SeriesEntry {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    fail(where, `must be a map: { release: "${series}.N", evidence: "..." }, { taken: false, evidence: "..." } or { unknown: "why" }`);
  const r = raw as Record<string, unknown>;
  const kinds = ['release', 'taken', 'unknown'].filter((k) => r[k] !== undefined);
  if (kinds.length !== 1) fail(where, `give exactly one of release, taken: false or unknown (got ${kinds.join(', ') || 'none'})`);
  const extra = Object.keys(r).filter((k) => !['release', 'taken', 'unknown', 'evidence'].includes(k));
  if (extra.length) fail(where, `unknown key(s) ${extra.join(', ')}; allowed: release, taken, unknown, evidence`);
  if (r.unknown !== undefined) return { unknown: text(where, 'unknown', r.unknown) };
  const evidence = text(where, 'evidence', r.evidence);
  if (r.taken !== undefined) {
    if (r.taken !== false) fail(where, `'taken' can only be false (a series that took it gives its first release: release: "${series}.N")`);
    return { taken: false, evidence };
  }
  const v = typeof r.release === 'string' ? parseVersion(r.release) : null;
  if (!v || !/^\d+\.\d+\.\d+$/.test(String(r.release)))
    fail(where, `'release' must be a quoted stable release like "${series}.31", got ${JSON.stringify(r.release)}`);
  if (`${v[0]}.${v[1]}` !== series) fail(where, `release ${fmtVersion(v)} is not in the ${series} series`);
  return { release: v, evidence };
}

export function parseCommits(src: string, file = COMMITS_FILE): CommitTable {
  let doc: unknown;
  try {
    doc = parse(src);
  } catch (e) {
    throw new CommitsError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const commits = (doc as { commits?: unknown } | null)?.commits;
  if (commits === null || commits === undefined) return new Map();
  if (typeof commits !== 'object' || Array.isArray(commits))
    fail(file, `top level must be a map with a 'commits:' map of upstream shas (${FIX})`);
  const table: CommitTable = new Map();
  for (const [sha, raw] of Object.entries(commits as Record<string, unknown>)) {
    const at = `${file} commits.${sha}`;
    if (!SHA.test(sha)) fail(at, `the key must be an upstream commit id of 12 to 40 lowercase hex digits (e.g. 0fb482728ba1)`);
    for (const other of table.keys())
      if (other.startsWith(sha) || sha.startsWith(other)) fail(at, `the same commit as ${other}: give each commit once`);
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(at, `must be a map with subject, mainline and stable`);
    const r = raw as Record<string, unknown>;
    const extra = Object.keys(r).filter((k) => !['subject', 'mainline', 'stable', 'note'].includes(k));
    if (extra.length) fail(at, `unknown key(s) ${extra.join(', ')}; allowed: subject, mainline, stable, note`);
    let mainline: Version | null = null;
    if (r.mainline !== null && r.mainline !== undefined) {
      mainline = typeof r.mainline === 'string' && /^\d+\.\d+$/.test(r.mainline) ? parseVersion(r.mainline) : null;
      if (!mainline)
        fail(at, `'mainline' must be the first mainline release containing it, quoted, like "6.15" (or null: in no release yet), got ${JSON.stringify(r.mainline)}`);
    } else if (r.mainline === undefined) {
      fail(at, `'mainline' is missing: the first mainline release containing it, like "6.15" (null if none yet)`);
    }
    const stable = new Map<string, SeriesEntry>();
    const rawStable = r.stable ?? {};
    if (typeof rawStable !== 'object' || Array.isArray(rawStable)) fail(at, `'stable' must be a map of series ("6.12") to entries`);
    for (const [series, e] of Object.entries(rawStable as Record<string, unknown>)) {
      if (!SERIES.test(series)) fail(`${at} stable`, `series key '${series}' must be "X.Y" (quoted), e.g. "6.12"`);
      const v = parseVersion(series)!;
      if (mainline && cmpVersion(v, mainline) >= 0)
        fail(`${at} stable."${series}"`, `series ${series} is at or after mainline ${fmtVersion(mainline)}, which has the commit: drop it`);
      stable.set(series, seriesEntry(`${at} stable."${series}"`, series, e));
    }
    table.set(sha, { sha, subject: text(at, 'subject', r.subject), mainline, stable });
  }
  return table;
}

let cached: CommitTable | null = null;

/** The table beside the catalog; an absent file is an empty table (every boundary keeps its version rule). */
export function loadCommits(path = COMMITS_PATH): CommitTable {
  if (path === COMMITS_PATH && cached) return cached;
  const t = existsSync(path) ? parseCommits(readFileSync(path, 'utf8'), path) : new Map();
  if (path === COMMITS_PATH) cached = t;
  return t;
}

/** The table's key for a sha (any prefix of 12+ digits, or a longer sha of a shorter key), or null. */
export function findCommit(table: CommitTable, sha: string): CommitEntry | null {
  const s = sha.toLowerCase();
  for (const [k, e] of table) if (k.startsWith(s) || s.startsWith(k)) return e;
  return null;
}

// CommitAnswer(s) are part of results.json (facts.commits): defined in results.ts.
export type { CommitAnswer, CommitAnswers } from '../results.js';

/**
 * The per-series table for a kernel known only by its upstream version: X.Y at or after mainline
 * has it; else the series' first release decides; taken: false lacks it; anything else is unknown.
 */
export function tableAnswer(e: CommitEntry, v: Version): CommitAnswer {
  const series = `${v[0]}.${v[1]}`;
  const ver = fmtVersion(v);
  if (e.mainline && cmpVersion([v[0], v[1], 0], e.mainline) >= 0)
    return { has: true, by: `stable table: mainline ${fmtVersion(e.mainline)} <= ${ver}` };
  const s = e.stable.get(series);
  if (!s) {
    if (e.mainline === null) return { has: null, by: `stable table: ${e.sha} is in no mainline release and ${series} is not listed` };
    return { has: null, by: `stable table: ${series} not listed for ${e.sha} (first release in that series unknown)` };
  }
  if ('unknown' in s) return { has: null, by: `stable table: ${series} unknown (${s.unknown})` };
  if ('taken' in s) return { has: false, by: `stable table: ${series} did not take it` };
  const rel = s.release.join('.');
  return cmpVersion(v, s.release) >= 0
    ? { has: true, by: `stable table: ${rel} <= ${v.join('.')}` }
    : { has: false, by: `stable table: ${v.join('.')} < ${rel}` };
}
