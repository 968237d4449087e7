// The parse phase of a cell: read the observation stream the runner and supervisor appended
// (suites/lib/plan.ts), judge every answered case on the host, and say what became of the rest
// (the case that was running when the guest panicked or was killed, the cases never reached).
import type { CatalogCase } from '../judge/catalog.js';
import { judge } from '../judge/judge.js';
import { judgeRepeated } from './repeat.js';
import type { CaseResult, KernelFacts } from '../results.js';
import type { CommitAnswers } from '../judge/commits.js';
import { withVersion } from '../judge/version.js';
import { DEFAULT_DEADLINE_SEC, type Plan, type StreamLine } from '../../suites/lib/plan.js';
import type { ObservedFacts } from '../../suites/lib/observation.js';

type Answer = Extract<StreamLine, { t: 'done' | 'error' }>;

export interface StreamSummary {
  facts: ObservedFacts | null;
  /** The first answer (done or error) of each case, in stream order. */
  answers: Map<string, Answer>;
  /** Every answer of each case, in stream order (a plan with `repeat` has one per run). */
  runs: Map<string, Answer[]>;
  /** The case that started last and has no answer: the one running when the stream stopped. */
  running: string | null;
  end: Extract<StreamLine, { t: 'end' }> | null;
  /** Lines that are not JSON (a write cut short by a panic or a kill). */
  unreadable: number;
}

export function parseStream(text: string): StreamSummary {
  const s: StreamSummary = { facts: null, answers: new Map(), runs: new Map(), running: null, end: null, unreadable: 0 };
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let line: StreamLine;
    try {
      line = JSON.parse(raw) as StreamLine;
    } catch {
      s.unreadable++;
      continue;
    }
    if (line.t === 'facts') s.facts ??= line.facts;
    // A repeated case starts again after its earlier runs answered: each run is running in turn.
    else if (line.t === 'start') s.running = s.answers.has(line.id) && line.run === undefined ? s.running : line.id;
    else if (line.t === 'done' || line.t === 'error') {
      if (!s.answers.has(line.id)) s.answers.set(line.id, line);
      s.runs.set(line.id, [...(s.runs.get(line.id) ?? []), line]);
      if (s.running === line.id) s.running = null;
    } else if (line.t === 'end') s.end = line;
  }
  return s;
}

/** The plan the host hands the supervisor: the selected cases in catalog order, with deadlines. */
export function planFor(cases: CatalogCase[], stream: string, o: { kmsg: boolean; defaultDeadlineSec?: number; repeat?: number }): Plan {
  return {
    cases: cases.map((c) => ({
      id: c.id, feature: c.feature, case: c.case, needs: c.needs,
      deadlineMs: Math.round((c.deadline ?? o.defaultDeadlineSec ?? DEFAULT_DEADLINE_SEC) * 1000),
    })),
    stream,
    kmsg: o.kmsg,
    ...(o.repeat && o.repeat > 1 ? { repeat: o.repeat } : {}),
  };
}

export interface JudgedStream {
  facts: KernelFacts | null;
  cases: CaseResult[];
  /** Why the cell as a whole is an error (no facts, the supervisor did not finish), or null. */
  error: string | null;
}

/**
 * Judge a stream against the planned cases. `stopped` says how the run ended when it did not
 * end well (e.g. "kernel panic: sysrq triggered crash"), so the running case is named with it.
 */
export function judgeStream(planned: CatalogCase[], s: StreamSummary, o: {
  rerun: (id: string) => string; stopped?: string | null; exit?: number | null;
  /** The commit oracle's answers for these facts (harness/judge/commit-oracle.ts), stored in them; absent: version rule only. */
  commits?: (facts: KernelFacts) => CommitAnswers;
  /** Runs of each case (`--repeat N`): each case is judged from all its runs (harness/run/repeat.ts). */
  repeat?: number;
}): JudgedStream {
  const derived = s.facts ? withVersion(s.facts) : null;
  const facts = derived && o.commits ? { ...derived, commits: o.commits(derived) } : derived;
  const ended = o.stopped ?? (s.end ? null : `the probe supervisor stopped without finishing (exit ${o.exit ?? 'unknown'})`);
  const cases = planned.map((c): CaseResult => {
    const base = { id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title, rerun: o.rerun(c.id) };
    const a = s.answers.get(c.id);
    // --repeat N: one verdict from all runs (harness/run/repeat.ts); a stream cut short leaves fewer.
    if (o.repeat && o.repeat > 1 && a) {
      const cut = s.running === c.id ? (ended ?? 'the probe runner stopped without an answer') : null;
      return judgeRepeated(c, facts, s.runs.get(c.id) ?? [], o.repeat, base, cut);
    }
    const err = (reason: string, extra: Partial<CaseResult> = {}): CaseResult =>
      ({ ...base, status: 'error', reason, expected: null, expectedAnswer: null, observed: {}, durationMs: 0, ...extra });
    if (a?.t === 'error') return err(a.reason, { durationMs: a.durationMs ?? 0, ...(a.log ? { log: a.log } : {}) });
    if (a?.t === 'done') {
      if (!facts) return err(`${c.id}: answered, but the stream holds no kernel facts to judge it by`, { observed: a.observed });
      const v = judge(c, facts, a.observed);
      return { ...base, status: v.status, reason: v.reason, expected: v.expected, expectedAnswer: v.expectedAnswer, observed: a.observed, durationMs: a.durationMs, ...(a.log ? { log: a.log } : {}) };
    }
    if (s.running === c.id) return err(`${c.id} was running when the run stopped: ${ended ?? 'the probe runner stopped without an answer'}`);
    return err(`not run: ${ended ?? 'the probe supervisor never reached this case'}${s.running ? ` (while ${s.running} was running)` : ''}`);
  });
  let error: string | null = null;
  if (o.stopped) error = s.running ? `${o.stopped} (while ${s.running} was running)` : o.stopped;
  else if (!s.facts) error = `the probe wrote no observations (exit ${o.exit ?? 'unknown'})`;
  else if (!s.end) error = ended;
  else if (s.end.exit !== 0) error = s.end.reason ?? `the probe supervisor exited ${s.end.exit}`;
  else if (o.exit) error = `the probe command exited ${o.exit}`;
  return { facts, cases, error };
}
