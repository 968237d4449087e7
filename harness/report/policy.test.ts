// The policy renderer on recorded cells (harness/fixtures/userspace/: a real run of
// kernels/userspace.yaml on 6.18.44, trimmed to six features): host, bookworm under Docker's
// default profile, under a profile denying only pidfd_getfd, and unconfined.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CellResult } from '../results.js';
import { causeOf, differencesFromHost, policyHtml, policyMarkdown, policyTable } from './policy.js';
import { junitXml } from './junit.js';
import { summaryMarkdown } from './markdown.js';
import { matrixHtml } from './html.js';

const load = (id: string) => JSON.parse(readFileSync(new URL(`../fixtures/userspace/${id}.json`, import.meta.url), 'utf8')) as CellResult;
const [host, dflt, deny, open] = ['host', 'bookworm-default', 'bookworm-deny-getfd', 'bookworm-unconfined'].map(load);
const cells = [host, dflt, deny, open];

describe('which pidfd calls each profile blocked', () => {
  const t = policyTable(cells);
  const row = (s: string) => t.rows.find((r) => r.syscall === s)!.cells.map((b) => (b ? `${b.errno} ${b.cases.length}` : null));
  it('one column per container cell, with its axes and exact libc6', () => {
    expect(t.columns.map((c) => [c.id, c.userspace, c.seccomp, c.runtime, c.libc6, c.seccompMode])).toEqual([
      ['bookworm-default', 'bookworm', 'default', 'runc', '2.36-9+deb12u14', 2],
      ['bookworm-deny-getfd', 'bookworm', 'deny-pidfd-getfd.json', 'runc', '2.36-9+deb12u14', 2],
      ['bookworm-unconfined', 'bookworm', 'unconfined', 'runc', '2.36-9+deb12u14', 0],
    ]);
  });
  it("Docker's profile: clone3 ENOSYS, pidfd_getfd, process_madvise and name_to_handle_at EPERM; the custom one only pidfd_getfd; unconfined nothing", () => {
    expect(row('clone3')).toEqual(['ENOSYS 4', null, null]);
    expect(row('pidfd_getfd')).toEqual(['EPERM 7', 'EPERM 7', null]);
    expect(row('process_madvise')).toEqual(['EPERM 3', null, null]);
    expect(row('name_to_handle_at')).toEqual(['EPERM 3', null, null]);
    expect(row('pidfd_open')).toEqual([null, null, null]);
  });
  it('an entry exists only with the control evidence: without it the same refusal is not counted', () => {
    const stripped = structuredClone(deny);
    for (const c of stripped.cases) delete c.observed.seccomp_controls;
    expect(policyTable([host, stripped]).rows.every((r) => r.cells[0] === null)).toBe(true);
  });
});

