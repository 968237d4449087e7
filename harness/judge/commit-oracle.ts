// Does this kernel carry upstream commit X? Asked on the host before judging, once per cell, for
// every commit the catalog names, by the best evidence the kernel allows (issue 19):
//   git tree     ancestry, or a backport line in HEAD's history ("commit <sha> upstream",
//                "[ Upstream commit <sha> ]"); an imported root (a Debian source package or a
//                tarball committed as one snapshot) by its own identity. The Makefile never decides.
//   Debian       the package changelog: the stable updates it took and Debian's own patches.
//   version      the per-series table of suites/catalog/commits.yaml.
// The answers are stored in the cell (facts.commits), so `report --rejudge` needs none of this.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { CatalogCase } from './catalog.js';
import { findCommit, tableAnswer, type CommitAnswer, type CommitAnswers, type CommitEntry, type CommitTable } from './commits.js';
import type { KernelFacts } from '../results.js';
import type { KernelOrigin } from '../../kernels/identity.js';
export { findDebianChangelog } from '../../kernels/debian-source.js';
import { parseVersion, type Version } from './version.js';

const run = promisify(execFile);

/** The first commit of Linus' history (Linux-2.6.12-rc2): a tree rooted there has upstream's history. */
export const UPSTREAM_ROOT = '1da177e4c3f41524e886b7f1b8a0c1fc7321cac2';

/** Every commit the cases name (feature commits and both ends of broken ranges, with their prerequisites'). */
export function namedCommits(cases: CatalogCase[]): string[] {
  const out = new Set<string>();
  for (const c of cases) {
    for (const x of [c, ...c.requires]) {
      for (const s of x.commits) out.add(s);
      for (const b of x.broken) for (const s of [...b.broke, ...b.fixed]) out.add(s);
    }
  }
  return [...out].sort();
}

/** What a cell asks, given its kernel's facts (the version the guest reported, for the table). */
export interface CommitOracle {
  kind: 'git' | 'debian' | 'version';
  answer(facts: Pick<KernelFacts, 'version'>): CommitAnswers;
}

function entries(table: CommitTable, shas: string[]): CommitEntry[] {
  return shas.map((s) => findCommit(table, s)).filter((e): e is CommitEntry => !!e);
}

/** A kernel known only by its version (a path, a URL, the host): the series table. */
export function versionOracle(table: CommitTable, shas: string[]): CommitOracle {
  return {
    kind: 'version',
    answer: (facts) => Object.fromEntries(entries(table, shas).map((e) => [e.sha, tableAnswer(e, facts.version)])),
  };
}

// ---- Debian changelog ------------------------------------------------------------------------

export interface DebianChangelog {
  /** The package version of the newest entry ("6.1.176-1", or "6.1.176+1" for linux-signed). */
  version: string;
  /** Stable releases named by "New upstream stable update" entries (ChangeLog-X.Y.Z). */
  stable: Version[];
  /** Every change line ("- subject"), unwrapped, without "[arch] " and "(CVE-...)". */
  subjects: Set<string>;
}

/** Reads a Debian changelog (text of changelog.Debian.gz / changelog.gz). */
export function parseDebianChangelog(text: string): DebianChangelog {
  const version = /^\S+ \(([^)]+)\)/.exec(text)?.[1] ?? 'unknown';
  const stable = [...text.matchAll(/ChangeLog-(\d+\.\d+\.\d+)/g)].map((m) => parseVersion(m[1])!);
  const subjects = new Set<string>();
  let cur: string | null = null;
  const flush = () => {
    if (cur) subjects.add(normSubject(cur));
    cur = null;
  };
  for (const line of text.split('\n')) {
    const item = /^ {4}- (.*)$/.exec(line);
    if (item) {
      flush();
      cur = item[1];
    } else if (cur && /^ {6}\S/.test(line)) cur += ` ${line.trim()}`;
    else flush();
  }
  flush();
  return { version, stable, subjects };
}

function normSubject(s: string): string {
  return s.replace(/^\[[^\]]+\]\s*/, '').replace(/\s*\((CVE-\d+-\d+(,\s*)?)+\)\s*$/, '').replace(/\s+/g, ' ').trim();
}


