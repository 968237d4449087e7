// The in-guest supervisor: `node dist/suites/lib/supervisor.js PLAN.json`. Plain node, no test
// framework, no TypeScript transform. It starts a runner (suites/lib/runner.ts) and watches its
// events on fd 3: when a case misses its deadline, it names the syscall the runner is stuck in,
// records an `error` for that case and kills the runner's process group; when the runner dies
// (signal, exit), the running case becomes an `error` with the tail of its stderr. Either way a
// new runner continues with the next case, so a hang or a crash costs only its own case.
import { spawn } from 'node:child_process';
import { openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planSteps, type Plan, type StreamLine } from './plan.js';
import { describeBlocked } from './syscall-names.js';
import { kernelTaint, KMSG_MARKERS_ENV, markSuite } from './kmsg.js';

const RUNNER = join(dirname(fileURLToPath(import.meta.url)), 'runner.js');
const STDERR_TAIL = 4000;

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

interface RunnerEnd {
  /** The next step to run (a case's run: plan.ts's planSteps). */
  next: number;
  /** Whether the runner started at least one case (no: it cannot even get going). */
  started: boolean;
  how: string;
  clean: boolean;
  stderrTail: string;
}

export class Supervisor {
  private readonly out: number;
  constructor(readonly plan: Plan, readonly planPath: string, private readonly echo = true) {
    this.out = openSync(plan.stream, 'a');
  }

  private emit(line: StreamLine): void {
    writeSync(this.out, JSON.stringify(line) + '\n'); // no fsync: see runner.ts's emit
  }

  /** Run the whole plan; returns the supervisor's exit status (0: every case has a line). */
  async run(): Promise<number> {
    // The runners inherit the switch; the suite markers carry the taint for harness/judge/health.ts.
    if (this.plan.kmsg) process.env[KMSG_MARKERS_ENV] = '1';
    const taintStart = kernelTaint();
    markSuite('start');
    let next = 0;
    let last: RunnerEnd | null = null;
    const steps = planSteps(this.plan);
    while (next < steps) {
      last = await this.runner(next);
      if (!last.started && last.next < steps) {
        // It dies before its first case (node itself crashes, a module cannot load): retrying
        // would loop, so every remaining case (each of its remaining runs) gets the reason.
        for (let step = last.next; step < steps; step++) {
          const { id, run } = this.step(step);
          const reason = `not run: the probe runner ${last.how} before its first case; its stderr:\n${last.stderrTail}`;
          this.emit({ t: 'error', id, reason, ...run });
        }
        break;
      }
      next = last.next;
    }
    markSuite('end');
    const taintEnd = kernelTaint();
    const taint = taintStart !== null && taintEnd !== null ? { taint: { start: taintStart, end: taintEnd } } : {};
    const bad = last && !last.clean && last.started && next >= steps ? `the last probe runner ${last.how} after the last case` : '';
    this.emit({ t: 'end', exit: bad ? 1 : 0, at: Date.now(), ...taint, ...(bad ? { reason: `${bad}; its stderr:\n${last!.stderrTail}` } : {}) });
    return bad ? 1 : 0;
  }

  private current: number | null = null;

  /** Case and run of a step; `run` only when the plan repeats (the stream lines carry it then). */
  private step(step: number): { id: string; index: number; run: { run?: number } } {
    const repeat = this.plan.repeat ?? 1;
    const index = Math.floor(step / repeat);
    return { id: this.plan.cases[index].id, index, run: repeat > 1 ? { run: step % repeat } : {} };
  }

  /** Kill the running runner's process group (the supervisor is going away). */
  stop(): void {
    if (this.current !== null) killGroup(this.current);
  }

  private runner(from: number): Promise<RunnerEnd> {
    const cases = this.plan.cases;
    const repeat = this.plan.repeat ?? 1;
    // Own process group: on a deadline the runner and the probe children it spawned go together.
    const child = spawn(process.execPath, [RUNNER, this.planPath, String(from)], { stdio: ['ignore', 'inherit', 'pipe', 'pipe'], detached: true });
    this.current = child.pid ?? null;
    let stderr = '';
    let pending = '';
    let current: { step: number; at: number } | null = null;
    let next = from;
    let started = false;
    let timer: NodeJS.Timeout | null = null;
    let deadlineHit = false;
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
      if (this.echo) process.stderr.write(d);
    });
    const onLine = (text: string) => {
      let line: StreamLine;
      try {
        line = JSON.parse(text) as StreamLine;
      } catch {
        return;
      }
      if (line.t === 'start') {
        const index = cases.findIndex((c, i) => (i + 1) * repeat > next && c.id === line.id);
        if (index < 0) return;
        const step = index * repeat + (line.run ?? 0);
        if (step < next) return;
        started = true;
        current = { step, at: Date.now() };
        const pc = cases[index];
        // The deadline is per run: a repeated case gets the whole of it for each of its runs.
        timer = setTimeout(() => this.deadline(child.pid!, step, pc.deadlineMs, () => (deadlineHit = true)), pc.deadlineMs);
      } else if ((line.t === 'done' || line.t === 'error') && current && this.step(current.step).id === line.id
        && (line.run ?? 0) === current.step % repeat) {
        if (timer) clearTimeout(timer);
        next = current.step + 1;
        current = null;
      }
    };
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d: Buffer) => {
      pending += d.toString();
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    return new Promise((resolve) => {
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        killGroup(child.pid!); // probe children left behind
        this.current = null;
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        const cur = current as { step: number; at: number } | null;
        if (cur) {
          // The deadline handler already wrote this case's error; otherwise the runner died in it.
          const { id, run } = this.step(cur.step);
          if (!deadlineHit) {
            const reason = `the probe runner ${how} in ${id}; its stderr:\n${stderr.trim() || '(empty)'}`;
            this.emit({ t: 'error', id, reason, durationMs: Date.now() - cur.at, ...run });
          }
          next = cur.step + 1;
        }
        resolve({ next, started, how, clean: code === 0 && !signal, stderrTail: stderr.trim() || '(empty)' });
      });
    });
  }

  private deadline(pid: number, step: number, ms: number, mark: () => void): void {
    const stuck = describeBlocked(readOr(`/proc/${pid}/syscall`), readOr(`/proc/${pid}/wchan`));
    mark();
    const { id, run } = this.step(step);
    const where = `${id}${stuck ? `, in ${stuck}` : ''}`;
    const reason = `no answer within ${ms / 1000} s; stuck in ${where} (the runner was killed; the next case runs in a new one)`;
    this.emit({ t: 'error', id, reason, durationMs: ms, ...run });
    killGroup(pid);
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch { /* already gone */ }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const planPath = process.argv[2];
  if (!planPath) {
    console.error('usage: node dist/suites/lib/supervisor.js PLAN.json (the harness writes the plan: pidfd-matrix probe / matrix)');
    process.exit(2);
  }
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as Plan;
  const sv = new Supervisor(plan, planPath);
  // Ctrl-C or a kill of our group: the runner's own group goes with us (it also has PDEATHSIG).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => {
      sv.stop();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  process.exit(await sv.run());
}
