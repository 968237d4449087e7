// The SELinux probes (reference §4, §7 R1/R15/R16), outside vitest so they can also run straight
// from dist/ in a guest (`node dist/suites/selinux/run-direct.js`). Each probe runs children in
// confined domains of the test policy (suites/selinux/policy/*.cil) that guest-setup.sh loaded.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AvcCapture, formatAvc, typeOf, type AvcCaptureResult, type AvcRecord } from '../lib/avc.js';
import { repoPath } from '../lib/paths.js';
import type { ObservedFacts, Observation } from '../lib/observation.js';
import { SCM, SOL_SOCKET } from '../lib/constants.js';
import { getpid, kill, sendmsg, socketpair } from '../lib/libc.js';
import { PrereqMissing, pidfdOpen, track } from '../lib/pidfd.js';
import { reap, spawnChild } from '../lib/process.js';
import { r1Reading } from './r1.js';

export type Probe = (facts: ObservedFacts) => Observation | Promise<Observation>;

export const STATE = '/run/pidfd-matrix/selinux.json';
const CHILD = repoPath('dist/suites/selinux/probe-child.js');
const AF_UNIX = 1, SOCK_DGRAM = 2;

/** Why the SELinux cases cannot run although SELinux is enforcing (null: they can). */
export function notReady(): string | null {
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
export function takeLog(): string {
  const l = lastLog;
  lastLog = '';
  return l;
}

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
export const probes: Record<string, Probe> = {
  // Test 1 (R1 guard): no file-class AVC may name pidfs or the pidfd.
  // A positive control in the same window (suites/selinux/r1.ts) or the case is an error.
  r1_guard: () => withAvcs(() => child('pidfd_probe_t', 'r1'), (recs, obs) => r1Reading(recs, obs)),

  // Test 2: fstatfs(pidfd) without `filesystem getattr` on the pidfd's superblock.
  fstatfs_denied: () => withAvcs(() => child('pidfd_probe_t', 'statfs'), (recs) => avcKeys(fromDomain(recs, 'pidfd_probe_t'), 'filesystem')),
  fstatfs_avc_dev: () => withAvcs(() => child('pidfd_probe_t', 'statfs'), (recs) => avcKeys(fromDomain(recs, 'pidfd_probe_t'), 'filesystem')),

  // Tests 3 and 4: a victim in pidfd_target_t, signalled / pidfd_getfd'ed from pidfd_nokill_t.
  signal_denied_agree: () => {
    const target = spawnIn('pidfd_target_t', ['sleep', '30']);
    return withAvcs(() => ({ ...child('pidfd_nokill_t', 'signal', String(target)), target_alive: kill(target, 0).ok }), (recs) => {
      const proc = fromDomain(recs, 'pidfd_nokill_t').filter((r) => r.tclass === 'process' && typeOf(r.tcontext) === 'pidfd_target_t');
      // avc_perms: the distinct denied permissions, sorted, space separated
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

