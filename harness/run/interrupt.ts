// Ctrl-C or SIGTERM during a long run. The first signal aborts: the run kills its guests and
// still writes its reports, with the unfinished cells as errors. A second one exits at once.
// The exit status is 128 + the signal number, as a shell reports a process the signal killed
// (130 for SIGINT, 143 for SIGTERM), so CI and `git bisect run` see a cancelled run.
import { constants } from 'node:os';
import { killAllGroups } from '../../vm/process-group.js';

export interface Interrupts {
  /** Aborted with the signal's name (abort reason) on the first SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** 130 or 143 once interrupted, null before. */
  exitCode(): number | null;
  dispose(): void;
}

export const signalExitCode = (sig: NodeJS.Signals) => 128 + (constants.signals[sig] ?? 0);

export function catchInterrupts(name: string, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Interrupts {
  const ac = new AbortController();
  let got: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (got) {
      killAllGroups();
      process.exit(signalExitCode(sig));
    }
    got = sig;
    console.error(`\n${name}: ${sig}: killing the guests, then writing the reports (${sig} again: stop at once)`);
    ac.abort(sig);
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: ac.signal,
    exitCode: () => (got ? signalExitCode(got) : null),
    dispose: () => signals.forEach((s) => process.off(s, handler)),
  };
}

/** "interrupted by SIGINT" (the abort reason is the signal name). */
export function interruptedReason(signal: AbortSignal): string {
  return `interrupted by ${typeof signal.reason === 'string' ? signal.reason : 'a signal'}`;
}

/** `p`, or null as soon as `signal` aborts (p keeps running; its rejection is swallowed). */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T | null> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.resolve(null);
  }
  return new Promise<T | null>((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); if (signal.aborted) resolve(null); else reject(e); },
    );
  });
}
