// The build configuration of a kernel, hashed for provenance: two cells with one configHash
// ran the same .config. Taken from the running kernel (/proc/config.gz, host cells) or from
// the file a kernel ships with (Debian's /boot/config-<release>, config next to a build's
// bzImage); when there is none, configHash stays null rather than guessing.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface KernelConfig {
  /** The file hashed (for /proc/config.gz: the running kernel's own copy). */
  file: string;
  /** sha256 of the uncompressed config text. */
  sha256: string;
}

export function hashConfigFile(file: string): KernelConfig {
  const raw = readFileSync(file);
  const text = file.endsWith('.gz') ? gunzipSync(raw) : raw;
  return { file, sha256: createHash('sha256').update(text).digest('hex') };
}

/** The first candidate that exists and reads as a kernel config (has CONFIG_ lines). */
export function firstConfig(candidates: string[]): KernelConfig | null {
  for (const f of candidates) {
    if (!existsSync(f)) continue;
    try {
      const c = hashConfigFile(f);
      const head = (f.endsWith('.gz') ? gunzipSync(readFileSync(f)) : readFileSync(f)).subarray(0, 1 << 16).toString('latin1');
      if (/^(CONFIG_\w+=|# CONFIG_\w+ is not set)/m.test(head)) return c;
    } catch { /* unreadable: try the next */ }
  }
  return null;
}

/** Where the running kernel's config is: its own /proc/config.gz, else /boot/config-<release>. */
export function runningKernelConfigCandidates(release: string): string[] {
  return ['/proc/config.gz', `/boot/config-${release}`];
}

/**
 * A tree in the cache (<dir>/boot/vmlinuz-<release>): a package's boot/config-<release> beside
 * the image, or the final .config a `build` entry keeps as <dir>/config.
 */
export function treeConfigCandidates(kimg: string, release: string): string[] {
  return [join(dirname(kimg), `config-${release}`), join(dirname(dirname(kimg)), 'config')];
}

/**
 * A kernel image given by path: a config next to it (config-<release>, config, .config), or
 * the .config at the top of the build tree it was built in (arch/x86/boot/bzImage).
 */
export function pathConfigCandidates(kernel: string, release: string): string[] {
  const real = existsSync(kernel) ? realpathSync(kernel) : kernel;
  const dir = dirname(real);
  const out = [join(dir, `config-${release}`), join(dir, 'config'), join(dir, '.config')];
  if (basename(real) === 'bzImage' && real.endsWith('/arch/x86/boot/bzImage')) out.push(join(real.slice(0, -'/arch/x86/boot/bzImage'.length), '.config'));
  return out;
}
