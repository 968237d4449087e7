// SELinux and pidfds (reference §4, §7 R1/R15/R16): probes run as children in confined domains
// of the test policy (suites/selinux/policy/*.cil), which suites/selinux/guest-setup.sh loads
// inside the guest before the suite starts. Each test's AVCs go into its JUnit system-out.
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { AvcCapture, formatAvc, typeOf, type AvcCaptureResult, type AvcRecord } from '../harness/avc.js';
import { loadCatalog, type CatalogCase } from '../harness/catalog.js';
import { repoPath } from '../harness/paths.js';
import type { CaseResult, Observation } from '../harness/results.js';
import { SCM, SOL_SOCKET } from './lib/constants.js';
import { runCase, type Probe } from './lib/feature-test.js';
import { getpid, kill, sendmsg, socketpair } from './lib/libc.js';
import { PrereqMissing, pidfdOpen, track } from './lib/pidfd.js';
import { reap, spawnChild } from './lib/process.js';

const STATE = '/run/pidfd-matrix/selinux.json';
const CHILD = repoPath('dist/suites/selinux/probe-child.js');
const AF_UNIX = 1, SOCK_DGRAM = 2;

/** Why the SELinux cases cannot run although SELinux is enforcing (null: they can). */
function notReady(): string | null {
  if (!existsSync(STATE)) return `the pidfd-matrix test policy is not loaded (${STATE} missing): run suites/selinux/guest-setup.sh in the guest before the suite`;
  if (!existsSync(CHILD)) return `${CHILD} is missing: build the harness (npm run build) before booting`;
  return null;
}

const policyVariant = (): string => (JSON.parse(readFileSync(STATE, 'utf8')) as { variant: string }).variant;

/** Spawn argv with its exec context set to `type` (the posix_spawnp child inherits it). */
function spawnIn(type: string, argv: string[]): number {
  writeFileSync('/proc/thread-self/attr/exec', `system_u:system_r:${type}:s0`);
  try {
    return spawnChild(argv);
  } catch (e) {
    throw new PrereqMissing(`spawn ${argv[0]} in ${type}`, (e as Error).message.split(': ').at(-1) ?? 'error');
  } finally {
    writeFileSync('/proc/thread-self/attr/exec', '\n'); // back to "no transition"
  }
}

let work: string | null = null;
function workDir(): string {
  work ??= mkdtempSync(join(tmpdir(), 'pidfd-selinux-'));
  return work;
}

/** Run one probe child in `type`, wait for it, return what it wrote. */
function child(type: string, probe: string, ...args: string[]): Observation {
  const out = join(workDir(), `${probe}-${type}-${Date.now()}.json`);
  const pid = spawnIn(type, [process.execPath, CHILD, probe, out, ...args]);
  const si = reap(pid);
  if (!existsSync(out)) throw new PrereqMissing(`probe child ${probe} in ${type} (exit status ${si?.status}, code ${si?.code})`, 'NORESULT');
  const obs = JSON.parse(readFileSync(out, 'utf8')) as Observation;
  rmSync(out, { force: true });
  if (typeof obs.error === 'string') throw new Error(`probe child ${probe} in ${type}: ${obs.error}`);
  if (obs.context !== `system_u:system_r:${type}:s0`) throw new PrereqMissing(`transition to ${type} (child ran as ${obs.context})`, 'EINVAL');
  return obs;
}

// ---- AVC bookkeeping: every case captures the kernel log around its probe ------------------
let lastLog = '';

function withAvcs(run: () => Observation, summarize: (recs: AvcRecord[], obs: Observation) => Observation): Observation {
  const cap = new AvcCapture().start();
  let obs: Observation;
  let got: AvcCaptureResult | null = null;
  try {
    obs = run();
  } finally {
    got = cap.stop();
    lastLog = [
      `policy variant: ${existsSync(STATE) ? policyVariant() : '?'}; AVC source: ${got.source}; ${got.records.length} AVC record(s)`,
      ...got.records.map((r) => `AVC ${formatAvc(r)}`),
      ...(got.lines.length ? ['raw:', ...got.lines] : []),
    ].join('\n');
  }
  return { ...obs, ...summarize(got.records, obs), policy: policyVariant() };
}

const fromDomain = (recs: AvcRecord[], type: string) => recs.filter((r) => r.denied && typeOf(r.scontext) === type);

/** The first denial of a class, as observation keys (avc_dev is what test 2 is about). */
function avcKeys(recs: AvcRecord[], tclass: string): Observation {
  const r = recs.find((x) => x.tclass === tclass);
  if (!r) return { avc_tclass: null, avc_count: recs.length };
  return { avc_tclass: r.tclass, avc_perm: r.perm, avc_dev: r.dev, avc_path: r.path, avc_tcontext: typeOf(r.tcontext), avc_count: recs.length };
}

