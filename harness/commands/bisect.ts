// `pidfd-matrix bisect` (drives git bisect end to end) and `pidfd-matrix bisect-step` (one
// step, usable directly as a `git bisect run` script). Both build the checked-out revision
// (kernels/build.ts, cached), boot it and run only the named tests (harness/run/run-matrix.ts runCell),
// and judge with harness/bisect/bisect.ts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from './types.js';
import { UsageError } from './types.js';
import { intOption, parseOptions } from './args.js';
import { parseAccel } from './matrix.js';
import { repoPath } from '../../suites/lib/paths.js';
import { runCell, type MatrixOptions } from '../run/run-matrix.js';
import { DEFAULT_POLICY, EXIT, evaluate, outcomeOfCell, stepTable, volatileSpec, type Policy, type StepDeps } from '../bisect/bisect.js';
import { BisectError, git, loadState, resetBisectSync, runBisect, saveState, stateFile, type BisectState } from '../bisect/bisect-git.js';
import { BuildSetupError, buildKernel } from '../../kernels/build.js';
import { treeIdentity } from '../../kernels/identity.js';
import type { FetchedKernel } from '../../kernels/fetch.js';
import { allCases, loadCatalog } from '../judge/catalog.js';
import { chooseAccel, type AccelChoice, type AccelRequest } from '../../vm/accel.js';
import { withGuestLock } from '../../vm/guest-lock.js';
import { vngBinary } from '../../vm/tools.js';
import { existsSync, readFileSync } from 'node:fs';
import { signalExitCode } from '../run/interrupt.js';

const DEFAULT_BOOT_TIMEOUT = 900;

const common = `  --tries N         clean runs a good verdict needs (default ${DEFAULT_POLICY.tries}); a bad verdict is given at the
                    first run that reproduces the bad endpoint's signature. Why 3: the probes check
                    syscall answers, deterministic on one kernel, but TCG guests are not; KernelCI
                    retries an unclear status 3 times and ktest.pl has BISECT_TRIES; syzbot's 10-20
                    runs are for racy crashes. A flaky regression needs more: --tries 10.
  --max-unclear N   unclear runs (boot failure, panic, timeout, infrastructure error, a different
                    failure) before the step is skipped (125) (default ${DEFAULT_POLICY.maxUnclear}: one retry)
  --config F        extra config fragment for the builds (repeatable; after pidfd-minimal.config)
  --accel A         kvm, tcg or auto (default auto)
  --timeout S       wall-clock limit per boot (default ${DEFAULT_BOOT_TIMEOUT})
  --out DIR         per-step results (default reports/bisect)
  --guest-lock F    hold flock(1) on F around each boot only (a shared host: builds run unlocked)
  --jobs N          make -jN (default: CPUs)`;

const bisectUsage = `Usage: pidfd-matrix bisect --tree DIR --good REV --bad REV --test IDS [options]
       pidfd-matrix bisect --tree DIR --resume

Find the commit of a kernel git tree that broke the named pidfd tests. First the endpoints
are checked: BAD must fail the tests (its failures become the signature: test id plus the
observed fields that differ from the expected answer; a field the catalog marks volatile, such
as a pid, by its class: "pid_line expected matches_child, got another value", its value only
recorded) and GOOD must pass them. Then git bisect
runs: each step builds the checked-out revision (out of tree, cached, ccache), boots it under
virtme-ng and runs only the named tests. A step is
  good (0)   --tries clean runs;
  bad  (1)   a run shows the same signature as BAD;
  skip (125) the kernel did not build or boot, the infrastructure failed, or the tests failed
             differently (another bug must not steer the bisect).
At the end: the first bad commit, a table of every step (revision, build s, boot s, verdict,
signature), and a re-check that the culprit fails the same way and its parent passes.
State lives in the tree's git dir (pidfd-matrix-bisect.json). On ^C or SIGTERM the git bisect
state is kept, resumable with --resume (or ended with git bisect reset); --reset-on-interrupt
resets it instead. Either way the message says which.

Options:
  --tree DIR        the kernel git tree (clean work tree; builds never write into it)
  --good REV        a revision that passes the tests        --bad REV   one that fails them
  --test IDS        feature or feature/case ids, comma separated (as probe --test)
  --endpoints-only  check the endpoints, record the signature, start git bisect and stop:
                    continue with git bisect run <checkout>/bin/pidfd-matrix.js bisect-step
${common}
  --resume          continue an interrupted bisect of --tree with its recorded options
  --reset-on-interrupt  on ^C/SIGTERM end the git bisect (tree back where it was)

Exit: 0 a first bad commit, confirmed by the re-check; 1 none confirmed (only skipped commits
left, the re-check disagrees, or the endpoints show no regression); 2 bad input; 130 interrupted.`;

