// The probe runner: `node dist/suites/lib/runner.js PLAN FROM` imports the probe files, runs the
// plan's cases from index FROM in order, and streams one JSON line per event into the plan's
// stream file (appended with one write(2) each, so a panic right after loses nothing) and onto fd 3, where
// the supervisor (suites/lib/supervisor.ts) watches the deadlines. It never judges.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { currentFaults, injectFault } from './faults.js';
import { runFaultCommand } from './fault.js';
import { KMSG_MARKERS_ENV, markCaseEnd, markCaseStart } from './kmsg.js';
import { loadingSuiteFile, registeredSuites } from './feature-test.js';
import { observeFacts } from './kernel.js';
import { unmetNeed } from './needs.js';
import { NOT_RUN, PREREQ, type Observation, type ObservedFacts } from './observation.js';
import { closeTracked, PrereqMissing } from './pidfd.js';
import { COMPAT32_BIN_ENV, COMPAT32_ERROR_ENV, MUSL_BIN_ENV, MUSL_ERROR_ENV, OWN_CORE_PATTERN_ENV, planSteps, type Plan, type PlanCase, type StreamLine } from './plan.js';
import { reapAll } from './process.js';
import { parentDeathSignal } from './libc.js';
import { SIG } from './constants.js';
import { takeSeccompControls } from './libc.js';

const SUITES_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

function eventsFd(): number | null {
  try {
    fstatSync(3);
    return 3;
  } catch {
    return null;
  }
}

/** Import every *.probe.js next to lib/; a file that fails to load is remembered, not fatal. */
async function loadSuites(): Promise<string[]> {
  const errors: string[] = [];
  for (const f of readdirSync(SUITES_DIR).filter((n) => n.endsWith('.probe.js')).sort()) {
    loadingSuiteFile(f);
    try {
      await import(pathToFileURL(join(SUITES_DIR, f)).href);
    } catch (e) {
      errors.push(`${f}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }
  loadingSuiteFile(undefined);
  return errors;
}

type Outcome = { observed: Observation; log?: string } | { error: string; log?: string };

async function observe(pc: PlanCase, facts: ObservedFacts, loadErrors: string[]): Promise<Outcome> {
  const suite = registeredSuites().get(pc.feature);
  if (!suite) {
    const why = loadErrors.length ? `a suite file failed to load:\n${loadErrors.join('\n')}` : `no suites/*.probe.ts file calls featureSuite('${pc.feature}', ...)`;
    return { error: `no probe for ${pc.id}: ${why}` };
  }
  const probe = suite.probes[pc.case];
  if (!probe) return { error: `catalog case ${pc.id} has no probe in ${suite.file ?? 'its suite file'}` };
  const need = unmetNeed(pc.needs, facts);
  if (need) return { observed: { [NOT_RUN]: need } };
  suite.opts.takeLog?.(); // drop whatever the previous case left behind
  takeSeccompControls(); // and the seccomp control records of the previous case
  // Refusals under a seccomp filter and their control answers (suites/lib/libc.ts): the judge's evidence.
  const withControls = (o: Observation): Observation => {
    const controls = takeSeccompControls();
    return controls.length ? { ...o, seccomp_controls: controls } : o;
  };
  try {
    injectFault(currentFaults(), pc.id);
    runFaultCommand(pc.id); // PIDFD_MATRIX_FAULT_CASE/CMD: a command at this case's start (kernel health tests)
    return { observed: withControls(await probe(facts)), log: suite.opts.takeLog?.() || undefined };
  } catch (e) {
    const log = suite.opts.takeLog?.() || undefined;
    if (e instanceof PrereqMissing) return { observed: withControls({ [PREREQ]: e.step, errno: e.errno }), log };
    return { error: `${pc.id}: probe crashed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, log };
  } finally {
    closeTracked();
    reapAll();
  }
}

/** `events: null` keeps fd 3 alone (an in-process caller, whose fd 3 is not a supervisor's pipe). */
export async function runPlan(plan: Plan, from: number, o: { events?: number | null } = {}): Promise<void> {
  if (plan.kmsg) process.env[KMSG_MARKERS_ENV] = '1';
  if (plan.musl && 'bin' in plan.musl) process.env[MUSL_BIN_ENV] = plan.musl.bin;
  if (plan.musl && 'error' in plan.musl) process.env[MUSL_ERROR_ENV] = plan.musl.error;
  if (plan.compat32 && 'bin' in plan.compat32) process.env[COMPAT32_BIN_ENV] = plan.compat32.bin;
  if (plan.compat32 && 'error' in plan.compat32) process.env[COMPAT32_ERROR_ENV] = plan.compat32.error;
  if (plan.ownCorePattern) process.env[OWN_CORE_PATTERN_ENV] = '1';
  const out = openSync(plan.stream, 'a');
  const events = o.events === undefined ? eventsFd() : o.events;
  const emit = (line: StreamLine) => {
    const text = JSON.stringify(line) + '\n';
    // No fsync: a write(2) to the guest's uncached 9p share is done on the host before it
    // returns (and on the host, a crash of this process loses nothing written). fsync only
    // guarded against a crash of the host, and cost ~1.6 ms per line under TCG.
    writeSync(out, text);
    if (events !== null) writeSync(events, text);
  };
  const facts = observeFacts();
  if (from === 0) emit({ t: 'facts', facts });
  const loadErrors = await loadSuites();
  // `from` is a step: run `step % repeat` of case `step / repeat` (one step per case unless --repeat).
  const repeat = plan.repeat ?? 1;
  for (let step = from; step < planSteps(plan); step++) {
    const pc = plan.cases[Math.floor(step / repeat)];
    const run = step % repeat;
    const runField = repeat > 1 ? { run } : {};
    emit({ t: 'start', id: pc.id, at: Date.now(), ...runField });
    // harness/judge/health.ts attributes kernel WARNs/oopses on the console to cases by these exact
    // lines (`pidfd-matrix: case <id> start` / `... end taint=<n>`, suites/lib/kmsg.ts). A
    // repeated case is marked once around its runs (from the first run this runner makes):
    // 1000 marker pairs would only flood a TCG guest's serial console.
    const first = run === 0 || step === from;
    const last = run === repeat - 1;
    if (first) markCaseStart(pc.id);
    const t0 = performance.now();
    const o = await observe(pc, facts, loadErrors).finally(() => last && markCaseEnd(pc.id));
    // A repeated run can take well under a millisecond: keep its fraction, or the sum says 0.
    const durationMs = repeat > 1 ? Math.round((performance.now() - t0) * 1000) / 1000 : Math.round(performance.now() - t0);
    const log = o.log ? { log: o.log } : {};
    emit('error' in o
      ? { t: 'error', id: pc.id, reason: o.error, durationMs, ...log, ...runField }
      : { t: 'done', id: pc.id, observed: o.observed, durationMs, ...log, ...runField });
  }
  closeSync(out);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // The supervisor runs us in our own process group (so a deadline kill takes the probe
  // children too); if the supervisor itself is killed, we must not run on unsupervised.
  parentDeathSignal(SIG.KILL);
  if (process.ppid === 1) process.exit(1); // the supervisor died before the prctl
  const [planPath, from = '0'] = process.argv.slice(2);
  if (!planPath) {
    console.error('usage: node runner.js PLAN.json [FROM-STEP] (started by suites/lib/supervisor.js)');
    process.exit(2);
  }
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as Plan;
  await runPlan(plan, Number(from));
  // Probes may leave handles (koffi, sockets) that keep the loop alive: the plan is done.
  process.exit(0);
}
