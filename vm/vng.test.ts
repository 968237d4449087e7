// The boot wrapper against a fake vng (vm/fixtures/fake-vng.sh): argument building, exit
// status, panic classification and the hard timeout that kills the whole process group.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boot, vngArgs } from './vng.js';

const FAKE = new URL('./fixtures/fake-vng.sh', import.meta.url).pathname;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-vng-'));
  process.env.PIDFD_MATRIX_VNG = FAKE;
});
afterAll(() => {
  delete process.env.PIDFD_MATRIX_VNG;
  delete process.env.FAKE_VNG_MODE;
  rmSync(dir, { recursive: true, force: true });
});

describe('vngArgs', () => {
  it('uses 9p, verbose console, TCG via --disable-kvm, guest=host rwdirs, the command last', () => {
    const a = vngArgs('/k/boot/vmlinuz-6.1', 'uname -r', { accel: 'tcg', rwdirs: ['/out/x'], append: 'init=/nonexistent', cpus: 1, memory: '1G' });
    expect(a).toEqual(['--run', '/k/boot/vmlinuz-6.1', '--force-9p', '--verbose', '--cpus', '1', '--memory', '1G', '--disable-kvm', '--qemu-opts=-device virtio-rng-pci', '--rwdir=/out/x=/out/x', '--append', 'init=/nonexistent', '--', 'uname -r']);
    expect(vngArgs('/k', 'true', { accel: 'kvm' })).not.toContain('--disable-kvm');
  });

  it('an arm64 guest: --arch and its busybox, on its own root, under TCG only', () => {
    const a = vngArgs('/k/boot/vmlinuz-6.12-arm64', 'true', { accel: 'tcg', arch: 'arm64', busybox: '/bb/busybox', root: '/roots/trixie-arm64' });
    expect(a.slice(a.indexOf('--arch'), a.indexOf('--root') + 2)).toEqual(['--arch', 'arm64', '--busybox', '/bb/busybox', '--root', '/roots/trixie-arm64']);
    expect(() => vngArgs('/k', 'true', { accel: 'tcg', arch: 'arm64' })).toThrow(/needs a root of its architecture/);
    expect(() => vngArgs('/k', 'true', { accel: 'kvm', arch: 'arm64', root: '/r' })).toThrow(/TCG only/);
  });
});

describe('boot() with a fake vng', () => {
  it('a clean run reports ok, the exit status and keeps the console log', async () => {
    process.env.FAKE_VNG_MODE = 'noresult';
    let running = 0;
    const r = await boot('/k/vmlinuz', 'true', { accel: 'tcg', timeoutSec: 30, consoleLogPath: join(dir, 'ok.log'), onRunning: () => running++ });
    expect(r).toMatchObject({ status: 'ok', exitCode: 0, reason: '' });
    expect(running).toBe(1);
    expect(readFileSync(join(dir, 'ok.log'), 'utf8')).toContain('virtme-init: starting script');
  });

  it('a panic is a panic, with an excerpt around the panic line', async () => {
    process.env.FAKE_VNG_MODE = 'panic';
    const r = await boot('/k/vmlinuz', 'true', { accel: 'tcg', timeoutSec: 30, consoleLogPath: join(dir, 'panic.log') });
    expect(r.status).toBe('panic');
    expect(r.exitCode).toBe(255);
    expect(r.consoleExcerpt).toContain('Kernel panic - not syncing');
  });

  it('a hang is killed at the timeout, children included', async () => {
    process.env.FAKE_VNG_MODE = 'hang';
    const pidfile = join(dir, 'sleep.pid');
    process.env.FAKE_VNG_PIDFILE = pidfile;
    const r = await boot('/k/vmlinuz', 'true', { accel: 'tcg', timeoutSec: 2, consoleLogPath: join(dir, 'hang.log') });
    expect(r.status).toBe('timeout');
    expect(r.exitCode).toBeNull();
    expect(r.reason).toMatch(/no result within 2s .*had not finished booting.*killed/);
    expect(r.durationMs).toBeLessThan(20_000);
    // The grandchild was killed too: gone, or a zombie waiting for init to reap it.
    const pid = Number(readFileSync(pidfile, 'utf8'));
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 50 && alive(); i++) await new Promise((res) => setTimeout(res, 100));
    expect(alive()).toBe(false);
  });
});

describe('a kernel that faults at boot and goes silent', () => {
  it('is stopped after the console silence, not at the cell limit, and named a kernel fault', async () => {
    process.env.FAKE_VNG_MODE = 'bootbug';
    process.env.FAKE_VNG_PIDFILE = join(dir, 'bootbug.pid');
    const r = await boot('/k/vmlinuz', 'true', { accel: 'tcg', timeoutSec: 120, faultSilenceSec: 1, consoleLogPath: join(dir, 'bootbug.log') });
    expect(r.status).toBe('panic');
    expect(r.exitCode).toBeNull();
    expect(r.reason).toMatch(/^kernel fault: BUG: kernel NULL pointer dereference.*console stayed silent 1 s after it, so the guest was stopped \(not left to the 120 s limit\)$/);
    expect(r.findings.scriptStarted).toBe(false);
    expect(r.durationMs).toBeLessThan(60_000);
  });

  it('a kernel that faults but keeps booting is left to start the command (still a kernel fault)', async () => {
    process.env.FAKE_VNG_MODE = 'bugok'; // an Oops, then a line every 0.6 s, then the command
    const r = await boot('/k/vmlinuz', 'true', { accel: 'tcg', timeoutSec: 30, faultSilenceSec: 1, consoleLogPath: join(dir, 'bugok.log') });
    expect(r.findings.scriptStarted).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe('panic');
    expect(r.reason).not.toContain('stopped');
  });
});

describe('commandViaFile (the guest command travels as a script, not on the kernel command line)', () => {
  it('writes the command into the first rwdir and hands vng a short `sh <file>`', async () => {
    const { commandViaFile, GUEST_COMMAND_FILE } = await import('./sut.js');
    const cell = join(dir, 'a'.repeat(120), 'cell');
    const long = `if node -e 0; then ${'x'.repeat(3000)}; fi`;
    const cmd = await commandViaFile(long, { rwdirs: [cell] });
    expect(cmd).toBe(`sh ${join(cell, GUEST_COMMAND_FILE)}`);
    expect(cmd.length).toBeLessThan(300);
    expect(readFileSync(join(cell, GUEST_COMMAND_FILE), 'utf8')).toContain(`\n${long}\n`);
    expect(await commandViaFile('true', {})).toBe('true'); // no rwdir: nowhere to put it
  });
});
