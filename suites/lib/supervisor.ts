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
import type { Plan, StreamLine } from './plan.js';
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
  /** Index of the next case to run. */
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
    // The runners inherit the switch; the suite markers carry the taint for harness/health.ts.
    if (this.plan.kmsg) process.env[KMSG_MARKERS_ENV] = '1';
    const taintStart = kernelTaint();
    markSuite('start');
    let next = 0;
    let last: RunnerEnd | null = null;
    while (next < this.plan.cases.length) {
      last = await this.runner(next);
      if (!last.started && last.next < this.plan.cases.length) {
        // It dies before its first case (node itself crashes, a module cannot load): retrying
        // would loop, so every remaining case gets the reason.
        for (const pc of this.plan.cases.slice(last.next))
          this.emit({ t: 'error', id: pc.id, reason: `not run: the probe runner ${last.how} before its first case; its stderr:\n${last.stderrTail}` });
        break;
      }
      next = last.next;
    }
    markSuite('end');
    const taintEnd = kernelTaint();
    const taint = taintStart !== null && taintEnd !== null ? { taint: { start: taintStart, end: taintEnd } } : {};
    const bad = last && !last.clean && last.started && next >= this.plan.cases.length ? `the last probe runner ${last.how} after the last case` : '';
    this.emit({ t: 'end', exit: bad ? 1 : 0, at: Date.now(), ...taint, ...(bad ? { reason: `${bad}; its stderr:\n${last!.stderrTail}` } : {}) });
    return bad ? 1 : 0;
  }

  private current: number | null = null;

  /** Kill the running runner's process group (the supervisor is going away). */
  stop(): void {
    if (this.current !== null) killGroup(this.current);
  }

  private runner(from: number): Promise<RunnerEnd> {
    const cases = this.plan.cases;
    // Own process group: on a deadline the runner and the probe children it spawned go together.
    const child = spawn(process.execPath, [RUNNER, this.planPath, String(from)], { stdio: ['ignore', 'inherit', 'pipe', 'pipe'], detached: true });
    this.current = child.pid ?? null;
    let stderr = '';
    let pending = '';
    let current: { index: number; at: number } | null = null;
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
        const index = cases.findIndex((c, i) => i >= next && c.id === line.id);
        if (index < 0) return;
        started = true;
        current = { index, at: Date.now() };
        const pc = cases[index];
        timer = setTimeout(() => this.deadline(child.pid!, pc.id, pc.deadlineMs, () => (deadlineHit = true)), pc.deadlineMs);
      } else if ((line.t === 'done' || line.t === 'error') && current && cases[current.index].id === line.id) {
        if (timer) clearTimeout(timer);
        next = current.index + 1;
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
        const cur = current as { index: number; at: number } | null;
        if (cur) {
          // The deadline handler already wrote this case's error; otherwise the runner died in it.
          if (!deadlineHit)
            this.emit({ t: 'error', id: cases[cur.index].id, reason: `the probe runner ${how} in ${cases[cur.index].id}; its stderr:\n${stderr.trim() || '(empty)'}`, durationMs: Date.now() - cur.at });
          next = cur.index + 1;
        }
        resolve({ next, started, how, clean: code === 0 && !signal, stderrTail: stderr.trim() || '(empty)' });
      });
    });
  }

  private deadline(pid: number, id: string, ms: number, mark: () => void): void {
    const stuck = describeBlocked(readOr(`/proc/${pid}/syscall`), readOr(`/proc/${pid}/wchan`));
    mark();
    this.emit({ t: 'error', id, reason: `no answer within ${ms / 1000} s; stuck in ${id}${stuck ? `, in ${stuck}` : ''} (the runner was killed; the next case runs in a new one)`, durationMs: ms });
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
