// Runs a command in its own process group that can be killed as a whole (vng -> virtme-run ->
// qemu), and that dies with us: being detached, the group would otherwise outlive a harness
// killed by a test timeout or ^C and keep a TCG guest burning CPU for many minutes.
// zx's $ starts it (quoting, detached group, nothrow) and its .kill() ends the tree on a timeout.
import { $ } from 'zx/core';

/**
 * bash puts a real pipe between the command and us (qemu reopens /proc/self/fd/1 and /2 by
 * path, which fails on node's socketpair stdio), keeps the command's exit status (pipefail),
 * and runs a watchdog that kills the whole group once our pid is gone. The watchdog is ours:
 * zx kills a tree only while this process lives to ask, and a SIGKILLed harness cannot ask.
 */
export const WRAPPER = [
  'parent=$PPID',
  // Our parent is gone once we are reparented: kill -0 alone still succeeds on a harness that
  // died as a zombie its own parent never reaps. ($$ is this wrapper, also in the subshell.)
  'ppid() { local s; s=$(cat /proc/$$/stat 2>/dev/null) || return 1; s=${s##*) }; s=${s#* }; echo "${s%% *}"; }',
  '( while kill -0 "$parent" 2>/dev/null && [ "$(ppid)" = "$parent" ]; do sleep 2; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &',
  'watchdog=$!',
  'set -o pipefail',
  '"$@" 2>&1 | cat',
  'rc=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit $rc',
].join('\n');

export interface GroupRun {
  /** The command's exit status; null when it was killed (timeout, abort) or did not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** Why it did not start, when it did not. */
  startError: string | null;
}

/**
 * Runs argv in its own process group, feeding its output (stdout and stderr merged) to onData
 * as it comes. After timeoutSec the whole tree is killed; an abort of `signal` kills it at once.
 */
export async function runGroup(argv: string[], o: { cwd?: string; timeoutSec: number; signal?: AbortSignal; onData: (chunk: Buffer) => void }): Promise<GroupRun> {
  // `exec`: the wrapper must be our own child, or its $PPID watchdog would watch zx's shell.
  const p = $({ cwd: o.cwd ?? process.cwd(), detached: true, nothrow: true, quiet: true, stdio: ['ignore', 'pipe', 'pipe'] })`exec bash -c ${WRAPPER} pidfd-matrix-group ${argv}`;
  const pid = p.pid;
  const untrack = track(pid, o.signal);
  p.stdout?.on('data', o.onData);
  p.stderr?.on('data', o.onData);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // zx kills every descendant it finds with ps, then the group; without ps, the group alone.
    p.kill('SIGKILL').catch(() => killGroup(pid));
  }, o.timeoutSec * 1000);
  const out = await p;
  clearTimeout(timer);
  killGroup(pid); // leftovers (a qemu that outlived vng)
  untrack();
  const startError = pid === undefined || out.cause ? (out.cause?.message ?? 'no process was started') : null;
  return { exitCode: timedOut ? null : out.exitCode, timedOut, startError };
}

// Synchronous on purpose (zx's kill is async): it runs in 'exit' handlers and right before the
// process.exit of a ^C, where an awaited ps would never finish.
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
