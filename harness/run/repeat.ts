// `--repeat N`: one verdict from N runs of a case. Each run is judged as usual; the runs are then
// grouped by their answer in the catalog's terms (the keys the case's answers name, plus the
// judge's own keys), never by raw volatile values (pids, inode numbers, fds), so two runs that
// differ only in a pid are one answer. One answer: that verdict, "N/N runs". Two or more: an
// error ("unstable: 97/100 gave ..., 3/100 gave ..."), never a pass. Keys the catalog marks
// `volatile:` are compared by their class (the value an answer names, or "another value").
import type { Answer, CatalogCase } from '../judge/catalog.js';
import { EXEC_REFUSED, fmt, judge, NOT_RUN, PREREQ, PROBE_SKIP, SETUP_ERROR, type Verdict } from '../judge/judge.js';
import type { CaseResult, KernelFacts, Observation, RepeatAnswer, RepeatSummary } from '../results.js';
export type { RepeatAnswer, RepeatSummary } from '../results.js';
import type { StreamLine } from '../../suites/lib/plan.js';

type RunLine = Extract<StreamLine, { t: 'done' | 'error' }>;


const keysOf = (a: Answer | null): string[] => [a ?? {}].flat().flatMap((x) => Object.keys(x));

/** The observation keys an answer of this case can name: what two runs are compared by. */
export function comparedKeys(c: CatalogCase): Set<string> {
  return new Set([
    ...keysOf(c.with), ...keysOf(c.without), ...c.requires.flatMap((r) => keysOf(r.without)),
    PREREQ, 'errno', 'step', PROBE_SKIP, SETUP_ERROR, NOT_RUN, EXEC_REFUSED,
  ]);
}

/**
 * The observation in the catalog's terms. A `volatile:` key (a pid, an inode: catalog.ts) is
 * compared by its class, as bisect signatures do: a value one of the case's answers names
 * (matches_child), else "another value", so 1000 different pids of one wrong answer are one answer.
 */
function inTerms(c: CatalogCase, observed: Observation, keys: Set<string>): Observation {
  const answers = [c.with, c.without].flatMap((a) => (a === null ? [] : [a].flat()));
  const named = (k: string) => answers.flatMap((a) => (k in a ? [a[k]].flat() : []));
  const asClass = (k: string, v: unknown) => {
    if (!(c.volatile ?? []).includes(k)) return v;
    if (v === undefined || v === null) return 'no value';
    return named(k).some((n) => JSON.stringify(n) === JSON.stringify(v)) ? v : 'another value';
  };
  const kept = Object.entries(observed).filter(([k]) => keys.has(k)).sort(([x], [y]) => x.localeCompare(y));
  return Object.fromEntries(kept.map(([k, v]) => [k, asClass(k, v)]));
}

/** An error's reason without its numbers (durations, pids in a stderr tail): its first line. */
const errorKind = (reason: string) => reason.split('\n')[0].replace(/\d+/g, '#');

interface Judged { run: number; line: RunLine; verdict: Verdict | null; key: string; answer: Observation | string }

function judgeRun(c: CatalogCase, facts: KernelFacts | null, line: RunLine, keys: Set<string>, index: number): Judged {
  const run = line.run ?? index;
  if (line.t === 'error') return { run, line, verdict: null, key: `error ${errorKind(line.reason)}`, answer: line.reason.split('\n')[0] };
  if (!facts)
    return { run, line, verdict: null, key: 'error no facts', answer: 'answered, but the stream holds no kernel facts to judge it by' };
  const verdict = judge(c, facts, line.observed);
  const answer = inTerms(c, line.observed, keys);
  return { run, line, verdict, key: `${verdict.status} ${JSON.stringify(answer)}`, answer };
}

const say = (a: RepeatAnswer, n: number) =>
  `${a.count}/${n} gave ${typeof a.answer === 'string' ? `an error: ${a.answer}` : `${fmt(a.answer)} (${a.status})`}`;

/**
 * The verdict of a repeated case from its runs' lines. `stopped`: why the stream ended before
 * every planned run answered (then the case is an error that still counts the answers).
 */
export function judgeRepeated(
  c: CatalogCase, facts: KernelFacts | null, lines: RunLine[], planned: number,
  base: Pick<CaseResult, 'id' | 'feature' | 'case' | 'area' | 'title' | 'rerun'>, stopped: string | null,
): CaseResult {
  const keys = comparedKeys(c);
  const judged = lines.map((l, i) => judgeRun(c, facts, l, keys, i));
  const groups = new Map<string, { a: RepeatAnswer; first: Judged }>();
  for (const j of judged) {
    const g = groups.get(j.key);
    if (g) g.a.count++;
    else groups.set(j.key, { a: { count: 1, status: j.verdict?.status ?? 'error', answer: j.answer, firstRun: j.run }, first: j });
  }
  const ordered = [...groups.values()].sort((x, y) => y.a.count - x.a.count || x.a.firstRun - y.a.firstRun);
  const answers = ordered.map((g) => g.a);
  const n = lines.length;
  const repeat: RepeatSummary = { runs: n, planned, answers };
  const durationMs = Math.round(lines.reduce((t, l) => t + (l.durationMs ?? 0), 0));
  const top = ordered[0]?.first;
  const observed = top?.line.t === 'done' ? top.line.observed : {};
  const logs = lines.map((l) => l.log).filter(Boolean);
  const log = logs.length ? { log: logs.slice(0, 3).join('\n') } : {};
  const common = { ...base, observed, durationMs, repeat, ...log };
  const none = { expected: null, expectedAnswer: null };
  if (stopped !== null || n < planned) {
    const tally = answers.length ? `; ${answers.map((a) => say(a, n)).join(', ')}` : '';
    const before = stopped ?? 'the runner stopped';
    return { ...common, ...none, status: 'error', reason: `${c.id}: ${n}/${planned} runs answered before ${before}${tally}` };
  }
  if (ordered.length > 1)
    return { ...common, ...none, status: 'error', reason: `${c.id}: unstable: ${answers.map((a) => say(a, n)).join(', ')}` };
  const only = ordered[0].first;
  if (!only.verdict) {
    const why = only.line.t === 'error' ? only.line.reason : String(only.answer);
    return { ...common, ...none, status: 'error', reason: `${why} (${n}/${n} runs)` };
  }
  const v = only.verdict;
  return { ...common, status: v.status, reason: `${v.reason} (${n}/${n} runs)`, expected: v.expected, expectedAnswer: v.expectedAnswer };
}
