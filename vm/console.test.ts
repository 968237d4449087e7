import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeConsole, classifyGuest, consoleExcerpt } from './console.js';

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
