// Which version a kernel is judged as: distro releases hide the stable sublevel that backports need.
import { describe, expect, it } from 'vitest';
import { kernelVersion } from './version.js';
import { judge } from './judge.js';
import { parseCatalog } from './catalog.js';

// /proc/version lines as the guests of the default matrix printed them (reports/*/console.log).
const DEBIAN_510 = 'Linux version 5.10.0-32-amd64 (debian-kernel@lists.debian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110, GNU ld (GNU Binutils for Debian) 2.35.2) #1 SMP Debian 5.10.223-1 (2024-08-10)';
const DEBIAN_61 = 'Linux version 6.1.0-50-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1 (2026-07-02)';
const HOST = 'Linux version 6.18.44-fc-v782 (builder@sandboxing) (gcc (GCC) 15.3.0, GNU ld (GNU Binutils) 2.46) #1 SMP PREEMPT_DYNAMIC @0';

describe('kernelVersion', () => {
  it('takes the stable version Debian names in /proc/version, not the ABI number of uname -r', () => {
    expect(kernelVersion('5.10.0-32-amd64', DEBIAN_510)).toEqual({ version: [5, 10, 223], source: '/proc/version (Debian 5.10.223-1)' });
    // gcc's "Debian 12.2.0-14" in the same line is not mistaken for the kernel's version.
    expect(kernelVersion('6.1.0-50-amd64', DEBIAN_61).version).toEqual([6, 1, 176]);
  });

  it("takes Ubuntu's upstream version from /proc/version_signature", () => {
    expect(kernelVersion('5.15.0-91-generic', 'Linux version 5.15.0-91-generic ...', 'Ubuntu 5.15.0-91.101-generic 5.15.131')).toEqual({ version: [5, 15, 131], source: '/proc/version_signature (5.15.131)' });
  });

  it('falls back to uname -r, and ignores a distro note from another series', () => {
    expect(kernelVersion('6.18.44-fc-v782', HOST)).toEqual({ version: [6, 18, 44], source: 'uname -r' });
    expect(kernelVersion('6.1.0-50-amd64', 'Linux version 6.1.0 #1 SMP Debian 5.10.223-1')).toEqual({ version: [6, 1, 0], source: 'uname -r' });
  });

  it('a listed stable backport applies to the Debian kernel carrying it, and the reason names both versions', () => {
    const [f] = parseCatalog(`features:
  - id: fanotify_report_pidfd
    title: t
    area: fanotify
    introduced: "5.15"
    without: { errno: EINVAL }
    cases:
      - id: init
        probe: fanotify_init
        backports: ["5.10.220"]
        with: { result: fd }
`);
    const facts = { release: '5.10.0-32-amd64', version: kernelVersion('5.10.0-32-amd64', DEBIAN_510).version, arch: 'x86_64', uid: 0, root: true, seccomp: 0, lsms: [], selinux: 'disabled' as const, container: null, hostname: 'h' };
    const v = judge(f.cases[0], facts, { result: 'fd' });
    expect(v.status).toBe('pass');
    expect(v.reason).toBe('fanotify_report_pidfd/init: as expected (backported to 5.10.220), kernel 5.10.0-32-amd64 (5.10.223)');
  });
});