describe('every verdict that differs from the host cell has a cause', () => {
  const diffs = differencesFromHost(cells)!;
  const by = (cell: string) => Object.fromEntries(['seccomp profile', 'capabilities', 'pid namespace', 'unexplained'].map((k) => [k, diffs.filter((d) => d.cell === cell && d.cause === k).length]));
  it('default: seccomp and capabilities; custom profile: pidfd_getfd plus capabilities; unconfined: capabilities and pid namespace only', () => {
    expect(by('bookworm-default')).toEqual({ 'seccomp profile': 17, capabilities: 3, 'pid namespace': 1, unexplained: 0 });
    expect(by('bookworm-deny-getfd')).toEqual({ 'seccomp profile': 7, capabilities: 3, 'pid namespace': 1, unexplained: 0 });
    expect(by('bookworm-unconfined')).toEqual({ 'seccomp profile': 0, capabilities: 3, 'pid namespace': 1, unexplained: 0 });
  });
  it('a difference nothing explains is listed by name, in markdown and HTML', () => {
    const odd = structuredClone(open);
    const c = odd.cases.find((x) => x.id === 'pidfd_open/einval_flags')!;
    Object.assign(c, { status: 'fail', reason: 'pidfd_open/einval_flags: expected EINVAL, observed result 7' });
    expect(causeOf(odd, c)).toBe('unexplained');
    expect(policyMarkdown([host, odd])).toContain('**1 difference not explained by the userspace, profile or runtime:**\n- bookworm-unconfined `pidfd_open/einval_flags`: host pass, here fail');
    expect(policyHtml([host, odd])).toContain('<span class="bad">1 not explained</span>');
  });
  it('the image\'s libc explains a libc case only when it is another libc than the host\'s, and never a fail', () => {
    // trixie's glibc 2.41 has pidfd_spawn (2.39), the host's 2.36 does not: a real difference of the run.
    const withLibc = (cell: CellResult, version: string) => ({ ...structuredClone(cell), facts: { ...cell.facts!, libc: { name: 'glibc', version, source: 'gnu_get_libc_version()', confstr: `glibc ${version}` } } });
    const spawn = (status: 'pass' | 'skip' | 'fail', reason: string) => ({ ...structuredClone(host.cases[0]), id: 'libc_pidfd_spawn/works', feature: 'libc_pidfd_spawn', case: 'works', area: 'libc', status, reason, observed: { symbol: true } });
    const h = withLibc(host, '2.36');
    h.cases = [spawn('skip', 'absent as expected: libc_pidfd_spawn/works needs glibc 2.39, glibc 2.36')];
    const newer = withLibc(open, '2.41');
    newer.cases = [spawn('pass', 'libc_pidfd_spawn/works: as expected (since glibc 2.39), glibc 2.41')];
    expect(differencesFromHost([h, newer])!.map((d) => d.cause)).toEqual(['userspace (libc)']);
    const same = withLibc(open, '2.36');
    same.cases = newer.cases;
    expect(differencesFromHost([h, same])!.map((d) => d.cause)).toEqual(['unexplained']);
    const broken = withLibc(open, '2.41');
    broken.cases = [spawn('fail', 'libc_pidfd_spawn/works: expected a pidfd, observed errno ENOSYS')];
    expect(differencesFromHost([h, broken])!.map((d) => d.cause)).toEqual(['unexplained']);
    expect(policyMarkdown([h, broken])).toContain('**1 difference not explained by the userspace, profile or runtime:**');
    // A musl case answers through the same static test binary in both cells: the image's glibc is no cause.
    const musl = (status: 'pass' | 'skip') => ({ ...spawn(status, `libc_pidfd_open/musl: ${status}`), id: 'libc_pidfd_open/musl', observed: { libc: 'musl 1.2.3', symbol: status === 'pass' } });
    h.cases = [musl('skip')];
    newer.cases = [musl('pass')];
    expect(differencesFromHost([h, newer])!.map((d) => d.cause)).toEqual(['unexplained']);
  });

  it('a cell that did not run is one line with its reason, not a row of unexplained cases', () => {
    const down = { ...structuredClone(dflt), error: { reason: "the host's node does not run on bullseye's userspace: GLIBC_2.28 not found" } };
    const md = policyMarkdown([host, down]);
    expect(md).toContain("- bookworm-default: the host's node does not run on bullseye's userspace");
    expect(md).toContain('explained by the userspace, the profile or the runtime');
    expect(differencesFromHost([host, down])).toEqual([]);
  });
  it('without a host cell it says what to add', () => {
    expect(differencesFromHost([dflt])).toBeNull();
    expect(policyMarkdown([dflt])).toContain('No host cell in this run to compare with');
  });
});

describe('the axes reach every report', () => {
  it('JUnit properties name userspace, exact libc6, profile, runtime and the shared kernel', () => {
    const x = junitXml([host, deny]);
    expect(x).toContain('<property name="userspace" value="bookworm"/>');
    expect(x).toContain('<property name="userspace.libc6" value="2.36-9+deb12u14"/>');
    expect(x).toMatch(/<property name="container.seccomp_profile" value="[^"]*deny-pidfd-getfd.json"\/>/);
    expect(x).toMatch(/<property name="container.runtime" value="runc \(runc version [^)]+\)"\/>/);
    expect(x).toContain('<property name="container.kernel" value="the host kernel (a container has none of its own)"/>');
  });
  it('the facts of a container cell say its kernel is the host\'s, with the image\'s libc', () => {
    expect(dflt.facts).toMatchObject({ kernelOf: 'host', release: host.facts!.release, userspace: { suite: 'bookworm', packages: { libc6: '2.36-9+deb12u14' } } });
    expect(dflt.mode).toBe('container');
  });
  it('the markdown summary names the cell as a container on the host kernel', () => {
    expect(summaryMarkdown([host, dflt])).toContain('| container: bookworm (libc6 2.36-9+deb12u14), seccomp default, runc, host kernel |');
    expect(summaryMarkdown([host, dflt])).toContain('`policy.md` (next to this file) shows which pidfd calls');
    expect(summaryMarkdown([host])).not.toContain('policy.md');
    expect(matrixHtml([host, dflt])).toContain('<a href="policy.html">policy.html</a>');
    expect(matrixHtml([host])).not.toContain('policy.html');
  });
});
