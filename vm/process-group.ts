// Runs a command in its own process group that can be killed as a whole (vng -> virtme-run ->
// qemu), and that dies with us: being detached, the group would otherwise outlive a harness
// killed by a test timeout or ^C and keep a TCG guest burning CPU for many minutes.
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * bash puts a real pipe between the command and us (qemu reopens /proc/self/fd/1 and /2 by
 * path, which fails on node's socketpair stdio), keeps the command's exit status (pipefail),
 * and runs a watchdog that kills the whole group once our pid is gone.
 */
export const WRAPPER = [
  'parent=$PPID',
  '( while kill -0 "$parent" 2>/dev/null; do sleep 2; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &',
  'watchdog=$!',
  'set -o pipefail',
  '"$@" 2>&1 | cat',
  'rc=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit $rc',
].join('\n');

export function spawnGroup(argv: string[], cwd?: string): ChildProcess & { stdout: NonNullable<ChildProcess['stdout']> } {
  const child = spawn('bash', ['-c', WRAPPER, 'pidfd-matrix-group', ...argv], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return child as ChildProcess & { stdout: NonNullable<ChildProcess['stdout']> };
}

export function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch { /* already gone */ }
}

/** Live groups, killed on a normal exit too (the watchdog covers SIGKILL of this process). */
const live = new Set<number>();
let hooked = false;
export function track(pid: number | undefined, signal?: AbortSignal): () => void {
  if (!pid) return () => {};
  live.add(pid);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => live.forEach((p) => killGroup(p)));
  }
  // Checked right after spawn: an abort that came while the run was starting still kills it.
  const onAbort = () => killGroup(pid);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  return () => {
    live.delete(pid);
    signal?.removeEventListener('abort', onAbort);
  };
}

/** Kills every live group now (Ctrl-C or SIGTERM of a matrix run: no guest may outlive it). */
export function killAllGroups(): number {
  const n = live.size;
  live.forEach((p) => killGroup(p));
  return n;
}
