// Chooses KVM or TCG. /dev/kvm existing is not enough: on a paravirtual hypervisor (kvm_pvm)
// stock kernels die at once ("KVM internal error ... emulation failure", or qemu asserting on an
// MSR). So `auto` boots a tiny probe guest under KVM once, caches the verdict per host kernel,
// qemu version and KVM driver, and falls back to TCG (--disable-kvm) when that probe fails in any way.
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { release, tmpdir, version } from 'node:os';
import { dirname, join } from 'node:path';
import { cacheRoot } from '../kernels/cache.js';
import { boot, type Accel } from './vng.js';
import { toolVersions } from './tools.js';

export type AccelRequest = Accel | 'auto';

/**
 * The KVM probe decides within this many seconds. Where KVM works, a tiny guest reaches its
 * command in a few seconds; a probe that once hung for 180 s cost more than TCG ever saves,
 * so a probe that has not even started its command by then means TCG.
 */
export const KVM_PROBE_TIMEOUT_SEC = 20;

export interface AccelChoice {
  accel: Accel;
  /** Why: 'requested', 'cached verdict ...', 'probe boot failed: ...', 'no /dev/kvm'. */
  reason: string;
}

interface Verdict { key: string; accel: Accel; reason: string; at: string; /** The guest kernel the probe booted. */ probedWith?: string }

export function accelCacheFile(root = cacheRoot()): string {
  return join(root, 'accel.json');
}

function kvmUsable(): string | null {
  if (!existsSync('/dev/kvm')) return 'no /dev/kvm';
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is not read-writable by this user (add yourself to the kvm group)';
  }
  return null;
}

/**
 * /dev/kvm's driver: the kvm_* module beside kvm (kvm_intel, kvm_amd, kvm_pvm), read from
 * /sys/module, which lists built-in modules too. "unknown" when there is none to see.
 */
export function kvmDriver(sysModule = '/sys/module'): string {
  try {
    return readdirSync(sysModule).filter((n) => /^kvm_/.test(n)).sort().join('+') || 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Key of a verdict: it is about the host's KVM, so this host kernel (release and build), this
 * qemu and /dev/kvm's driver; not the kernel it was probed with, which differs between runs.
 */
export async function verdictKey(o: { sysModule?: string } = {}): Promise<string> {
  const { qemu } = await toolVersions();
  return `${release()} ${version()}|${qemu ?? 'qemu?'}|${kvmDriver(o.sysModule)}`;
}

export async function chooseAccel(request: AccelRequest, probeKimg: string | null, opts: { progress?: (m: string) => void; cacheFile?: string; timeoutSec?: number; sysModule?: string } = {}): Promise<AccelChoice> {
  if (request !== 'auto') return { accel: request, reason: `--accel ${request}` };
  const noKvm = kvmUsable();
  if (noKvm) return { accel: 'tcg', reason: noKvm };
  if (!probeKimg) return { accel: 'tcg', reason: 'no guest kernel to probe KVM with' };
  const file = opts.cacheFile ?? accelCacheFile();
  const key = await verdictKey({ sysModule: opts.sysModule });
  const old = readVerdict(file);
  if (old && old.key === key) return { accel: old.accel, reason: `cached verdict from ${old.at} (probed with ${old.probedWith ?? 'an unrecorded kernel'}): ${old.reason}` };
  const limit = opts.timeoutSec ?? KVM_PROBE_TIMEOUT_SEC;
  opts.progress?.(`accel: probing KVM with a tiny guest boot of ${probeKimg} (at most ${limit} s, once per host kernel, qemu and KVM driver; the verdict is cached)`);
  const r = await boot(probeKimg, 'true', {
    accel: 'kvm',
    timeoutSec: limit,
    cpus: 1,
    memory: '1G',
    consoleLogPath: join(dirname(file), 'accel-probe.log'),
    cwd: tmpdir(),
  });
  // A probe that got as far as running its command under KVM is proof enough, even if slow after.
  const ok = (r.status === 'ok' && r.exitCode === 0) || (r.status === 'timeout' && r.findings.scriptStarted && !r.findings.kvmError && !r.findings.panic);
  const verdict: Verdict = {
    key,
    accel: ok ? 'kvm' : 'tcg',
    reason: ok ? `KVM probe boot ok in ${(r.durationMs / 1000).toFixed(1)}s` : `KVM probe boot failed (${r.reason || `exit ${r.exitCode}`}); using TCG`,
    at: new Date().toISOString(),
    probedWith: probeKimg,
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(verdict, null, 2) + '\n');
  await rename(`${file}.tmp`, file);
  return { accel: verdict.accel, reason: `${verdict.reason} (probed with ${probeKimg})` };
}

function readVerdict(file: string): Verdict | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Verdict;
  } catch {
    return null;
  }
}