export function readChangelog(path: string): DebianChangelog {
  const raw = readFileSync(path);
  return parseDebianChangelog((path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8'));
}

/**
 * A Debian kernel by its changelog: a line with the commit's subject proves it is in (a stable
 * update or Debian's own patch); otherwise the stable table at the upstream version Debian
 * packaged; a series the table does not know, whose stable updates the changelog lists from the
 * start, lacks it (no line names it).
 */
export function debianAnswer(e: CommitEntry, log: DebianChangelog, upstream: Version): CommitAnswer {
  const series = (v: Version) => `${v[0]}.${v[1]}`;
  const mine = log.stable.filter((v) => series(v) === series(upstream)).sort((a, b) => a[2] - b[2]);
  const range = mine.length ? `${mine[0].join('.')}..${mine[mine.length - 1].join('.')}` : 'none';
  const t = tableAnswer(e, upstream);
  if (t.has === true && t.by.startsWith('stable table: mainline')) return { has: true, by: `Debian ${log.version}: ${t.by}` };
  if (log.subjects.has(normSubject(e.subject))) return { has: true, by: `Debian changelog ${log.version}: "${e.subject}"` };
  if (t.has !== null) return { has: t.has, by: `Debian changelog ${log.version} (stable updates ${range}): ${t.by}` };
  if (mine.length && mine[0][2] <= 2)
    return { has: false, by: `Debian changelog ${log.version}: stable updates ${range} and Debian's patches, no line "${e.subject}"` };
  return { has: null, by: `Debian changelog ${log.version}: no line "${e.subject}", stable updates listed ${range}; ${t.by}` };
}

export function debianOracle(table: CommitTable, shas: string[], log: DebianChangelog): CommitOracle {
  // The changelog's own version names the upstream release Debian packaged ("6.1.176-1", "6.1.176+1").
  const packaged = parseVersion(log.version);
  return {
    kind: 'debian',
    answer: (facts) => Object.fromEntries(entries(table, shas).map((e) => [e.sha, debianAnswer(e, log, packaged ?? facts.version)])),
  };
}

// ---- git tree ---------------------------------------------------------------------------------

async function git(tree: string, args: string[]): Promise<string | null> {
  try {
    return (await run('git', ['-C', tree, ...args], { maxBuffer: 512 << 20 })).stdout.trim();
  } catch {
    return null;
  }
}

/** The identity a root commit names for itself: a Debian source package or a tarball import. */
export function importedRootIdentity(message: string): { what: string; version: Version } | null {
  const deb = /linux-source-(\d+\.\d+)[_= ]((\d+\.\d+(?:\.\d+)?)-[\w.+~]+)/.exec(message);
  if (deb) return { what: `Debian linux-source-${deb[1]} ${deb[2]}`, version: parseVersion(deb[3])! };
  const tar = /\blinux-(\d+\.\d+(?:\.\d+)?)\.tar(?:\.(?:xz|gz|bz2|zst))?\b/.exec(message);
  if (tar) return { what: `tarball ${tar[0]}`, version: parseVersion(tar[1])! };
  return null;
}

/** A backport line naming `sha` (12+ digits, prefix match) in a commit message. */
export function backportLine(message: string, sha: string): boolean {
  const s = sha.slice(0, 12).toLowerCase();
  const re = new RegExp(`(^|\\n)\\s*(?:commit ${s}[0-9a-f]* upstream\\b|\\[ ?upstream commit ${s}[0-9a-f]* ?\\])`, 'i');
  return re.test(message);
}

/**
 * Answers for a git tree at `rev`, computed now (they do not depend on what the guest reports).
 * Order: the object and ancestry; a backport line in rev's history; the imported root's identity
 * (by the table at the version it names); a tree rooted in upstream's history lacks it; any other
 * root is a snapshot of unknown identity: unknown.
 */
export async function gitAnswers(tree: string, table: CommitTable, shas: string[], rev = 'HEAD'): Promise<CommitAnswers> {
  const head = (await git(tree, ['rev-parse', '--verify', `${rev}^{commit}`])) ?? rev;
  const h = head.slice(0, 12);
  const out: CommitAnswers = {};
  const rest: CommitEntry[] = [];
  for (const e of entries(table, shas)) {
    const full = await git(tree, ['rev-parse', '--verify', '-q', `${e.sha}^{commit}`]);
    if (full) {
      const anc = await git(tree, ['merge-base', '--is-ancestor', full, head]);
      out[e.sha] = { has: anc !== null, by: `git ancestry: ${e.sha} is ${anc !== null ? '' : 'not '}an ancestor of ${h}` };
    } else rest.push(e);
  }
  if (!rest.length) return out;
  // One pass over the history for every backport line still asked for.
  const greps = rest.flatMap((e) => {
    const s = e.sha.slice(0, 12);
    return ['--grep', `commit ${s}[0-9a-f]* upstream`, '--grep', `pstream commit ${s}`];
  });
  const log = (await git(tree, ['log', '-E', '-i', '--format=%H%x00%B%x01', ...greps, head])) ?? '';
  const msgs = log.split('\x01').map((m) => m.trim()).filter(Boolean).map((m) => ({ sha: m.slice(0, 40), body: m.slice(41) }));
  const roots = ((await git(tree, ['rev-list', '--max-parents=0', head])) ?? '').split('\n').filter(Boolean);
  const rootMsg = roots.length === 1 ? ((await git(tree, ['log', '-1', '--format=%B', roots[0]])) ?? '') : '';
  const imported = roots.length === 1 && roots[0] !== UPSTREAM_ROOT ? importedRootIdentity(rootMsg) : null;
  for (const e of rest) {
    const bp = msgs.find((m) => backportLine(m.body, e.sha));
    if (bp) {
      out[e.sha] = { has: true, by: `backport line in ${bp.sha.slice(0, 12)}` };
    } else if (roots.includes(UPSTREAM_ROOT)) {
      out[e.sha] = { has: false, by: `git ancestry: not in ${h}'s history, no backport line` };
    } else if (imported) {
      const t = tableAnswer(e, imported.version);
      out[e.sha] = { has: t.has, by: `no backport line after the imported root ${roots[0].slice(0, 12)} (${imported.what}): ${t.by}` };
    } else {
      const subject = rootMsg.split('\n')[0].slice(0, 60);
      const root = roots.length === 1 ? `the root ${roots[0].slice(0, 12)} ("${subject}") is a snapshot` : `${roots.length} roots: a history`;
      out[e.sha] = { has: null, by: `not in ${h}'s history, no backport line; ${root} of unknown identity` };
    }
  }
  return out;
}

export async function gitOracle(tree: string, table: CommitTable, shas: string[], rev = 'HEAD'): Promise<CommitOracle> {
  const answers = await gitAnswers(tree, table, shas, rev);
  return { kind: 'git', answer: () => answers };
}

/**
 * The best oracle a kernel allows: its git tree, its Debian changelog, else its version. A tree
 * or changelog that cannot be read falls back to the version, and the answers say so.
 */
export async function oracleFor(
  origin: KernelOrigin | undefined, cases: CatalogCase[], table: CommitTable, say?: (m: string) => void,
): Promise<CommitOracle> {
  const shas = namedCommits(cases);
  const plain = versionOracle(table, shas);
  const fallback = (why: string): CommitOracle => ({
    kind: 'version',
    answer: (f) => Object.fromEntries(Object.entries(plain.answer(f)).map(([k, a]) => [k, { ...a, by: `${a.by} (${why})` }])),
  });
  if (!shas.length) return plain;
  try {
    if (origin?.kind === 'git') {
      if (!existsSync(origin.tree)) return fallback(`the tree ${origin.rev.slice(0, 12)} was built from is gone`);
      const o = await gitOracle(origin.tree, table, shas, origin.rev);
      say?.(`commits by ${oracleSummary('git', o.answer({ version: [0, 0, 0] }))}`);
      return o;
    }
    if (origin?.kind === 'debian') return debianOracle(table, shas, readChangelog(origin.changelog));
  } catch (e) {
    return fallback(`${origin!.kind} unreadable: ${(e as Error).message.split('\n')[0]}`);
  }
  return plain;
}

/** One line for progress output: what decided, and how many commits each way. */
export function oracleSummary(kind: CommitOracle['kind'], a: CommitAnswers): string {
  const v = Object.values(a);
  const n = (has: boolean | null) => v.filter((x) => x.has === has).length;
  return `${kind}: ${n(true)} present, ${n(false)} absent, ${n(null)} unknown of ${v.length} named commits`;
}

