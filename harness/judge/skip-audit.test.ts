// The skip audit on recorded runs: a skip is accepted only with evidence (the kernel's own
// answer, facts that prove a need unmet, a proven Seccomp refusal, a probe's errno).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog.js';
import { FIXTURE_CATALOG, FIXTURES, fixtureCell } from '../fixtures/load.js';
import type { CellResult } from '../results.js';
import { auditSkips } from './skip-audit.js';
import { judge } from './judge.js';
import { selectedCases } from '../run/run-suite.js';
import { unmetNeed } from '../../suites/lib/needs.js';

const fixtureCatalog = () => loadCatalog(FIXTURE_CATALOG);
const streamCell = () => JSON.parse(readFileSync(`${FIXTURES}streams/trixie-faults/results.json`, 'utf8')) as CellResult;

describe('skip audit', () => {
  it('accepts a need the recorded facts prove unmet (uid 1000 is not root) and the kernel\'s own without-answer', () => {
    const host = fixtureCell('host');
    expect(host.cases.some((c) => c.status === 'skip' && c.reason === 'needs root: running as uid 1000')).toBe(true);
    expect(auditSkips(host, fixtureCatalog())).toEqual([]);
    const trixie = streamCell();
    expect(trixie.cases.filter((c) => c.status === 'skip' && c.reason.startsWith('absent as expected')).length).toBeGreaterThan(0);
  });

  it('accepts a coredump case skipped because the run does not own core_pattern or the kernel has no CONFIG_COREDUMP, and only then', () => {
    const catalog = loadCatalog();
    const c = selectedCases(['coredump_socket/server_peer_pidfd'])[0];
    const host = fixtureCell('host');
    const cellWith = (facts: Partial<CellResult['facts'] & object>) => {
      const f = { ...host.facts!, root: true, capSysAdmin: true, corePattern: true, ownsCorePattern: false, ...facts };
      const reason = unmetNeed(c.needs, f) ?? 'ran';
      return { ...host, facts: f, cases: [{ ...host.cases[0], id: c.id, status: 'skip' as const, reason, observed: { not_run: reason } }] };
    };
    const notOwned = cellWith({});
    expect(notOwned.cases[0].reason).toMatch(/--own-core-pattern/);
    expect(auditSkips(notOwned, catalog)).toEqual([]);
    const noCoredump = cellWith({ corePattern: false });
    expect(noCoredump.cases[0].reason).toBe('needs CONFIG_COREDUMP: /proc/sys/kernel/core_pattern is absent');
    expect(auditSkips(noCoredump, catalog)).toEqual([]);
    // owned, with CONFIG_COREDUMP: the same skip has no evidence left
    const owned = { ...notOwned, facts: { ...notOwned.facts, ownsCorePattern: true } };
    expect(auditSkips(owned, catalog).map((f) => f.why)).toEqual([
      "the recorded facts meet the case's needs (root, coredump, own-core-pattern): it should have run",
    ]);
  });

  it('names a skip the recorded facts do not support: a real 6.12 guest from before the uid drop skipped pidfd_getfd/eperm as root', () => {
    const found = auditSkips(streamCell(), loadCatalog());
    expect(found).toEqual([{
      id: 'pidfd_getfd/eperm',
      reason: 'needs an unprivileged caller: root passes this permission check',
      why: "the recorded facts meet the case's needs (unprivileged): it should have run",
    }]);
  });

  it('names a probe skip without a kernel answer, accepts one that carries the errno it got', () => {
    const cell = streamCell();
    const base = cell.cases.find((c) => c.id === 'pidfd_signal_flags/process_group_not_leader')!;
    const situational = { ...base, status: 'skip' as const, reason: 'pidfd_signal_flags/process_group_not_leader: this process leads its own process group', observed: { skip: 'this process leads its own process group' } };
    const refused = { ...base, id: 'io_uring_waitid/waitid_pidfd', status: 'skip' as const, reason: 'io_uring_waitid/waitid_pidfd: io_uring unavailable (EPERM: kernel.io_uring_disabled or CONFIG_IO_URING=n)', observed: { skip: 'io_uring unavailable', errno: 'EPERM' } };
    const noObservation = { ...base, id: 'pidfd_open/basic', status: 'skip' as const, reason: 'absent as expected: pidfd_open/basic needs 5.3', observed: {} };
    // needs: [x86_64] is met on this x86_64 cell, but the errno the probe got is evidence itself
    const refusedWithNeeds = { ...base, id: 'glibc_clone3_fallback/eperm_thread', status: 'skip' as const, reason: 'glibc_clone3_fallback/eperm_thread: this cell\'s own seccomp policy already answers clone3 ENOSYS', observed: { skip: 'policy answers clone3 ENOSYS', errno: 'ENOSYS' } };
    expect(cell.facts?.arch).toBe('x86_64');
    const found = auditSkips({ ...cell, cases: [situational, refused, refusedWithNeeds, noObservation] }, loadCatalog());
    expect(found.map((f) => [f.id, f.why])).toEqual([
      ['pidfd_signal_flags/process_group_not_leader', 'the probe skipped without a kernel answer: it should build the situation it needs'],
      ['pidfd_open/basic', 'absent as expected, but no observation was stored'],
    ]);
  });

  it('accepts the i386 helper\'s ENOEXEC as the judge names it; a bare skip string (older runs) stays named', () => {
    // A real guest: vanilla 6.9.0 without CONFIG_IA32_EMULATION (harness/fixtures/compat32-noexec/).
    const cell = JSON.parse(readFileSync(`${FIXTURES}compat32-noexec/results.json`, 'utf8')) as CellResult;
    const skips = cell.cases.filter((c) => c.feature === 'compat32');
    expect(skips).toHaveLength(18);
    for (const c of skips) {
      expect(c.observed).toMatchObject({ exec_refused: 'ENOEXEC', abi: 'i386', abi_vsyscall32: false });
      // The host's verdict, again from the stored observation: a skip with that evidence.
      const v = judge(selectedCases([c.id])[0], cell.facts as never, c.observed);
      expect(v).toMatchObject({ status: 'skip', reason: `${c.id}: kernel runs no i386 binaries: execve ENOEXEC (no /proc/sys/abi/vsyscall32, which x86_64 registers only with IA32 emulation)` });
      expect(c.reason).toBe(v.reason);
    }
    expect(auditSkips(cell, loadCatalog())).toEqual([]);
    // What the probe stored before (vanilla 6.14.0's run): a sentence, no observed refusal.
    const legacy = skips.map((c) => ({ ...c, reason: `${c.id}: this kernel runs no i386 binaries: execve of the static i386 helper gave ENOEXEC`, observed: { skip: 'this kernel runs no i386 binaries' } }));
    expect(auditSkips({ ...cell, cases: legacy }, loadCatalog())).toHaveLength(18);
    // Another errno is no answer about i386 support: an error, not a skip.
    expect(judge(selectedCases(['compat32/get_info'])[0], cell.facts as never, { exec_refused: 'EACCES', abi: 'i386' }).status).toBe('error');
  });
});
