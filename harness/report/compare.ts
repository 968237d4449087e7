// "What changed since the last kernel?": the question a CI lane asks of every run. Pure:
// two sets of cells in, a list of per-(kernel, test) changes out. Renderers below are text.
import type { CaseResult, CellResult, Observation } from '../results.js';
import { EXEC_REFUSED, PREREQ, PROBE_SKIP } from '../judge/judge.js';
import { effectiveCases, testRows, type TestRow } from './table.js';
import type { Status } from '../status.js';

export type ChangeKind = 'new-failure' | 'new-error' | 'fixed' | 'status-changed' | 'observation-changed' | 'new-test' | 'gone-test';

export interface Change {
  kind: ChangeKind;
  kernel: string;          // the new run's kernel id ("base-id -> new-id" when paired by --pair)
  test: string;
  before: { status: Status; observed: Observation } | null;
  after: { status: Status; observed: Observation } | null;
  /** Observation keys whose values differ (those the expected answers talk about). */
  keys: string[];
  rerun: string | null;
}

const BAD = new Set<Status>(['fail', 'error']);

/**
 * Keys worth comparing: those an expected answer names, plus the judge's own keys. Raw values
 * such as pids, fds and inode numbers differ on every run and are not news.
 */
function comparedKeys(a: CaseResult, b: CaseResult): string[] {
  const keys = new Set<string>(['errno', PREREQ, PROBE_SKIP, EXEC_REFUSED]);
  for (const ans of [a.expectedAnswer, b.expectedAnswer]) for (const m of [ans ?? []].flat()) for (const k of Object.keys(m)) keys.add(k);
  return [...keys].filter((k) => k in a.observed || k in b.observed).sort();
}

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);

function classify(a: CaseResult, b: CaseResult): { kind: ChangeKind; keys: string[] } | null {
  const keys = comparedKeys(a, b).filter((k) => !same(a.observed[k], b.observed[k]));
  if (a.status === b.status) return keys.length ? { kind: 'observation-changed', keys } : null;
  if (b.status === 'fail') return { kind: 'new-failure', keys };
  if (b.status === 'error') return { kind: 'new-error', keys };
  if (BAD.has(a.status)) return { kind: 'fixed', keys };
  return { kind: 'status-changed', keys };
}

export interface ComparePair { base: CellResult; next: CellResult }

/**
 * Pair cells: first the explicit pairs (base id -> new id, e.g. a stock kernel and a patched
 * build, possibly from one run dir), then the remaining kernels by id.
 */
export function pairCells(base: CellResult[], next: CellResult[], pairs: Record<string, string> = {}): { paired: ComparePair[]; onlyBase: string[]; onlyNew: string[] } {
  const paired: ComparePair[] = [];
  const usedBase = new Set<CellResult>(), usedNew = new Set<CellResult>();
  const take = (b: CellResult | undefined, n: CellResult | undefined) => {
    if (!b || !n || usedBase.has(b) || usedNew.has(n)) return;
    paired.push({ base: b, next: n });
    usedBase.add(b);
    usedNew.add(n);
  };
  for (const [b, n] of Object.entries(pairs)) take(base.find((c) => c.kernelId === b), next.find((c) => c.kernelId === n));
  const named = new Set(Object.entries(pairs).flat());
  for (const b of base) if (!named.has(b.kernelId)) take(b, next.find((n) => n.kernelId === b.kernelId && !named.has(n.kernelId)));
  return {
    paired,
    onlyBase: base.filter((b) => !usedBase.has(b)).map((b) => b.kernelId),
    onlyNew: next.filter((n) => !usedNew.has(n)).map((n) => n.kernelId),
  };
}

export function compareCells(pairs: ComparePair[], rows: TestRow[] = testRows(pairs.flatMap((p) => [p.base, p.next]))): Change[] {
  const out: Change[] = [];
  for (const { base, next } of pairs) {
    const kernel = base.kernelId === next.kernelId ? next.kernelId : `${base.kernelId} -> ${next.kernelId}`;
    const before = new Map(effectiveCases(base, rows).map((c) => [c.id, c]));
    const after = new Map(effectiveCases(next, rows).map((c) => [c.id, c]));
    const snap = (c: CaseResult) => ({ status: c.status, observed: c.observed });
    for (const [id, b] of after) {
      const a = before.get(id);
      if (!a) {
        out.push({ kind: BAD.has(b.status) ? (b.status === 'fail' ? 'new-failure' : 'new-error') : 'new-test', kernel, test: id, before: null, after: snap(b), keys: [], rerun: b.rerun });
        continue;
      }
      const k = classify(a, b);
      if (k) out.push({ ...k, kernel, test: id, before: snap(a), after: snap(b), rerun: b.rerun });
    }
    for (const [id, a] of before) if (!after.has(id)) out.push({ kind: 'gone-test', kernel, test: id, before: snap(a), after: null, keys: [], rerun: null });
  }
  return out;
}

/** New failures and new errors make a lane red. */
export function isRegression(c: Change): boolean {
  return c.kind === 'new-failure' || c.kind === 'new-error';
}

const ORDER: ChangeKind[] = ['new-failure', 'new-error', 'fixed', 'status-changed', 'observation-changed', 'new-test', 'gone-test'];

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/** Plain text for the terminal and CI logs, grouped by kind, worst first. */
export function compareText(changes: Change[]): string {
  if (!changes.length) return 'no changes: every (kernel, test) has the same status and the same observed answer';
  const lines: string[] = [];
  for (const kind of ORDER) {
    const group = changes.filter((c) => c.kind === kind);
    if (!group.length) continue;
    lines.push(`${kind} (${group.length}):`);
    for (const c of group) {
      const st = `${c.before?.status ?? '-'} -> ${c.after?.status ?? '-'}`;
      const obs = c.keys.map((k) => `${k}: ${show(c.before?.observed[k])} -> ${show(c.after?.observed[k])}`).join('; ');
      lines.push(`  ${c.kernel}  ${c.test}  ${st}${obs ? `  (${obs})` : ''}`);
      if (isRegression(c) && c.rerun) lines.push(`    rerun: ${c.rerun}`);
    }
  }
  const n = (k: ChangeKind) => changes.filter((c) => c.kind === k).length;
  lines.push('', `${n('new-failure')} new failures, ${n('new-error')} new errors, ${n('fixed')} fixed, ${n('status-changed')} other status changes, ${n('observation-changed')} changed observations`);
  return lines.join('\n');
}
