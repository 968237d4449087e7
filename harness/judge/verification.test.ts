// Verification as data: what a stored run adds to suites/catalog/verified.yaml, and which
// catalog boundaries the recorded kernels leave unverified.
import { describe, expect, it } from 'vitest';
import { parseCatalog } from './catalog.js';
import type { CellResult, KernelFacts } from '../results.js';
import { boundaries, mergeRecords, parseVerified, recordCell, renderVerified, VerifiedError, type KernelRecord, type Verified } from './verification.js';
import { parseVersion } from './version.js';
import type { KernelIdentity } from '../../kernels/identity.js';

const features = parseCatalog(`
features:
  - id: pidfd_open
    title: pidfd_open
    area: open
    introduced: "5.3"
    without: { errno: ENOSYS }
    cases: [{ id: self, probe: p, with: { result: fd } }]
  - id: pidfd_getfd
    title: pidfd_getfd
    area: getfd
    introduced: "5.6"
    requires: [pidfd_open]
    without: { errno: ENOSYS }
    cases:
      - { id: self, probe: p, with: { result: fd } }
      - { id: esrch_zombie, probe: p, introduced: "6.9", backports: ["6.1.176"], kind: change, with: { errno: ESRCH }, without: { errno: EBADF } }
`);

// Kernels of proven identity (a public repository and commit), unless a test says otherwise.
const proven = (release: string): KernelIdentity => ({ kind: 'git', repo: 'example/linux', commit: `v${release}`, proven: true, why: 'fixture' });

function cell(release: string, observed: Record<string, Record<string, unknown>>, over: Partial<CellResult> = {}, identity: KernelIdentity | null = proven(release)): CellResult {
  const facts: KernelFacts = {
    release, version: parseVersion(release)!, arch: 'x86_64', uid: 0, root: true, seccomp: 0, lsms: [], selinux: 'disabled', container: null, hostname: 'g',
    ...(identity ? { identity } : {}),
  };
  return {
    schema: 1, kernelId: `k-${release.replace(/\./g, '-')}`, mode: 'guest', accel: 'tcg', lsm: null, facts, startedAt: '2026-12-01T12:00:00Z', durationMs: 1, hostname: 'h', error: null,
    provenance: { harnessRev: 'abc123', node: 'v20', command: 'x', kernelSource: `path ${release}` }, rerun: 'r',
    cases: Object.entries(observed).map(([id, o]) => ({ id, feature: id.split('/')[0], case: id.split('/')[1], area: 'a', title: 't', status: 'pass', reason: '', expected: null, expectedAnswer: null, observed: o, durationMs: 1, rerun: 'r' })),
    ...over,
  } as CellResult;
}

