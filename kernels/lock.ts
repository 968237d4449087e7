// File locks between concurrent runs on one machine (two matrix runs, a run and `kernels
// clean`): the kernel cache and the private apt state are shared by every checkout. Node has no
// flock(2), so flock(1) from util-linux (essential on Debian) takes the lock and holds it in a
// tiny helper process until we close its stdin. The kernel drops the lock with the last fd:
// when this process dies, however it dies, the helper sees EOF and exits, so a stale lock
// cannot outlive its owner (no pid files, no stale detection needed).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Lock {
  readonly file: string;
  release(): Promise<void>;
}

export class LockBusy extends Error {}

/**
 * Takes `file` (created if missing) exclusively, or shared with other shared holders. With
 * `wait: false` a lock someone else holds is not waited for: null.
 */
export function acquireLock(file: string, o: { shared?: boolean; wait?: boolean } = {}): Promise<Lock | null> {
  mkdirSync(dirname(file), { recursive: true });
  const args = [o.shared ? '--shared' : '--exclusive', ...(o.wait === false ? ['--nonblock'] : []), file, 'sh', '-c', 'echo locked; exec cat >/dev/null'];
  // Detached: a Ctrl-C on the terminal must not drop the lock while we still clean up.
  const child = spawn('flock', args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const closed = new Promise<void>((res) => child.on('close', () => res()));
  return new Promise<Lock | null>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked\n')) {
        child.stdout.removeAllListeners('data');
        resolve({
          file,
          release: async () => {
            child.stdin.end();
            await closed;
          },
        });
      }
    });
    child.on('error', (e) => reject(new Error(`cannot run flock(1) for ${file}: ${e.message}; install util-linux`)));
    child.on('close', (code) => {
      if (out.includes('locked\n')) return;
      if (code === 1 && o.wait === false && !err) resolve(null);
      else reject(new Error(`flock ${file} failed (exit ${code}): ${err.trim()}`));
    });
  });
}

/** Runs `fn` holding `file` (exclusive unless `shared`), waiting for other holders first. */
export async function withLock<T>(file: string, fn: () => Promise<T>, o: { shared?: boolean } = {}): Promise<T> {
  const lock = (await acquireLock(file, { shared: o.shared }))!;
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
