// A real run of the probe command on this machine's kernel, through the built CLI, exactly as
// a user runs it: every catalog case must end pass, or skip with a reason; nothing fails.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { PROC_PID_INIT_INO } from '../../suites/lib/container.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCases, loadCatalog } from '../judge/catalog.js';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';
import { auditSkips } from '../judge/skip-audit.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd: repoPath() });

describe('pidfd-matrix probe on the host kernel', () => {
  const out = mkdtempSync(join(tmpdir(), 'pm-host-'));
  const run = cli(['probe', '--out', out]);
  const cell = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult;

  it('exits 0 and reports every catalog case', () => {
    expect(run.stderr + run.stdout).not.toMatch(/^(FAIL|ERROR) /m);
    expect(run.status).toBe(0);
    expect(cell.cases.map((c) => c.id).sort()).toEqual([...allCases(loadCatalog()).map((c) => c.id), 'kernel_health'].sort());
  });

  it('kernel health is a verdict of its own: the taint record before and after the suite', () => {
    expect(cell.taint).toEqual({ start: expect.any(Number), end: expect.any(Number) });
    const h = cell.cases.find((c) => c.id === 'kernel_health')!;
    expect(h.reason).toMatch(/taint before and after the suite/);
    expect(h.status).toBe(cell.taint!.end & ~cell.taint!.start ? 'error' : 'pass');
  });

  it('R4 reads "waits" only after it saw the leader exited (a zombie), while the group still lived', () => {
    const c = cell.cases.find((x) => x.id === 'pidfd_thread_leader_poll/premature_leader_exit')!;
    expect(c.status, c.reason).toBe('pass');
    expect(c.observed).toMatchObject({ leader_thread_poll: 'waits', leader_state_before_poll: 'Z', after_group_exit: 'POLLIN' });
    // The group ends when the probe wakes its thread after this poll, or on its own at 10 s.
    expect(c.observed.poll_ended_ms as number).toBeLessThan(10_000);
  });

  it('the unprivileged cases run for real as root: a child dropped to uid 65534 gets EPERM', () => {
    for (const id of ['pidfd_getfd/eperm', 'pidfd_send_signal/eperm_unprivileged_init']) {
      const c = cell.cases.find((x) => x.id === id)!;
      expect({ id, status: c.status, observed: c.observed }).toEqual({ id, status: 'pass', observed: { errno: 'EPERM', as_uid: cell.facts!.root ? 65534 : cell.facts!.uid } });
    }
  });

  it('no case fails or errors; every skip carries a reason and its evidence', () => {
    const bad = cell.cases.filter((c) => c.status === 'fail' || c.status === 'error').map((c) => `${c.id}: ${c.reason}`);
    expect(bad).toEqual([]);
    for (const c of cell.cases.filter((x) => x.status === 'skip')) expect(c.reason.length).toBeGreaterThan(10);
    expect(auditSkips(cell, loadCatalog())).toEqual([]);
  });

  it('PIDFD_SIGNAL_PROCESS_GROUP on a non-leader runs even when the runner leads its own group (setsid)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-pgrp-'));
    const id = 'pidfd_signal_flags/process_group_not_leader';
    const r = spawnSync('setsid', ['--wait', process.execPath, repoPath('bin/pidfd-matrix.js'), 'probe', '--test', id, '--out', dir], { encoding: 'utf8', cwd: repoPath() });
    expect(r.status, r.stderr).toBe(0);
    const c = (JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as CellResult).cases.find((x) => x.id === id)!;
    expect(c.status, c.reason).not.toBe('skip');
    expect(c.observed, c.reason).toMatchObject({ errno: expect.stringMatching(/^(ESRCH|EINVAL)$/) });
    if (c.observed.errno === 'ESRCH') expect(c.observed.member_pgrp).toBe('leader child');
  });

  it('results.json holds the observed values and the kernel facts', () => {
    expect(cell.facts?.release).toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    // In the initial pid namespace no container manager runs us, whatever files the rootfs has.
    if (statSync('/proc/self/ns/pid').ino === PROC_PID_INIT_INO) expect(cell.facts?.container, cell.facts?.containerEvidence).toBeNull();
    expect(cell.facts?.containerEvidence).toBeTruthy();
    const ran = cell.cases.filter((c) => c.status === 'pass');
    expect(ran.length).toBeGreaterThan(0);
    for (const c of ran) expect(Object.keys(c.observed).length).toBeGreaterThan(0);
    const open = cell.cases.find((c) => c.id === 'fdinfo_nspid/reaped_minus_one');
    if (open?.status === 'pass') expect(open.observed.fdinfo).toMatch(/Pid:\t-1/);
  });

  it('writes a JUnit file with one testcase per case', () => {
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect((xml.match(/<testcase /g) ?? []).length).toBe(cell.cases.length);
  });
});

describe('pidfd-matrix CLI', () => {
  it("--help lists the commands; unknown options and commands fail with exit 2 and a message", { timeout: 180_000 }, () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/probe\s+run the probe suite/);
    const bad = cli(['probe', '--frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--frobnicate'/);
    const unknownTest = cli(['probe', '--test', 'no_such_feature']);
    expect(unknownTest.status).toBe(2);
    expect(unknownTest.stderr).toMatch(/unknown test id\(s\): no_such_feature/);
    expect(cli(['frob']).status).toBe(2);
  });

  it("--test runs only the named test and the rerun command of a case names it", { timeout: 180_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'pm-one-'));
    const r = cli(['probe', '--out', out, '--test', 'pidfd_open/self']);
    expect(r.status).toBe(0);
    const cell = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult;
    expect(cell.cases.map((c) => c.id)).toEqual(['pidfd_open/self', 'kernel_health']);
    expect(cell.cases[0].rerun).toBe('npx pidfd-matrix probe --test pidfd_open/self');
  });
});
