// OpenPGP checks of downloaded checksum files, with gpgv against one pinned key: never the
// user's keyring, never a keyserver. A key is a public key file kept in the repository
// (kernels/keys/) plus the fingerprint it must have; a signature by any other key is refused.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FetchError } from './sources/types.js';

const run = promisify(execFile);

/** A signing key the harness trusts for one kind of download. */
export interface PinnedKey {
  /** Who signs with it, for messages: "the Ubuntu kernel team's Kernel PPA key". */
  owner: string;
  /** The primary key's fingerprint, 40 hex digits. */
  fingerprint: string;
  /** An armored (or binary) public key file holding that key. */
  file: string;
  /** How to get the file when it is missing (a command). */
  obtain: string;
}

export const FINGERPRINT_RE = /^[0-9A-F]{40}$/;

/** The fingerprints of the primary keys in a public key file (gpg --show-keys, no keyring touched). */
export async function keyFileFingerprints(file: string): Promise<string[]> {
  const home = await mkdtemp(join(tmpdir(), 'pm-gpg-'));
  try {
    const { stdout } = await run('gpg', ['--homedir', home, '--batch', '--with-colons', '--show-keys', file]);
    const lines = stdout.split('\n');
    // A 'fpr' line right after a 'pub' line is the primary key's.
    return lines.flatMap((l, i) => (l.startsWith('fpr:') && lines[i - 1]?.startsWith('pub:') ? [l.split(':')[9]] : []));
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Throws, saying how to get it, unless the pinned key's file is there and holds that key (checked before any download). */
export async function checkPinnedKey(key: PinnedKey): Promise<void> {
  if (!existsSync(key.file)) {
    throw new FetchError(`the public key of ${key.owner} (${key.fingerprint}) is not in ${key.file}; `
      + `nothing is trusted without it.\n  fix: ${key.obtain}`);
  }
  const fprs = await keyFileFingerprints(key.file).catch((e: Error) => {
    throw new FetchError(`${key.file} is not an OpenPGP public key file (${e.message.split('\n')[0]}); fix: ${key.obtain}`);
  });
  if (fprs.length !== 1 || fprs[0] !== key.fingerprint) {
    throw new FetchError(`${key.file} holds ${fprs.join(', ') || 'no key'}, not ${key.owner} (${key.fingerprint}); `
      + `replace it: ${key.obtain}`);
  }
  // The right fingerprint is not enough: a copy stripped to the bare key packet (no user ID, no
  // self-signature; some minimal exports are) is refused by gpg and useless to gpgv ("Bad public
  // key"), which would otherwise show up later as a signature that "does not verify".
  if (!(await importable(key.file, key.fingerprint))) {
    throw new FetchError(`${key.file} holds ${key.fingerprint} without a self-signed user ID (a stripped key packet): `
      + `gpg does not import it and gpgv checks no signature with it. Replace it with the whole public key: ${key.obtain}`);
  }
}

/** Whether gpg keeps the key when importing the file into an empty keyring (it drops a key without a valid user ID). */
async function importable(file: string, fingerprint: string): Promise<boolean> {
  const home = await mkdtemp(join(tmpdir(), 'pm-gpg-'));
  try {
    await run('gpg', ['--homedir', home, '--batch', '--import', file]).catch(() => undefined);
    return await run('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-keys', fingerprint]).then(() => true, () => false);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** A keyring for gpgv holding exactly the pinned key. */
async function pinnedKeyring(key: PinnedKey, home: string): Promise<string> {
  await checkPinnedKey(key);
  const ring = join(home, 'pinned.gpg');
  await run('gpg', ['--homedir', home, '--batch', '--yes', '-o', ring, '--dearmor', key.file]).catch(async () => {
    // Already binary: gpg --dearmor refuses it; gpgv reads it as it is.
    await run('cp', [key.file, ring]);
  });
  return ring;
}

/**
 * Checks `sig` (detached) over `data`, or a clearsigned `data` when sig is null, with gpgv and
 * the pinned key only. Returns the signed text (for a clearsigned file: what was signed).
 * Throws a FetchError naming the file when the signature is bad or by another key.
 */
export async function verifySignature(key: PinnedKey, data: string, sig: string | null, what: string): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'pm-gpgv-'));
  try {
    const ring = await pinnedKeyring(key, home);
    const out = join(home, 'signed.txt');
    const args = ['--homedir', home, '--status-fd', '1', '--keyring', ring, ...(sig ? [sig, data] : ['--output', out, data])];
    const r = await run('gpgv', args).then(
      (x) => ({ ok: true, stdout: x.stdout, stderr: x.stderr }),
      (e: { stdout?: string; stderr?: string }) => ({ ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
    // VALIDSIG <signing key fpr> ... <primary key fpr>: the primary key must be the pinned one.
    const valid = /^\[GNUPG:\] VALIDSIG (\S+)(?: \S+){8} (\S+)/m.exec(r.stdout);
    if (!r.ok || !valid || valid[2] !== key.fingerprint) {
      const why = /^\[GNUPG:\] (BADSIG|ERRSIG|NO_PUBKEY|NODATA|EXPKEYSIG|REVKEYSIG)\b.*$/m.exec(r.stdout)?.[0].replace('[GNUPG:] ', '')
        ?? (valid ? `signed by ${valid[2]}` : r.stderr.trim().split('\n').pop() ?? 'no valid signature');
      throw new FetchError(`${what}: the signature does not verify with ${key.owner} (${key.fingerprint}): ${why}.\n  `
        + 'The file was changed, or it was not signed by that key: nothing was cached. Try again, or use another mirror.');
    }
    return readFile(sig ? data : out, 'utf8');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** sha256 lines ("<hex>  <name>") of a checksum list; for CHECKSUMS, only its Checksums-Sha256 section. */
export function sha256Lines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let section: string | null = null;
  for (const line of text.split('\n')) {
    const head = /^#\s*Checksums-(\w+):/.exec(line);
    if (head) section = head[1].toLowerCase();
    const m = /^([0-9a-f]{64})\s+\*?(\S+)\s*$/.exec(line);
    if (m && (section === null || section === 'sha256')) out.set(m[2], m[1]);
  }
  return out;
}
