// koffi's prebuilt module for an arm64 guest (issue 23.1): the lockfile pins it, npm pack fetches
// it once into the cache, and a tarball whose hash is not the lockfile's is refused.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureKoffiNative, integrityMatches, KoffiNativeError, lockedKoffiNative } from './koffi-native.js';
import { repoPath } from '../suites/lib/paths.js';

const lockText = readFileSync(repoPath('package-lock.json'), 'utf8');
const cache = mkdtempSync(join(tmpdir(), 'pm-koffi-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

describe("koffi's native package for an arm64 guest", () => {
  it('is pinned by package-lock.json at the version of koffi itself', () => {
    const koffi = JSON.parse(lockText).packages['node_modules/koffi'].version;
    expect(lockedKoffiNative(lockText, 'arm64')).toEqual({ name: '@koromix/koffi-linux-arm64', version: koffi, integrity: expect.stringMatching(/^sha512-/) });
    expect(() => lockedKoffiNative(lockText, 'mips')).toThrow(KoffiNativeError);
    expect(() => lockedKoffiNative('{"packages":{}}', 'arm64')).toThrow(/package-lock.json has no @koromix\/koffi-linux-arm64/);
  });

  it('compares a tarball with npm integrity strings', () => {
    const b = Buffer.from('koffi');
    expect(integrityMatches(b, 'sha512-' + 'x'.repeat(86) + '==')).toBe(false);
    expect(integrityMatches(b, `sha512-${createHash('sha512').update(b).digest('base64')}`)).toBe(true);
  });

  it('fetches it once into the cache as a NODE_PATH dir holding an arm64 koffi.node', async () => {
    const lines: string[] = [];
    const p = await ensureKoffiNative('arm64', { repo: repoPath(), cache, progress: (l) => lines.push(l) });
    expect(p).toBe(join(cache, 'koffi', `koffi-linux-arm64-${lockedKoffiNative(lockText, 'arm64').version}`, 'node_modules'));
    const so = readFileSync(join(p, '@koromix/koffi-linux-arm64/linux_arm64/koffi.node'));
    expect(so.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(so.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    expect(lines).toHaveLength(1);
    expect(await ensureKoffiNative('arm64', { repo: repoPath(), cache, progress: (l) => lines.push(l) })).toBe(p);
    expect(lines).toHaveLength(1);
  }, 120_000);

  it('refuses a tarball that is not the one the lockfile names, and caches nothing', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'pm-koffi-repo-'));
    const other = mkdtempSync(join(tmpdir(), 'pm-koffi-cache-'));
    try {
      const lock = JSON.parse(lockText);
      lock.packages['node_modules/@koromix/koffi-linux-arm64'].integrity = 'sha512-' + 'A'.repeat(86) + '==';
      writeFileSync(join(repo, 'package-lock.json'), JSON.stringify(lock));
      await expect(ensureKoffiNative('arm64', { repo, cache: other })).rejects.toThrow(/does not match package-lock.json's integrity/);
      expect(existsSync(join(other, 'koffi', `koffi-linux-arm64-${lock.packages['node_modules/@koromix/koffi-linux-arm64'].version}`))).toBe(false);
    } finally {
      rmSync(repo, { recursive: true, force: true });
      rmSync(other, { recursive: true, force: true });
    }
  }, 120_000);
});
