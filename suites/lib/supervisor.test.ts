// The supervisor and runner from dist/ on this machine's kernel, with the test-only faults:
// a probe blocked in waitid(2) and a runner killed by SIGSEGV each cost only their own case.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath } from './paths.js';
import type { Plan, StreamLine } from './plan.js';
import { parseFaults } from './faults.js';
import { describeBlocked } from './syscall-names.js';

function runPlan(cases: Plan['cases'], env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'pm-supervisor-'));
  const plan: Plan = { cases, stream: join(dir, 'observations.jsonl'), kmsg: false };
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [repoPath('dist/suites/lib/supervisor.js'), join(dir, 'plan.json')], { encoding: 'utf8', env: { ...process.env, ...env } });
  const lines = readFileSync(plan.stream, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StreamLine);
  return { status: r.status, stderr: r.stderr, lines, ms: Date.now() - t0 };
}

const pc = (c: string, deadlineMs = 3000, needs: Plan['cases'][0]['needs'] = []) => ({ id: `pidfd_open/${c}`, feature: 'pidfd_open', case: c, deadlineMs, needs });
const answer = (lines: StreamLine[], id: string) => lines.find((l) => (l.t === 'done' || l.t === 'error') && l.id === id);

describe('supervisor + runner (real processes, host kernel)', () => {
  it('a hung case and a crashed runner cost only their own case; the rest answer', { timeout: 60_000 }, () => {
    const r = runPlan([pc('self'), pc('einval_flags'), pc('einval_pid_zero'), pc('einval_pid_negative'), pc('esrch_reaped')], {
      PIDFD_MATRIX_HANG: 'pidfd_open/einval_flags', PIDFD_MATRIX_CRASH: 'pidfd_open/einval_pid_zero',
    });
    expect(r.status).toBe(0);
    expect(r.lines[0].t).toBe('facts');
    expect(answer(r.lines, 'pidfd_open/self')).toMatchObject({ t: 'done', observed: { result: 'fd' } });
    const hung = answer(r.lines, 'pidfd_open/einval_flags');
    expect(hung).toMatchObject({ t: 'error', durationMs: 3000 });
    // The deadline, the case, and the syscall it sat in (read from /proc/<pid>/syscall).
    expect(hung && 'reason' in hung && hung.reason).toMatch(/^no answer within 3 s; stuck in pidfd_open\/einval_flags, in waitid/);
    const crashed = answer(r.lines, 'pidfd_open/einval_pid_zero');
    expect(crashed && 'reason' in crashed && crashed.reason).toMatch(/^the probe runner was killed by SIGSEGV in pidfd_open\/einval_pid_zero/);
    expect(answer(r.lines, 'pidfd_open/einval_pid_negative')).toMatchObject({ t: 'done', observed: { errno: 'EINVAL' } });
    expect(answer(r.lines, 'pidfd_open/esrch_reaped')).toMatchObject({ t: 'done', observed: { errno: 'ESRCH' } });
    expect(r.lines.at(-1)).toMatchObject({ t: 'end', exit: 0 });
    // Within the deadline plus the normal run time (a few node starts), not the guest limit.
    expect(r.ms).toBeLessThan(3000 + 30_000);
  });

  it('a case whose needs are unmet is not called; the runner says why', { timeout: 30_000 }, () => {
    const enforcing = (() => { try { return readFileSync('/sys/fs/selinux/enforce', 'utf8').trim() === '1'; } catch { return false; } })();
    const r = runPlan([pc('self', 3000, enforcing ? [] : ['selinux'])], {});
    if (!enforcing) expect(answer(r.lines, 'pidfd_open/self')).toMatchObject({ t: 'done', observed: { not_run: expect.stringMatching(/^needs SELinux enforcing/) } });
  });

  it('a case with no probe is an error naming the catalog case, and the runner goes on', { timeout: 30_000 }, () => {
    const r = runPlan([{ ...pc('self'), id: 'pidfd_open/nope', case: 'nope' }, pc('self')], {});
    const a = answer(r.lines, 'pidfd_open/nope');
    expect(a && 'reason' in a && a.reason).toMatch(/^catalog case pidfd_open\/nope has no probe in open\.probe\.js/);
    expect(answer(r.lines, 'pidfd_open/self')).toMatchObject({ t: 'done' });
  });
});

describe('fault switches and stuck-syscall names', () => {
  it('reads faults from the kernel command line; a panic never from the environment', () => {
    expect(parseFaults('console=ttyS0 pidfd_matrix.hang=pidfd_open/self pidfd_matrix.panic=waitid_pidfd/exited quiet')).toEqual({ hang: 'pidfd_open/self', panic: 'waitid_pidfd/exited' });
    expect(parseFaults('quiet', { PIDFD_MATRIX_HANG: 'a/b', PIDFD_MATRIX_CRASH: 'c/d', PIDFD_MATRIX_PANIC: 'e/f' } as NodeJS.ProcessEnv)).toEqual({ hang: 'a/b', crash: 'c/d' });
  });
  it('names the syscall and wait channel of a blocked task', () => {
    expect(describeBlocked('247 0x1 0x2c9 0x7ffd 0x4 0x0 0x0 0x7ffd 0x7f12\n', 'do_wait', 'x64')).toBe('waitid (wchan do_wait)');
    expect(describeBlocked('7 0x5 0x1 0x0', '0', 'x64')).toBe('poll');
    expect(describeBlocked('999 0x0', '', 'x64')).toBe('syscall 999');
    expect(describeBlocked('running', '0', 'x64')).toBe('running (busy in user space)');
    expect(describeBlocked('', '', 'x64')).toBe('');
    // arm64 numbers are the generic table's: 95 is waitid there, 247 nothing named.
    expect(describeBlocked('95 0x3 0x5 0x0', 'do_wait', 'arm64')).toBe('waitid (wchan do_wait)');
    expect(describeBlocked('73 0x0', '', 'arm64')).toBe('ppoll');
    expect(describeBlocked('247 0x0', '', 'arm64')).toBe('syscall 247');
  });
});
