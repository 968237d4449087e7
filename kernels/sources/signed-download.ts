// The keys the signed-download kinds (mainline, kernel.org) share: a mirror for the base URL,
// and a key of one's own (a mirror that re-signs, or the tests' throwaway key).
import { FINGERPRINT_RE } from '../signed.js';
import { MatrixError, type ParseContext } from './types.js';

/** `mirror:` an http(s):// or file:// base URL, without its trailing slash. */
export function parseMirror(c: ParseContext): { mirror?: string } {
  const mirror = c.str('mirror', false);
  if (mirror === undefined) return {};
  if (!/^(https?|file):\/\//.test(mirror)) {
    throw new MatrixError(`${c.at}: mirror '${mirror}' must be an http://, https:// or file:// base URL`);
  }
  return { mirror: mirror.replace(/\/+$/, '') };
}

/** `key:` (a public key file, relative to the matrix file) and `fingerprint:`, both or neither. */
export function parseKeyOverride(c: ParseContext): { key?: string; fingerprint?: string } {
  const key = c.str('key', false);
  const fpr = c.str('fingerprint', false)?.replace(/\s+/g, '').toUpperCase();
  if (!key !== !fpr) {
    throw new MatrixError(`${c.at}: 'key:' (a public key file) and 'fingerprint:' (its 40 hex digits) go together`);
  }
  if (!key) return {};
  if (!FINGERPRINT_RE.test(fpr!)) {
    throw new MatrixError(`${c.at}: fingerprint '${fpr}' must be the key's 40 hex digits (gpg --show-keys FILE)`);
  }
  return { key: c.abs(key), fingerprint: fpr };
}

/** "12.3/45.6 MB" of a download's progress. */
export function megabytes(done: number, total: number | null): string {
  return `${(done / 1e6).toFixed(1)}${total ? `/${(total / 1e6).toFixed(1)}` : ''} MB`;
}