// ---- the probes ---------------------------------------------------------------------------
const probes: Record<string, Probe> = {
  // Test 1 (R1 guard): no file-class AVC may name pidfs or the pidfd.
  r1_guard: () =>
    withAvcs(() => child('pidfd_probe_t', 'r1'), (recs, obs) => {
      const mine = fromDomain(recs, 'pidfd_probe_t');
      const onPidfd = mine.filter((r) => r.tclass === 'file' && (r.dev === 'pidfs' || /pidfd/.test(r.path ?? '') || (r.path !== null && r.path === obs.link)));
      return { pidfd_file_avcs: onPidfd.length, avcs_from_domain: mine.length };
    }),

  // Test 2: fstatfs(pidfd) without `filesystem getattr` on the pidfd's superblock.
  fstatfs_denied: () => withAvcs(() => child('pidfd_probe_t', 'statfs'), (recs) => avcKeys(fromDomain(recs, 'pidfd_probe_t'), 'filesystem')),
  fstatfs_avc_dev: () => withAvcs(() => child('pidfd_probe_t', 'statfs'), (recs) => avcKeys(fromDomain(recs, 'pidfd_probe_t'), 'filesystem')),

  // Tests 3 and 4: a victim in pidfd_target_t, signalled / pidfd_getfd'ed from pidfd_nokill_t.
  signal_denied_agree: () => {
    const target = spawnIn('pidfd_target_t', ['sleep', '30']);
    return withAvcs(() => ({ ...child('pidfd_nokill_t', 'signal', String(target)), target_alive: kill(target, 0).ok }), (recs) => {
      const proc = fromDomain(recs, 'pidfd_nokill_t').filter((r) => r.tclass === 'process' && typeOf(r.tcontext) === 'pidfd_target_t');
      return { avc_tclass: proc[0]?.tclass ?? null, avc_perms: [...new Set(proc.flatMap((r) => r.perms))].sort().join(' '), avc_count: proc.length };
    });
  },
  getfd_no_ptrace: () => {
    const target = spawnIn('pidfd_target_t', ['sleep', '30']);
    return withAvcs(() => child('pidfd_nokill_t', 'getfd', String(target)), (recs) => avcKeys(fromDomain(recs, 'pidfd_nokill_t'), 'process'));
  },

  // Test 5 (R15): the harness sends its own pidfd (allowed: control), then pidfd_peer_t sends
  // one; pidfd_recv_t may `fd use` harness_t but not pidfd_peer_t.
  scm_rights_dropped: () => {
    const sp = socketpair(AF_UNIX, SOCK_DGRAM); // no CLOEXEC: both children inherit the pair
    if (!sp.ok) throw new PrereqMissing('socketpair', sp.errno);
    const [a, b] = sp.value;
    track({ ok: true, value: a });
    track({ ok: true, value: b });
    const own = track(pidfdOpen(getpid()));
    if (!own.ok) throw new PrereqMissing('pidfd_open', own.errno);
    const data = Buffer.alloc(4);
    data.writeInt32LE(own.value);
    const s = sendmsg(a, Buffer.from('H'), [{ level: SOL_SOCKET, type: SCM.RIGHTS, data }]);
    if (!s.ok) throw new PrereqMissing('sendmsg(SCM_RIGHTS) from the harness', s.errno);
    return withAvcs(() => {
      const sent = child('pidfd_peer_t', 'send', String(a));
      const got = child('pidfd_recv_t', 'recv', String(b), '2');
      const [ctl, den] = (got.messages as Observation[]) ?? [];
      return {
        sender_sendmsg: sent.sendmsg, sender_link: sent.link,
        control_fds: ctl?.fds ?? null, control_ctrunc: ctl?.ctrunc ?? null,
        denied_fds: den?.fds ?? null, denied_ctrunc: den?.ctrunc ?? null, messages: got.messages,
      };
    }, (recs) => {
      const use = fromDomain(recs, 'pidfd_recv_t').filter((r) => typeOf(r.tcontext) === 'pidfd_peer_t');
      return avcKeys(use, 'fd');
    });
  },
};

// ---- catalog glue (as suites/lib/feature-test.ts, plus the AVC log in CaseResult.log) ------
function selected(c: CatalogCase): boolean {
  const only = process.env.PIDFD_MATRIX_TESTS;
  return !only || only.split(',').some((s) => s === c.id || s === c.feature);
}

function record(r: CaseResult): void {
  const file = process.env.PIDFD_MATRIX_RECORD;
  if (file) appendFileSync(file, JSON.stringify(r) + '\n');
}

/** Skip (with the reason) when the policy is not there; the judge skips non-SELinux kernels. */
function guarded(p: Probe): Probe {
  return (facts) => {
    const why = notReady();
    return why ? { skip: why } : p(facts);
  };
}

const FEATURE = 'selinux_pidfd';
const feature = loadCatalog().find((f) => f.id === FEATURE);
if (!feature) throw new Error(`feature '${FEATURE}' is not in suites/catalog/*.yaml`);

describe(FEATURE, () => {
  for (const c of feature.cases) {
    if (!selected(c)) continue;
    it(c.case, async (ctx) => {
      const probe = probes[c.case];
      if (!probe) throw new Error(`catalog case ${c.id} has no probe in suites/selinux.probe.ts`);
      lastLog = '';
      const t0 = performance.now();
      const { verdict, observed } = await runCase(c, guarded(probe));
      record({
        id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title,
        status: verdict.status, reason: verdict.reason, expected: verdict.expected,
        expectedAnswer: verdict.expectedAnswer, observed, durationMs: Math.round(performance.now() - t0),
        rerun: `${process.env.PIDFD_MATRIX_RERUN_PREFIX ?? 'npx pidfd-matrix probe'} --test ${c.id}`,
        ...(lastLog ? { log: lastLog } : {}),
      });
      if (verdict.status === 'fail' || verdict.status === 'error') throw new Error(`${verdict.reason}\n${lastLog}`);
      if (verdict.status === 'skip' || verdict.status === 'xfail') ctx.skip(`${verdict.status}: ${verdict.reason}`);
    });
  }
});