const stepUsage = `Usage: pidfd-matrix bisect-step [--tree DIR] [--test IDS] [options]

One bisect step on the checked-out revision of DIR (default: the current directory), for
git bisect run:
  cd linux
  /path/to/pidfd-matrix/bin/pidfd-matrix.js bisect --tree . --good GOOD --bad BAD --test IDS --endpoints-only
  git bisect run /path/to/pidfd-matrix/bin/pidfd-matrix.js bisect-step
(--endpoints-only checks the endpoints, records the signature and starts git bisect.)
Builds, boots, runs the tests and exits 0 good, 1 bad (the signature recorded by bisect for the
bad endpoint), 125 skip (no build, no boot, infrastructure error, a different failure). It
never exits 1 for its own problems: bad input or a missing signature exits 128, which makes
git bisect run stop instead of taking the step as bad. Options default to those recorded in
DIR's pidfd-matrix-bisect.json.

Options:
  --test IDS        the tests (default: recorded)
  --signature S     the bad signature, entries separated by ';' (default: recorded)
${common}`;

interface RealOpts {
  tree: string; tests: string[]; fragments: string[]; accel: AccelRequest; timeoutSec: number; out: string;
  guestLock?: string; jobs?: number; say: (l: string) => void;
}

/** The real steps: build the checked-out revision, boot it, run the named tests. */
export function realDeps(o: RealOpts): StepDeps {
  let accel: AccelChoice | null = null;
  // The catalog's volatile fields: a signature names their class (another pid), not the value.
  const specs = new Map(allCases(loadCatalog()).map((c) => [c.id, volatileSpec(c)]));
  return {
    log: o.say,
    async build(rev) {
      const t0 = Date.now();
      const b = await buildKernel({ tree: o.tree, fragments: o.fragments, label: `  ${rev.slice(0, 12)}`, jobs: o.jobs, progress: o.say });
      // The time this step spent: a cached build costs (almost) nothing.
      const seconds = (Date.now() - t0) / 1000;
      return b.ok ? { ok: true, kimg: b.kimg, seconds, cached: b.cached } : { ok: false, reason: b.reason, seconds };
    },
    async runTests(kimg, rev, attempt) {
      const id = `bisect-${rev.slice(0, 12)}`;
      // A bisect step is a git revision: ancestry and backport lines decide its named commits.
      const kernel: FetchedKernel = {
        id, source: 'path', kimg, release: '', modulesDir: null, description: `bisect ${o.tree} ${rev}`, cacheKey: null, downloaded: false,
        origin: { kind: 'git', tree: o.tree, rev }, identity: await treeIdentity(o.tree),
      };
      const mo: MatrixOptions = {
        kernels: [], outDir: join(o.out, `run${attempt}`), jobs: 1, timeoutSec: o.timeoutSec, accel: o.accel, tests: o.tests,
        command: `pidfd-matrix bisect-step --tree ${o.tree} --test ${o.tests.join(',')}`,
        selectArgs: () => ['--kernel', kimg],
      };
      return withGuestLock(o.guestLock, async () => {
        accel ??= await chooseAccel(o.accel, kimg, { progress: o.say });
        const t0 = Date.now();
        const { cell } = await runCell({ id, source: 'path', kernel: kimg }, kernel, accel, mo);
        return outcomeOfCell(cell, (Date.now() - t0) / 1000, (id) => specs.get(id));
      }, o.say);
    },
  };
}

function parseCommon(values: Record<string, unknown>) {
  const policy: Policy = {
    tries: intOption(values.tries as string | undefined, 'tries') ?? DEFAULT_POLICY.tries,
    maxUnclear: intOption(values['max-unclear'] as string | undefined, 'max-unclear') ?? DEFAULT_POLICY.maxUnclear,
  };
  return {
    policy,
    accel: parseAccel(values.accel as string | undefined),
    timeoutSec: intOption(values.timeout as string | undefined, 'timeout') ?? DEFAULT_BOOT_TIMEOUT,
    jobs: intOption(values.jobs as string | undefined, 'jobs'),
    fragments: ((values.config as string[] | undefined) ?? []).map((f) => resolve(f)),
    guestLock: values['guest-lock'] as string | undefined,
  };
}

