// What the host hands the in-guest supervisor (a plan) and what comes back (a stream of JSON
// lines, appended into the cell dir as each case starts and ends; the guest's share is uncached
// 9p, so each write is on the host when it returns). The host reads the
// stream even when the guest panicked or was killed: every line before that point is kept.
import type { Need } from './needs.js';
import type { Observation, ObservedFacts } from './observation.js';

export interface PlanCase {
  id: string;                 // `<feature>/<case>`
  feature: string;
  case: string;
  /** The supervisor kills the runner when the case has not answered by then. */
  deadlineMs: number;
  needs: Need[];
}

/** A test binary the host built for this run (harness/run/built-helper.ts), or why it could not. */
export type BuiltHelper = { bin: string } | { error: string };

export interface Plan {
  cases: PlanCase[];
  /** The stream file (in a guest: inside the --rwdir cell dir, shared with the host). */
  stream: string;
  /** Write case and suite markers to /dev/kmsg (suites/lib/kmsg.ts; guests, whose console the host reads). */
  kmsg: boolean;
  /**
   * The musl test binary the host built for this run (harness/run/musl-helper.ts), or why it could
   * not: the runner hands it to suites/libc.probe.ts as MUSL_BIN_ENV / MUSL_ERROR_ENV.
   */
  musl?: BuiltHelper;
  /** The i386 compat helper (harness/run/compat32-helper.ts), handed on as COMPAT32_BIN_ENV / COMPAT32_ERROR_ENV. */
  compat32?: BuiltHelper;
  /**
   * Runs of each case (`--repeat N`; absent: 1). The runner goes through steps: step s is run
   * s % repeat of case floor(s / repeat), each run with its own deadline, all in one boot.
   */
  repeat?: number;
  /**
   * The run owns the system's kernel.core_pattern (a guest the harness booted, or probe
   * --own-core-pattern): the runner hands it on as OWN_CORE_PATTERN_ENV, recorded in the facts.
   */
  ownCorePattern?: boolean;
}

export const OWN_CORE_PATTERN_ENV = 'PIDFD_MATRIX_OWN_CORE_PATTERN';
export const MUSL_BIN_ENV = 'PIDFD_MATRIX_MUSL_BIN';
export const MUSL_ERROR_ENV = 'PIDFD_MATRIX_MUSL_ERROR';
export const COMPAT32_BIN_ENV = 'PIDFD_MATRIX_COMPAT32_BIN';
export const COMPAT32_ERROR_ENV = 'PIDFD_MATRIX_COMPAT32_ERROR';

/** Steps of a plan: every run of every case. */
export const planSteps = (p: Plan): number => p.cases.length * (p.repeat ?? 1);

export const STREAM_FILE = 'observations.jsonl';
export const PLAN_FILE = 'plan.json';
export const DEFAULT_DEADLINE_SEC = 20;

export type StreamLine =
  | { t: 'facts'; facts: ObservedFacts }
  /** `run`: the run's index (0-based) when the plan repeats its cases (plan.repeat > 1). */
  | { t: 'start'; id: string; at: number; run?: number }
  | { t: 'done'; id: string; observed: Observation; durationMs: number; log?: string; run?: number }
  /** The case could not give an answer: the probe threw, the runner crashed or missed the deadline. */
  | { t: 'error'; id: string; reason: string; durationMs?: number; log?: string; run?: number }
  /** The supervisor went through the whole plan; exit is its own status. */
  | { t: 'end'; exit: number; at: number; reason?: string; taint?: { start: number; end: number } };
