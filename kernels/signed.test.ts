// The pinned-key file checks of kernels/signed.ts (before any download of the mainline and
// kernel.org kinds): the file must hold exactly the pinned key, whole. A copy with the right
// fingerprint but stripped to the bare key packet (a public repository's "minimal" autosigner
// file is one) is refused up front, since gpgv cannot check a signature with it.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPinnedKey, verifySignature, type PinnedKey } from './signed.js';
import { FetchError } from './sources/types.js';
import { tempDir, TestKey } from './fixtures/signed-mirror.js';

let work: string;
let key: TestKey;
let other: TestKey;

beforeAll(() => {
  work = tempDir('pm-signed-unit-');
  key = new TestKey(work, 'pinned');
  other = new TestKey(work, 'other');
}, 60_000);

afterAll(() => {
  key?.close();
  other?.close();
  rmSync(work, { recursive: true, force: true });
});

const pinned = (file: string): PinnedKey => ({ owner: 'the test key', fingerprint: key.fingerprint, file, obtain: 'export it again' });

/** The first OpenPGP packet of a binary key file: the public key packet alone. */
function firstPacket(b: Buffer): Buffer {
  const ctb = b[0];
  if (ctb & 0x40) { // new format
    const l = b[1];
    const len = l < 192 ? 2 + l : l < 224 ? 3 + ((l - 192) << 8) + b[2] + 192 : 6 + b.readUInt32BE(2);
    return b.subarray(0, len);
  }
  const size = [1, 2, 4][ctb & 3];
  return b.subarray(0, 1 + size + b.readUIntBE(1, size));
}

async function refusal(k: PinnedKey): Promise<string> {
  const err = await checkPinnedKey(k).then(() => null, (e: Error) => e);
  expect(err).toBeInstanceOf(FetchError);
  return err!.message;
}

describe('the pinned key file', () => {
  it('the whole exported key passes, and a signature by it verifies', async () => {
    await expect(checkPinnedKey(pinned(key.publicKey))).resolves.toBeUndefined();
    const data = join(work, 'sums.asc');
    writeFileSync(data, key.clearsign('abc  linux-1.0.tar.xz\n'));
    expect(await verifySignature(pinned(key.publicKey), data, null, 'sums')).toContain('linux-1.0.tar.xz');
  });

  it('missing, another key, or two keys: refused naming the file and the fix', async () => {
    expect(await refusal(pinned(join(work, 'absent.asc')))).toMatch(/is not in .*absent\.asc; nothing is trusted without it\.\n {2}fix: export it again/);
    expect(await refusal(pinned(other.publicKey))).toContain(`holds ${other.fingerprint}, not the test key (${key.fingerprint})`);
    const both = join(work, 'both.asc');
    writeFileSync(both, Buffer.concat([readFileSync(key.publicKey), readFileSync(other.publicKey)]));
    expect(await refusal(pinned(both))).toMatch(/holds [0-9A-F]{40}, [0-9A-F]{40}, not the test key/);
  });

  it('the right fingerprint stripped to the bare key packet: refused before any download, not as a bad signature later', async () => {
    const binary = execFileSync('gpg', ['--batch', '--dearmor', '-o', '-', key.publicKey]);
    const bare = join(work, 'bare.gpg');
    writeFileSync(bare, firstPacket(binary));
    // Same fingerprint (gpg --show-keys reads it from the key material alone) ...
    const shown = execFileSync('gpg', ['--batch', '--with-colons', '--show-keys', bare]).toString();
    expect(shown).toContain(`fpr:::::::::${key.fingerprint}:`);
    expect(shown).not.toMatch(/^uid:/m);
    // ... but unusable, and said so.
    expect(await refusal(pinned(bare))).toMatch(/without a self-signed user ID \(a stripped key packet\).*Replace it with the whole public key: export it again/s);
  });
});
