// An optional machine-wide lock around each guest boot, for hosts where several jobs share the
// CPUs and only one TCG guest should run at a time. A long job (a bisect) takes it per boot
// rather than for the whole run, so its builds overlap with other people's guests. The lock is
// flock(1) on the file, as kernels/lock.ts takes it; `flock FILE make test` waits for it too.
import { acquireLock } from '../kernels/lock.js';

/** Runs `fn` holding an exclusive lock on `file`; without a file, just runs it. */
export async function withGuestLock<T>(file: string | undefined, fn: () => Promise<T>, say?: (m: string) => void): Promise<T> {
  if (!file) return fn();
  const t0 = Date.now();
  const waiting = setTimeout(() => say?.(`waiting for the guest lock ${file} ...`), 2000);
  const lock = (await acquireLock(file).finally(() => clearTimeout(waiting)))!;
  if (Date.now() - t0 > 2000) say?.(`got the guest lock after ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
