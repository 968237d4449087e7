// Debian kernels of another architecture (issue 23.1): the private apt lists take an
// architecture, kept apart from the amd64 lists, and answer from the signed arm64 index. Real
// apt against this machine's Debian mirror, in the shared cache (the lists stay fresh for a day,
// as a `kernels fetch` would use them).
import { describe, expect, it } from 'vitest';
import { AptError, DebianRelease, imageDependency, PrivateApt } from './apt.js';
import { aptDir } from './cache.js';

const newer = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true }) > 0;

describe('private apt lists per architecture', () => {
  it('keeps amd64 lists where they were and gives arm64 its own dir and lock', () => {
    expect(new PrivateApt('trixie', 'http://m.example/debian').dir).toBe(aptDir('trixie'));
    const arm = new PrivateApt('trixie', 'http://m.example/debian', undefined, 'arm64');
    expect(arm.dir).toBe(aptDir('trixie_arm64'));
    expect(arm.lockFile).toMatch(/apt-trixie_arm64\.lock$/);
    expect(new DebianRelease('trixie', undefined, 'http://m.example/debian', 'http://m.example/debian-security', 'arm64').apts.map((a) => a.arch))
      .toEqual(['arm64', 'arm64', 'arm64']);
  });

  it('refuses an architecture it cannot boot, naming the ones it can', () => {
    expect(() => new PrivateApt('trixie', 'http://m.example/debian', undefined, 'mips64el')).toThrow(AptError);
    expect(() => new PrivateApt('trixie', 'http://m.example/debian', undefined, 'mips64el')).toThrow(/amd64, arm64/);
  });

  it("trixie's arm64 kernel: the metapackage and its image come from the arm64 index", async () => {
    const rel = new DebianRelease('trixie', undefined, undefined, undefined, 'arm64');
    await rel.update();
    const meta = await rel.show('linux-image-arm64', newer);
    expect(meta?.info.architecture).toBe('arm64');
    const image = imageDependency(meta!.info.depends);
    expect(image).toMatch(/^linux-image-6\.12\.\d+\+deb13-arm64$/);
    const img = await rel.show(image!, newer);
    expect(img?.info).toMatchObject({ architecture: 'arm64', filename: expect.stringMatching(/_arm64\.deb$/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The amd64 metapackage is not in this index at all.
    expect(await rel.show('linux-image-amd64', newer)).toBeNull();
  }, 180_000);
});
