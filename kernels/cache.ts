// Where fetched kernels, the private apt state and the virtme-ng tools live: outside the repo,
// keyed by package version or checksum, so a second run fetches nothing and two checkouts share.
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { acquireLock, type Lock } from './lock.js';

/** ${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-~/.cache}/pidfd-matrix} (same rule as vm/setup.sh). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PIDFD_MATRIX_CACHE) return env.PIDFD_MATRIX_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pidfd-matrix');
}

export const kernelsDir = (root = cacheRoot()) => join(root, 'kernels');
export const toolsDir = (root = cacheRoot()) => join(root, 'tools');
export const aptDir = (suite: string, root = cacheRoot()) => join(root, 'apt', safeName(suite));
/** Lock files live apart from what `kernels clean` deletes, so a lock is never unlinked while held. */
export const locksDir = (root = cacheRoot()) => join(root, 'locks');

/** File-name-safe form of a version string (Debian versions may hold ':' and '~'). */
export function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._+-]/g, '_');
}

/** Cache key of a Debian package at one exact version: a new upload is a new key. */
export function debianCacheKey(pkg: string, version: string): string {
  return `debian-${safeName(pkg)}_${safeName(version)}`;
}

/** Cache key of a downloaded file: its checksum, so the same bytes from another URL are reused. */
export function urlCacheKey(sha256: string): string {
  return `url-${sha256.toLowerCase()}`;
}

/**
 * Builds `dest` through a temp dir next to it and renames it into place, so an interrupted
 * fetch never leaves a half-written entry that a later run would take as complete.
 */
export async function buildAtomically(dest: string, build: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = await mkdtemp(join(dirname(dest), '.tmp-'));
  try {
    await build(tmp);
    // Never replace a tree that exists: another run may be booting it. Entries are keyed by
    // version or checksum, so what is there holds the same kernel.
    if (existsSync(dest)) await rm(tmp, { recursive: true, force: true });
    else await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Held (shared) by every run that uses cached kernels, from the first fetch to the last boot;
 * `kernels clean` needs it exclusively, so it never deletes a tree a guest is booting.
 */
export function holdKernelCache(root = cacheRoot()): Promise<Lock> {
  return acquireLock(join(locksDir(root), 'kernels.lock'), { shared: true }) as Promise<Lock>;
}

/** The cache for `kernels clean`, or null while a run holds it. */
export function lockKernelCacheForClean(root = cacheRoot()): Promise<Lock | null> {
  return acquireLock(join(locksDir(root), 'kernels.lock'), { wait: false });
}

/** One cache entry while it is checked and built: two runs never build the same key at once. */
export function lockCacheEntry(key: string, root = cacheRoot()): Promise<Lock> {
  return acquireLock(join(locksDir(root), `kernel-${key}.lock`)) as Promise<Lock>;
}