describe('recordCell', () => {
  it('5.4.286: pidfd_open gives with, pidfd_getfd its own ENOSYS (without), esrch_zombie nothing (only its prerequisite was absent)', () => {
    const r = recordCell(cell('5.4.286', { 'pidfd_open/self': { result: 'fd' }, 'pidfd_getfd/self': { errno: 'ENOSYS' }, 'pidfd_getfd/esrch_zombie': { errno: 'ENOSYS' } }), features);
    expect(r.record).toMatchObject({ version: '5.4.286', release: '5.4.286', kernelId: 'k-5-4-286', harness: 'abc123', date: '2026-12-01', with: ['pidfd_open/self'], without: ['pidfd_getfd/self'], xpass: [] });
  });

  it('a checked older answer of a change is a without; a failing answer is dropped, never recorded', () => {
    const r = recordCell(cell('6.1.100', { 'pidfd_getfd/esrch_zombie': { errno: 'EBADF' }, 'pidfd_open/self': { errno: 'EPERM' } }), features);
    expect(r.record?.without).toEqual(['pidfd_getfd/esrch_zombie']);
    expect(r.record?.with).toEqual([]);
    expect(r.dropped.join()).toContain('pidfd_open/self');
  });

  it('an xpass is recorded as with and listed as xpass; a cell that did not run is skipped', () => {
    const r = recordCell(cell('6.1.50', { 'pidfd_getfd/esrch_zombie': { errno: 'ESRCH' } }), features);
    expect(r.record).toMatchObject({ with: ['pidfd_getfd/esrch_zombie'], xpass: ['pidfd_getfd/esrch_zombie'] });
    const dead = recordCell(cell('5.3.1', {}, { error: { reason: 'exit 139' }, facts: null }), features);
    expect(dead.record).toBeNull();
    expect(dead.skipped).toContain('did not run');
  });

  it('a requirement that came with the case (same release and commits): its answer below is the case\'s older answer', () => {
    const ns = parseCatalog(`
features:
  - { id: pidfd_open, title: t, area: open, introduced: "5.3", without: { errno: ENOSYS }, cases: [{ id: self, probe: p, with: { result: fd } }] }
  - { id: setns_pidfd, title: t, area: ns, introduced: "5.8", commits: [303cc571d107], requires: [pidfd_open], without: { errno: EINVAL },
      cases: [{ id: self_uts, probe: p, with: { result: 0 } }] }
  - id: setns_pidfd_types
    title: t
    area: ns
    introduced: "5.8"
    commits: [303cc571d107]
    requires: [setns_pidfd]
    without: { errno: EINVAL }
    cases:
      - { id: user, probe: p, with: { result: 0 } }
      - { id: time, probe: p, introduced: "5.9", commits: [0a72761b27fe], with: { result: 0 } }
`);
    // 5.4.286: setns(pidfd) is EINVAL. user came with setns_pidfd (303cc571d107): its older answer.
    // time is 5.9: below 5.8 the EINVAL is setns_pidfd's absence, not time's own refusal.
    const r = recordCell(cell('5.4.286', { 'setns_pidfd_types/user': { errno: 'EINVAL' }, 'setns_pidfd_types/time': { errno: 'EINVAL' } }), ns);
    expect(r.record?.without).toEqual(['setns_pidfd_types/user']);
    // 5.2.1: pidfd_open (5.3) is absent, so the ENOSYS is a missing prerequisite's for both.
    expect(recordCell(cell('5.2.1', { 'setns_pidfd_types/user': { errno: 'ENOSYS' } }), ns).record?.without).toEqual([]);
    // 5.8.18: time's EINVAL is its own older answer (setns_pidfd is there).
    expect(recordCell(cell('5.8.18', { 'setns_pidfd_types/time': { errno: 'EINVAL' } }), ns).record?.without).toEqual(['setns_pidfd_types/time']);
  });

  it('a probe stopped at a prerequisite of the same release: its answer is the case\'s older side; of an earlier release, or a step that is no requirement: nothing', () => {
    const poll = parseCatalog(`
features:
  - { id: pidfd_open, title: t, area: open, introduced: "5.3", commits: [32fcb426ec00], without: { errno: ENOSYS }, cases: [{ id: self, probe: p, with: { result: fd } }] }
  - { id: clone3, title: t, area: clone, introduced: "5.3", commits: [7f192e3cd316], without: { errno: ENOSYS }, cases: [{ id: self, probe: p, with: { result: child } }] }
  - id: pidfd_poll
    title: t
    area: poll
    introduced: "5.3"
    commits: [32fcb426ec00, b53b0b9d9a61]
    requires: [pidfd_open]
    without: { errno: ENOSYS }
    cases:
      - { id: live, probe: p, with: { result: 0 } }
      - { id: hup, probe: p, introduced: "6.9", with: { revents: POLLHUP } }
      - { id: exec, probe: p, requires: [clone3], with: { woke: exit } }
  - id: compat32
    title: t
    area: compat
    introduced: "5.3"
    requires: [pidfd_open]
    cases: [{ id: open_poll, probe: p, requires: [pidfd_poll], with: { result: fd } }]
  - id: lsof_compat
    title: t
    area: pidfs
    introduced: "5.3"
    requires: [pidfd_open]
    broken: [{ from: "6.9", to: "6.10", reason: r, broke: [cb12fd8e0dab], fixed: [db3d841ac9ed] }]
    cases: [{ id: st_mode, probe: p, with: { ifmt: none }, without: { ifmt: S_IFREG } }]
  - { id: pidfs_xattr, title: t, area: handles, introduced: "6.17", requires: [pidfd_open], without: { errno: [EOPNOTSUPP, EPERM] },
      cases: [{ id: user_rejected, probe: p, with: { user_xattr: EOPNOTSUPP } }] }
`);
    const r = recordCell(cell('5.2.1', {
      'pidfd_poll/live': { prereq: 'pidfd_open', errno: 'ENOSYS' },
      // 6.9's older side is pidfd_poll's own answer (POLLIN only), never pidfd_open's absence.
      'pidfd_poll/hup': { prereq: 'pidfd_open', errno: 'ENOSYS' },
      // the step names its requirement with a detail: clone3 is 5.3 too.
      'pidfd_poll/exec': { prereq: 'clone3(two-thread child)', errno: 'ENOSYS' },
      // an i386 caller with no answer of its own: pidfd_open's ENOSYS, untagged.
      'compat32/open_poll': { errno: 'ENOSYS' },
      // its `without` is the broken range's answer; below 5.3 the older answer is pidfd_open's absence.
      'lsof_compat/st_mode': { prereq: 'pidfd_open', errno: 'ENOSYS' },
    }), poll);
    expect(r.record?.without.sort()).toEqual(['compat32/open_poll', 'lsof_compat/st_mode', 'pidfd_poll/exec', 'pidfd_poll/live']);
    // A step named by the case's own feature is the case's own call: its older answer, if it is the listed one.
    const xattr = (o: Record<string, unknown>) => recordCell(cell('6.13.7', { 'pidfs_xattr/user_rejected': o }), poll).record?.without;
    expect(xattr({ prereq: 'pidfs_xattr (fsetxattr trusted.*)', errno: 'EPERM' })).toEqual(['pidfs_xattr/user_rejected']);
    expect(xattr({ prereq: 'pidfs_xattr (fsetxattr trusted.*)', errno: 'EIO' })).toEqual([]);
    expect(xattr({ prereq: 'fsetxattr(trusted.*)', errno: 'EPERM' })).toEqual([]);
    // It is the older side of the 5.3 boundary only: the broken range's boundaries look inside 6.9.
    const at53 = recordCell(cell('5.3.1', { 'lsof_compat/st_mode': { ifmt: 'none' } }), poll).record!;
    const at610 = recordCell(cell('6.10.2', { 'lsof_compat/st_mode': { ifmt: 'none' } }), poll).record!;
    const lsof = (more: KernelRecord[]) => boundaries(poll, mergeRecords({ kernels: [], unobtainable: [] }, [r.record!, at53, at610, ...more]))
      .filter((x) => x.case === 'lsof_compat/st_mode').map((x) => [x.kind, x.state, x.before]);
    expect(lsof([])).toEqual([['introduced', 'verified', '5.2.1'], ['broken from', 'before only', '5.3.1'], ['broken until', 'after only', null]]);
    // The broken range's own answer, seen (an xfail), is both of its boundaries' broken side.
    const in69 = recordCell(cell('6.9.2', { 'lsof_compat/st_mode': { ifmt: 'S_IFREG' } }), poll).record!;
    expect(in69.without).toEqual(['lsof_compat/st_mode']);
    expect(lsof([in69])).toEqual([['introduced', 'verified', '5.2.1'], ['broken from', 'verified', '5.3.1'], ['broken until', 'verified', '6.9.2']]);
    // A prerequisite's refusal inside the range is no broken answer.
    expect(recordCell(cell('6.9.2', { 'lsof_compat/st_mode': { prereq: 'statx', errno: 'ENOSYS' } }), poll).record!.without).toEqual([]);
    // A step that is not one of the case's requirements proves nothing about it.
    expect(recordCell(cell('5.2.1', { 'pidfd_poll/live': { prereq: 'memfd_create', errno: 'ENOSYS' }, 'pidfd_poll/exec': { prereq: 'clone3x', errno: 'ENOSYS' } }), poll).record?.without).toEqual([]);
    // On a kernel that has the prerequisite, the same answer is no older side (it fails).
    expect(recordCell(cell('5.3.1', { 'pidfd_poll/live': { prereq: 'pidfd_open', errno: 'ENOSYS' } }), poll).record?.without).toEqual([]);
  });

  it('a container cell is no kernel record: its kernel is the host\'s, seen through a seccomp profile', () => {
    const container = { userspace: 'bookworm', image: 'pidfd-matrix/userspace:bookworm', userspaceId: null, packages: {}, seccomp: 'default', runtime: 'runc', runtimeVersion: null, docker: null, kernel: 'host' as const };
    const r = recordCell(cell('6.1.100', { 'pidfd_getfd/esrch_zombie': { errno: 'EPERM' } }, { container, mode: 'container' }), features);
    expect(r.record).toBeNull();
    expect(r.skipped).toContain('runs on the host kernel; record its host cell instead');
  });
});

