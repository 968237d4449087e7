import { describe, expect, it } from 'vitest';
import { companionSuites, debianSecurityUrisFromSources, debianUrisFromSources, imageDependency, parseControl } from './apt.js';
import { kernelParts } from './fetch.js';
import { debianCacheKey, urlCacheKey, cacheRoot, safeName } from './cache.js';

describe('mirror discovery from the system sources', () => {
  it('reads deb822 .sources and one-line .list files, skipping security', () => {
    const deb822 = 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n';
    expect(debianUrisFromSources(deb822)).toEqual(['http://mirror.example/debian']);
    const list = 'deb [signed-by=/k.gpg] https://m.example/debian/ bookworm main\ndeb http://security.example/debian-security bookworm-security main\ndeb https://packages.example/apt stable main\n';
    expect(debianUrisFromSources(list)).toEqual(['https://m.example/debian']);
  });
  it('finds the security archive in the same files', () => {
    const deb822 = 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security/\nSuites: bookworm-security\n';
    expect(debianSecurityUrisFromSources(deb822)).toEqual(['http://mirror.example/debian-security']);
    expect(debianSecurityUrisFromSources('deb http://security.debian.org/debian-security bullseye-security main\n')).toEqual(['http://security.debian.org/debian-security']);
    expect(debianSecurityUrisFromSources('deb http://m.example/debian bookworm main\n')).toEqual([]);
  });
  it('a release codename also ships <suite>-updates and <suite>-security; sid, experimental, backports do not', () => {
    expect(companionSuites('bullseye')).toEqual(['bullseye-updates', 'bullseye-security']);
    expect(companionSuites('trixie')).toEqual(['trixie-updates', 'trixie-security']);
    for (const s of ['sid', 'unstable', 'experimental', 'trixie-backports', 'bookworm-security']) expect(companionSuites(s)).toEqual([]);
  });
});

describe('package metadata', () => {
  const show = 'Package: linux-image-amd64\nSource: linux-signed-amd64 (6.1.176+1)\nVersion: 6.1.176-1\nDepends: linux-image-6.1.0-50-amd64 (= 6.1.176-1)\nSize: 1480\nSHA256: ab\nDescription: Linux for\n 64-bit PCs (meta-package)\n\nPackage: linux-image-amd64\nVersion: 6.1.170-1\n';
  it('parses the first stanza of apt-cache show', () => {
    expect(parseControl(show)).toEqual({ package: 'linux-image-amd64', version: '6.1.176-1', architecture: '', depends: 'linux-image-6.1.0-50-amd64 (= 6.1.176-1)', filename: '', sha256: 'ab', size: 1480 });
  });
  it('resolves a metapackage to the versioned image package', () => {
    expect(imageDependency('linux-image-6.1.0-50-amd64 (= 6.1.176-1)')).toBe('linux-image-6.1.0-50-amd64');
    expect(imageDependency('kmod, linux-base (>= 4.3~)')).toBeNull();
  });
  it("follows sid's split image packages (linux-binary + linux-modules)", () => {
    const dep = 'dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, linux-base-7.2.13+deb14-amd64 (= 7.2.13-1), linux-binary-7.2.13+deb14-amd64 (= 7.2.13-1), linux-modules-7.2.13+deb14-amd64 (= 7.2.13-1)';
    expect(kernelParts(dep)).toEqual(['linux-binary-7.2.13+deb14-amd64', 'linux-modules-7.2.13+deb14-amd64']);
  });
});

describe('cache keys and location', () => {
  it('are keyed by exact package version / checksum and file-name safe', () => {
    expect(debianCacheKey('linux-image-6.1.0-50-amd64', '6.1.176-1')).toBe('debian-linux-image-6.1.0-50-amd64_6.1.176-1');
    expect(debianCacheKey('linux-image-x', '1:2.0~rc1')).toBe('debian-linux-image-x_1_2.0_rc1');
    expect(debianCacheKey('p', '1')).not.toBe(debianCacheKey('p', '2'));
    expect(urlCacheKey('AB'.repeat(32))).toBe(`url-${'ab'.repeat(32)}`);
    expect(safeName('a/b c')).toBe('a_b_c');
  });
  it('follows PIDFD_MATRIX_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheRoot({ PIDFD_MATRIX_CACHE: '/c', XDG_CACHE_HOME: '/x' })).toBe('/c');
    expect(cacheRoot({ XDG_CACHE_HOME: '/x' })).toBe('/x/pidfd-matrix');
    expect(cacheRoot({})).toMatch(/\/\.cache\/pidfd-matrix$/);
  });
});