const commonSpec = {
  tries: { type: 'string' }, 'max-unclear': { type: 'string' }, config: { type: 'string', multiple: true }, accel: { type: 'string' },
  timeout: { type: 'string' }, out: { type: 'string' }, 'guest-lock': { type: 'string' }, jobs: { type: 'string' }, test: { type: 'string' },
} as const;

function checkTests(tests: string[]): void {
  const known = new Set(allCases(loadCatalog()).flatMap((c) => [c.id, c.feature]));
  const unknown = tests.filter((t) => !known.has(t));
  if (unknown.length) throw new UsageError(`unknown test id(s): ${unknown.join(', ')} (ids are feature or feature/case from suites/catalog/*.yaml)`);
}

export const bisectCommand: Command = {
  name: 'bisect',
  summary: 'find the kernel commit that broke named pidfd tests (drives git bisect)',
  usage: bisectUsage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      ...commonSpec, tree: { type: 'string' }, good: { type: 'string' }, bad: { type: 'string' }, resume: { type: 'boolean' },
      'endpoints-only': { type: 'boolean' }, 'reset-on-interrupt': { type: 'boolean' },
    }, bisectUsage);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n\n${bisectUsage}`);
    if (!values.tree) throw new UsageError(`--tree DIR is required\n\n${bisectUsage}`);
    const tree = resolve(values.tree);
    const c = parseCommon(values);
    const say = (l: string) => console.log(l);
    let tests = values.test?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
    if (values.resume) {
      const s = await loadState(tree).catch(() => null);
      if (!s) throw new UsageError(`nothing to resume: ${tree} has no pidfd-matrix bisect state`);
      tests = s.tests;
      c.policy = s.policy;
      c.fragments = s.fragments;
    } else if (!values.good || !values.bad || !tests.length) {
      throw new UsageError(`--good, --bad and --test are required (or --resume)\n\n${bisectUsage}`);
    }
    checkTests(tests);
    vngBinary();
    const out = resolve(values.out ?? repoPath('reports', 'bisect'));
    const deps = realDeps({ tree, tests, fragments: c.fragments, accel: c.accel, timeoutSec: c.timeoutSec, out: join(out, 'steps'), guestLock: c.guestLock, jobs: c.jobs, say });
    // Per-revision out dirs: realDeps writes run<N>/bisect-<rev>/ under steps/.
    const onSignal = (sig: NodeJS.Signals) => {
      let note: string;
      const stateExists = existsSync(join(tree, '.git/BISECT_START')) || existsSync(join(tree, '.git/BISECT_LOG'));
      if (values['reset-on-interrupt'] && stateExists) {
        try {
          const s = JSON.parse(readFileSync(join(tree, '.git/pidfd-matrix-bisect.json'), 'utf8')) as BisectState;
          resetBisectSync(s);
          note = `git bisect reset: ${tree} is back at ${s.origin}`;
        } catch (e) {
          note = `git bisect reset failed (${(e as Error).message}); end it with: git -C ${tree} bisect reset`;
        }
      } else {
        note = `git bisect state kept in ${tree} (the step in progress was not marked): resume with\n  npx pidfd-matrix bisect --tree ${tree} --resume\nor end it with: git -C ${tree} bisect reset`;
      }
      console.error(`\npidfd-matrix bisect: interrupted by ${sig}. ${note}`);
      // 130 for SIGINT, 143 for SIGTERM, as matrix and a shell report them; the exit hooks kill
      // the running make and guest process groups.
      process.exit(signalExitCode(sig));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const t0 = Date.now();
    try {
      if (values['endpoints-only']) return await endpointsOnly(tree, values.good!, values.bad!, tests, c, deps, say);
      const r = await runBisect({ tree, good: values.good, bad: values.bad, tests, policy: c.policy, fragments: c.fragments, deps, resume: values.resume, say });
      const subjects = new Map<string, string>();
      for (const s of r.state.steps) subjects.set(s.rev, await git(tree, 'log', '-1', '--format=%s', s.rev).catch(() => ''));
      console.log('');
      console.log(stepTable(r.state.steps, (rev) => subjects.get(rev) ?? ''));
      console.log('');
      const wall = (Date.now() - t0) / 1000;
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'bisect.json'), JSON.stringify({ ...r, wallSeconds: Math.round(wall), subjects: Object.fromEntries(subjects) }, null, 2) + '\n');
      console.log(r.message);
      console.log(`signature: ${r.state.signature?.join('; ') ?? '-'}`);
      console.log(`wall time ${Math.round(wall)}s; steps: ${out}/bisect.json; git bisect log: ${await stateFile(tree).then((f) => f.replace(/\.json$/, '.log'))}`);
      return r.outcome === 'culprit' && r.confirmed ? 0 : 1;
    } catch (e) {
      if (e instanceof BisectError || e instanceof BuildSetupError) {
        console.error(`pidfd-matrix bisect: ${e.message}`);
        return 2;
      }
      throw e;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  },
};

async function endpointsOnly(tree: string, good: string, bad: string, tests: string[], c: ReturnType<typeof parseCommon>, deps: StepDeps, say: (l: string) => void): Promise<number> {
  // runBisect with a deps whose first *step* stops the run: the endpoints are checked,
  // the signature recorded, git bisect started and marked; then we hand over to git bisect run.
  class Stop extends Error {}
  let endpoints = 0;
  const gated: StepDeps = { ...deps, build: async (rev) => { if (++endpoints > 2) throw new Stop(); return deps.build(rev); } };
  try {
    const r = await runBisect({ tree, good, bad, tests, policy: c.policy, fragments: c.fragments, deps: gated, say });
    console.log(r.message);
    return 1;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  const s = (await loadState(tree))!;
  s.steps = s.steps.filter((x) => x.role !== 'step');
  await saveState(s);
  console.log(`endpoints checked; signature: ${s.signature!.join('; ')}\ngit bisect is started in ${tree}; continue with:\n  git -C ${tree} bisect run ${repoPath('bin/pidfd-matrix.js')} bisect-step`);
  return 0;
}

export const bisectStepCommand: Command = {
  name: 'bisect-step',
  summary: 'one bisect step on the checked-out revision (a git bisect run script: 0/1/125)',
  usage: stepUsage,
  async run(argv) {
    // Nothing of ours may exit 1 (git bisect run would read "bad"): problems exit 128 (abort).
    try {
      const { values, positionals } = parseOptions(argv, { ...commonSpec, tree: { type: 'string' }, signature: { type: 'string' } }, stepUsage);
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const tree = resolve(values.tree ?? process.cwd());
      const state = await loadState(tree).catch(() => null);
      const c = parseCommon(values);
      if (state && values.tries === undefined && values['max-unclear'] === undefined) c.policy = state.policy;
      if (state && !values.config) c.fragments = state.fragments;
      const tests = values.test?.split(',').map((t) => t.trim()).filter(Boolean) ?? state?.tests ?? [];
      if (!tests.length) throw new UsageError('which tests? --test IDS (or run pidfd-matrix bisect --endpoints-only first, which records them)');
      checkTests(tests);
      const signature = values.signature?.split(';').map((x) => x.trim()).filter(Boolean) ?? state?.signature ?? null;
      if (!signature?.length) {
        throw new UsageError(`no bad signature: run pidfd-matrix bisect --tree ${tree} --good GOOD --bad BAD --test ${tests.join(',')} --endpoints-only first (it checks the endpoints and records what BAD shows), or pass --signature`);
      }
      vngBinary();
      const rev = await git(tree, 'rev-parse', 'HEAD');
      const say = (l: string) => console.error(l);
      const out = resolve(values.out ?? repoPath('reports', 'bisect'));
      const deps = realDeps({ tree, tests, fragments: c.fragments, accel: c.accel, timeoutSec: c.timeoutSec, out: join(out, 'steps'), guestLock: c.guestLock, jobs: c.jobs, say });
      const r = { ...(await evaluate(rev, deps, c.policy, signature)), role: 'step' as const };
      if (state) {
        state.steps.push(r);
        await saveState(state);
      }
      console.log(`bisect-step ${rev.slice(0, 12)}: ${r.verdict} (exit ${r.exitCode}): ${r.why}; build ${Math.round(r.buildSeconds)}s${r.cachedBuild ? ' (cached)' : ''}, boot ${Math.round(r.bootSeconds)}s`);
      return r.exitCode;
    } catch (e) {
      console.error(`pidfd-matrix bisect-step: ${(e as Error).message}\n(exit ${EXIT.abort}: git bisect run stops here instead of marking this revision)`);
      return EXIT.abort;
    }
  },
};
