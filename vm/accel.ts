// Chooses KVM or TCG. /dev/kvm existing is not enough: on a paravirtual hypervisor (kvm_pvm)
// stock kernels die at once ("KVM internal error ... emulation failure", or qemu asserting on an
// MSR). So `auto` boots a tiny probe guest under KVM once, caches the verdict per host kernel
// and qemu version, and falls back to TCG (--disable-kvm) when that probe fails in any way.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
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

interface Verdict { key: string; accel: Accel; reason: string; at: string }

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

/** Key of a verdict: it holds for this host kernel, this qemu and this probe kernel. */
export async function verdictKey(probeKimg: string): Promise<string> {
  const { qemu } = await toolVersions();
  return `${release()}|${qemu ?? 'qemu?'}|${probeKimg}`;
}

export async function chooseAccel(request: AccelRequest, probeKimg: string | null, opts: { progress?: (m: string) => void; cacheFile?: string; timeoutSec?: number } = {}): Promise<AccelChoice> {
  if (request !== 'auto') return { accel: request, reason: `--accel ${request}` };
  const noKvm = kvmUsable();
  if (noKvm) return { accel: 'tcg', reason: noKvm };
  if (!probeKimg) return { accel: 'tcg', reason: 'no guest kernel to probe KVM with' };
  const file = opts.cacheFile ?? accelCacheFile();
  const key = await verdictKey(probeKimg);
  const old = readVerdict(file);
  if (old && old.key === key) return { accel: old.accel, reason: `cached verdict from ${old.at}: ${old.reason}` };
  const limit = opts.timeoutSec ?? KVM_PROBE_TIMEOUT_SEC;
  opts.progress?.(`accel: probing KVM with a tiny guest boot (at most ${limit} s, once; the verdict is cached)`);
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
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, JSON.stringify(verdict, null, 2) + '\n');
  await rename(`${file}.tmp`, file);
  return { accel: verdict.accel, reason: verdict.reason };
}

function readVerdict(file: string): Verdict | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Verdict;
  } catch {
    return null;
  }
}
