import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeConsole, classifyGuest, consoleExcerpt, scanKernelLog } from './console.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('console analysis on recorded guest logs', () => {
  it('a clean boot: command ran, its exit status is read, nothing wrong', () => {
    const f = analyzeConsole(fixture('clean-boot-6.1.log'));
    expect(f).toMatchObject({ panic: null, oops: null, kvmError: null, scriptStarted: true, scriptExit: 3 });
    expect(classifyGuest(3, false, f, 900)).toEqual({ status: 'ok', reason: '' });
  });

  it('a panic at boot (init=/nonexistent) is a panic with the kernel message as reason', () => {
    const text = fixture('panic-init-nonexistent-6.1.log');
    const f = analyzeConsole(text);
    expect(f.panic).toMatch(/^Kernel panic - not syncing: Attempted to kill init!/);
    expect(f.scriptStarted).toBe(false);
    const v = classifyGuest(255, false, f, 900);
    expect(v.status).toBe('panic');
    expect(v.reason).toContain('Attempted to kill init');
    expect(consoleExcerpt(text)).toContain('Kernel panic - not syncing');
  });

  it('a double fault during udev coldplug (6.12 under TCG) is a panic before the command started', () => {
    const f = analyzeConsole(fixture('double-fault-udev-6.12-tcg.log'));
    expect(f.panic).toBe('Kernel panic - not syncing: Fatal exception in interrupt');
    expect(f.oops).toMatch(/^Oops: double fault/);
    expect(f.scriptStarted).toBe(false);
    expect(classifyGuest(255, false, f, 900)).toEqual({ status: 'panic', reason: 'kernel panic: Fatal exception in interrupt' });
  });

  it('an Oops while the suite runs makes the guest an error even though the command returned', () => {
    const f = analyzeConsole(fixture('oops-null-deref-6.1.log'));
    expect(f.oops).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000008');
    expect(f.taint).toBe('GW');
    expect(f.scriptExit).toBe(139);
    const v = classifyGuest(139, false, f, 900);
    expect(v.status).toBe('panic');
    expect(v.reason).toMatch(/kernel fault: BUG: kernel NULL pointer dereference.*tainted GW/);
  });

  it('a KVM internal error / emulation failure is a boot failure blamed on the hypervisor', () => {
    for (const name of ['kvm-internal-error.log', 'kvm-msr-assertion.log']) {
      const f = analyzeConsole(fixture(name));
      expect(f.kvmError, name).not.toBeNull();
      const v = classifyGuest(255, false, f, 900);
      expect(v.status).toBe('boot-failure');
      expect(v.reason).toMatch(/^hypervisor failure: /);
    }
  });

  it('a timeout says whether the kernel had booted', () => {
    const booting = classifyGuest(null, true, analyzeConsole('[ 1.0] Run /init as init process\n'), 60);
    expect(booting).toEqual({ status: 'timeout', reason: expect.stringContaining('had not finished booting') });
    const running = classifyGuest(null, true, analyzeConsole('virtme-init: starting script\n'), 60);
    expect(running.reason).toContain('the command was running');
  });

  it('vng failing before the guest starts (bad arguments) is a boot failure', () => {
    const v = classifyGuest(1, false, analyzeConsole('ERROR: not a valid pts\n'), 60);
    expect(v).toEqual({ status: 'boot-failure', reason: 'the guest never started the command (vng exited 1)' });
  });
});

describe('kernel reports and case markers on a real console (bookworm 6.1 under TCG: an out-of-tree module WARNs, a userspace GPF, a taint write)', () => {
  const text = fixture('warn-taint-markers-6.1.log');

  it('a userspace "traps: gpf[252] general protection fault" is not a kernel fault: the guest ended ok', () => {
    const f = analyzeConsole(text);
    expect(f.oops).toBeNull();
    expect(f.warning).toMatch(/^WARNING: CPU: 0 PID: 249 at .*pidfd_matrix_warn\.c:5/);
    expect(classifyGuest(0, false, f, 900).status).toBe('ok');
  });

  it('scanKernelLog gives the markers and one report per kernel report block, in order', () => {
    const events = scanKernelLog(text);
    const brief = events.map((e) => (e.type === 'report' ? `${e.kind}: ${e.headline.slice(0, 40)}` : e.type === 'case-start' ? `start ${e.case}` : e.type === 'case-end' ? `end ${e.case} ${e.taint}` : `suite ${e.what} ${e.taint}`));
    expect(brief).toEqual([
      'suite start 0',
      'start demo/warn_module',
      'taint: pidfd_matrix_warn: loading out-of-tree m',
      'taint: pidfd_matrix_warn: module verification f',
      'warning: WARNING: CPU: 0 PID: 249 at /tmp/verdict',
      'end demo/warn_module 12800',
      'start demo/user_gpf',
      'end demo/user_gpf 12800',
      'start demo/proc_taint',
      'end demo/proc_taint 12864',
      'suite end 12864',
    ]);
    const warn = events.find((e) => e.type === 'report' && e.kind === 'warning') as Extract<ReturnType<typeof scanKernelLog>[number], { type: 'report' }>;
    expect(warn.excerpt.split('\n')[0]).toMatch(/cut here/);
    expect(warn.excerpt).toMatch(/---\[ end trace 0000000000000000 \]---$/);
  });

  it('kernel reports that are not WARNs: Oops, hung task, RCU stall, lockdep (after the kernel formats)', () => {
    const log = [
      '[   50.1] INFO: task sh:301 blocked for more than 2 seconds.',
      '[   50.2]       Not tainted 6.1.0-50-amd64 #1 Debian 6.1.176-1',
      '[   60.1] rcu: INFO: rcu_preempt self-detected stall on CPU',
      '[   70.1] WARNING: possible circular locking dependency detected',
      '[   80.1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [node:412]',
      '[   42.1] traps: node[412] trap invalid opcode ip:55 sp:7ff error:0 in node[55+1000]',
    ].join('\n');
    expect(scanKernelLog(log).map((e) => (e.type === 'report' ? e.kind : e.type))).toEqual(['hung-task', 'rcu-stall', 'lockdep', 'lockup']);
    expect(scanKernelLog(fixture('oops-null-deref-6.1.log')).filter((e) => e.type === 'report').map((e) => (e as { kind: string }).kind)).toEqual(['oops']);
  });
});