describe('boundaries', () => {
  const rec = (release: string, o: Record<string, Record<string, unknown>>) => recordCell(cell(release, o), features).record!;
  const v: Verified = mergeRecords({ kernels: [], unobtainable: [{ version: '5.3', reason: 'no 5.3.11+ build here' }] }, [
    rec('5.2.1', { 'pidfd_open/self': { errno: 'ENOSYS' } }),
    rec('5.4.286', { 'pidfd_open/self': { result: 'fd' }, 'pidfd_getfd/self': { errno: 'ENOSYS' } }),
    rec('5.6.4', { 'pidfd_getfd/self': { result: 'fd' }, 'pidfd_getfd/esrch_zombie': { errno: 'EBADF' } }),
    rec('6.9.0', { 'pidfd_getfd/esrch_zombie': { errno: 'ESRCH' } }),
  ]);
  const b = boundaries(features, v);
  const at = (c: string, kind: string) => b.find((x) => x.case === c && x.kind === kind)!;

  it('verified needs the new answer in the boundary series and the older one below it', () => {
    expect(at('pidfd_getfd/self', 'introduced')).toMatchObject({ state: 'verified', version: '5.6', after: '5.6.4', before: '5.4.286' });
    expect(at('pidfd_getfd/esrch_zombie', 'introduced')).toMatchObject({ state: 'verified', after: '6.9.0', before: '5.6.4' });
  });

  it('a new answer seen only on a later series does not verify the boundary; unobtainable versions say why', () => {
    expect(at('pidfd_open/self', 'introduced')).toMatchObject({ state: 'unobtainable', after: null, before: '5.2.1', note: 'no 5.3.11+ build here' });
    expect(at('pidfd_getfd/esrch_zombie', 'backport')).toMatchObject({ state: 'unverified', version: '6.1.176' });
  });

  it('a kernel of unproven identity is recorded but does not move a boundary on its own; it is named as such', () => {
    const weak = recordCell(cell('6.10.0', { 'pidfd_getfd/esrch_zombie': { errno: 'EBADF' } }, {}, null), features).record!;
    expect(weak.identity).toMatchObject({ kind: 'unproven', proven: false });
    expect(weak.identity!.why).toContain('a kernel image given by path');
    const strong = recordCell(cell('6.9.2', { 'pidfd_getfd/esrch_zombie': { errno: 'ESRCH' } }), features).record!;
    const bb = boundaries(features, mergeRecords({ kernels: [], unobtainable: [] }, [weak, strong]));
    // 6.10.0 gave the older answer above 6.9 (a broken snapshot?): it does not count as the before side.
    const b9 = bb.find((x) => x.case === 'pidfd_getfd/esrch_zombie' && x.kind === 'introduced')!;
    expect(b9).toMatchObject({ state: 'after only', after: '6.9.2', before: null });
    const un = boundaries(features, mergeRecords({ kernels: [], unobtainable: [] }, [recordCell(cell('6.9.0', { 'pidfd_getfd/esrch_zombie': { errno: 'ESRCH' } }, {}, null), features).record!]));
    expect(un.find((x) => x.case === 'pidfd_getfd/esrch_zombie' && x.kind === 'introduced')).toMatchObject({ state: 'unverified', after: null, unproven: { after: '6.9.0', before: null } });
  });

  it('a record naming a machine path is refused with the fix; Debian cells from before identities get theirs from provenance', () => {
    expect(() => parseVerified('kernels: [{ version: "6.17.0", release: "6.17.0", source: "path /home/builder/kernels/6.17.0/bzImage" }]'))
      .toThrow(/names a machine path .*give 'identity:'/);
    const deb = recordCell(cell('6.1.176', { 'pidfd_open/self': { result: 'fd' } }, {
      provenance: { harnessRev: 'a', node: 'v20', command: 'x', kernelSource: 'debian bookworm linux-image-6.1.0-50-amd64=6.1.176-1',
        kernelPackages: [{ package: 'linux-image-6.1.0-50-amd64', version: '6.1.176-1', sha256: 'ab'.repeat(32) }] },
    }, null), features).record!;
    expect(deb.identity).toMatchObject({ kind: 'debian', package: 'linux-image-6.1.0-50-amd64', version: '6.1.176-1', sha256: 'ab'.repeat(32), suite: 'bookworm', proven: true });
    expect(renderVerified({ kernels: [deb], unobtainable: [] })).not.toMatch(/\/work\/|source:/);
  });

  it('a partial run replaces only the answers of the cases it ran; a case it ran and failed loses its old answer', () => {
    const full = recordCell(cell('6.9.0', { 'pidfd_open/self': { result: 'fd' }, 'pidfd_getfd/self': { result: 'fd' }, 'pidfd_getfd/esrch_zombie': { errno: 'ESRCH' } }), features).record!;
    const first = mergeRecords({ kernels: [], unobtainable: [] }, [full]);
    // A run of pidfd_open/self and esrch_zombie only; esrch_zombie now gives a wrong answer (not recorded).
    const part = recordCell(cell('6.9.0', { 'pidfd_open/self': { result: 'fd' }, 'pidfd_getfd/esrch_zombie': { errno: 'EPERM' } }), features);
    expect(part.dropped).toHaveLength(1);
    const notes: string[] = [];
    const merged = mergeRecords(first, [part.record!], notes, new Map([[part.record!, part.ran]]));
    expect(merged.kernels).toHaveLength(1);
    expect([...merged.kernels[0].with].sort()).toEqual(['pidfd_getfd/self', 'pidfd_open/self']);
    expect(notes).toEqual([expect.stringMatching(/^6\.9\.0 \(6\.9\.0\): a partial run; kept the older record's answers of 1 cases/)]);
    // Without the ran sets (callers of old), the new record replaces the whole entry, as before.
    expect(mergeRecords(first, [part.record!]).kernels[0].with).toEqual(['pidfd_open/self']);
  });

  it('a whole run and a partial run of one kernel in one call add up, as two calls would (make boundary and its SELinux cells)', () => {
    const full = recordCell(cell('6.9.0', { 'pidfd_open/self': { result: 'fd' }, 'pidfd_getfd/self': { result: 'fd' } }), features);
    const part = recordCell(cell('6.9.0', { 'pidfd_getfd/esrch_zombie': { errno: 'ESRCH' } }, { kernelId: 'k-6-9-0-selinux' }), features);
    const ran = new Map([[full.record!, full.ran], [part.record!, part.ran]]);
    const once = mergeRecords({ kernels: [], unobtainable: [] }, [full.record!, part.record!], [], ran);
    expect(once.kernels).toHaveLength(1);
    expect([...once.kernels[0].with].sort()).toEqual(['pidfd_getfd/esrch_zombie', 'pidfd_getfd/self', 'pidfd_open/self']);
  });

  it('re-recording a kernel keeps a proof made by hand; a run showing another kernel replaces it, and says so', () => {
    const handProven: KernelIdentity = { kind: 'git', repo: 'daeroro/linux-5.1.15', commit: 'c'.repeat(40), makefile: '5.1.15',
      pidfd_sources: { 'kernel/signal.c': 'a'.repeat(64) }, proven: true, why: 'signal.c is the 5.1.8 post-image of the 5.1.y release diffs' };
    const first = mergeRecords({ kernels: [], unobtainable: [] }, [recordCell(cell('5.1.15', { 'pidfd_open/self': { errno: 'ENOSYS' } }, {}, handProven), features).record!]);
    // The same image booted again by path: the run knows nothing of its source.
    const notes: string[] = [];
    const rerun = recordCell(cell('5.1.15', { 'pidfd_open/self': { errno: 'ENOSYS' } }, { startedAt: '2026-12-06T09:00:00Z' }, null), features).record!;
    expect(rerun.identity).toMatchObject({ kind: 'unproven', proven: false });
    const again = mergeRecords(first, [rerun], notes);
    expect(again.kernels).toHaveLength(1);
    // Its answers are the run's, its identity the record's.
    expect(again.kernels[0]).toEqual({ ...rerun, identity: handProven });
    expect(notes).toEqual([expect.stringMatching(/^5\.1\.15 \(5\.1\.15\): kept the record's proven identity \(git daeroro\/linux-5\.1\.15 c{12}\)/)]);
    // A build whose tree hashes fill in what the record lacks, and agree: still the record's proof, now with both hashes.
    const built: KernelIdentity = { kind: 'unproven', makefile: '5.1.15', pidfd_sources: { 'kernel/signal.c': 'a'.repeat(64), 'kernel/pid.c': 'b'.repeat(64) }, proven: false, why: 'a directory that is not a git tree' };
    const filled = mergeRecords(first, [recordCell(cell('5.1.15', {}, {}, built), features).record!]);
    expect(filled.kernels[0].identity).toMatchObject({ proven: true, repo: 'daeroro/linux-5.1.15', pidfd_sources: { 'kernel/pid.c': 'b'.repeat(64), 'kernel/signal.c': 'a'.repeat(64) } });
    // A tree whose signal.c differs is another kernel: its own identity stands, unproven, and the note says why.
    const other: KernelIdentity = { ...built, pidfd_sources: { 'kernel/signal.c': 'd'.repeat(64) } };
    const notes2: string[] = [];
    const replaced = mergeRecords(first, [recordCell(cell('5.1.15', {}, {}, other), features).record!], notes2);
    expect(replaced.kernels[0].identity).toEqual(other);
    expect(notes2[0]).toMatch(/another kernel than the record's: kernel\/signal\.c sha256 d{12}, recorded a{12}; the record's proof .* does not carry over/);
    // A stronger identity from the run replaces a weaker record (never the reverse).
    const weakFirst = mergeRecords({ kernels: [], unobtainable: [] }, [recordCell(cell('5.1.15', {}, {}, null), features).record!]);
    expect(mergeRecords(weakFirst, [recordCell(cell('5.1.15', {}, {}, handProven), features).record!]).kernels[0].identity).toEqual(handProven);
  });

  it('re-recording a kernel replaces its entry; the file round-trips', () => {
    const again = mergeRecords(v, [rec('5.6.4', { 'pidfd_getfd/self': { result: 'fd' } })]);
    expect(again.kernels.filter((k) => k.version === '5.6.4')).toHaveLength(1);
    expect(again.kernels.find((k) => k.version === '5.6.4')!.without).toEqual([]);
    expect(parseVerified(renderVerified(again))).toEqual({ ...again, kernels: [...again.kernels].sort((x, y) => x.version.localeCompare(y.version, undefined, { numeric: true })) });
    expect(() => parseVerified('kernels: [{ version: soon }]')).toThrow(VerifiedError);
  });
});
