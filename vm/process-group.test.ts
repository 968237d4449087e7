// The guest's process group dies with the harness: a parent killed with SIGKILL (test timeout,
// CI cancel) must not leave a qemu running.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGroup, WRAPPER } from './process-group.js';

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('process group watchdog', () => {
  it('kills the command when the process that started it is SIGKILLed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-pg-'));
    const pidfile = join(dir, 'pid');
    // "parent" stands in for the harness: it starts the wrapper (detached, like spawnGroup) and waits.
    const parent = spawn('bash', ['-c', 'setsid bash -c "$W" g bash -c "sleep 1000 & echo \\$! > $PF; wait" & wait'], {
      env: { ...process.env, W: WRAPPER, PF: pidfile },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 50));
    const sleeper = Number(readFileSync(pidfile, 'utf8'));
    expect(alive(sleeper)).toBe(true);
    parent.kill('SIGKILL');
    for (let i = 0; i < 100 && alive(sleeper); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(sleeper)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills the command when the process that started it dies as a zombie nobody reaps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-pg-'));
    const pidfile = join(dir, 'pid');
    const parentfile = join(dir, 'parent');
    // The keeper starts the "harness" and then execs sleep, which never reaps it: once
    // SIGKILLed, the harness stays a zombie and kill -0 on it still succeeds.
    const keeper = spawn('bash', ['-c', '( setsid bash -c "$W" g bash -c "sleep 1000 & echo \\$! > $PF; wait" & wait ) & echo $! > $PP; exec sleep 1000'], {
      env: { ...process.env, W: WRAPPER, PF: pidfile, PP: parentfile },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 50));
    const sleeper = Number(readFileSync(pidfile, 'utf8'));
    const harness = Number(readFileSync(parentfile, 'utf8'));
    expect(alive(sleeper)).toBe(true);
    process.kill(harness, 'SIGKILL');
    for (let i = 0; i < 50 && alive(harness); i++) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(`/proc/${harness}/stat`, 'utf8')).toMatch(/^\d+ \(.*\) Z/); // a zombie, as in the field
    for (let i = 0; i < 100 && alive(sleeper); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(sleeper)).toBe(false);
    keeper.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('runGroup starts the watchdog wrapper as our own child, so it sees us die', async () => {
    let out = '';
    // The command's parent is the wrapper; the wrapper's parent must be this process.
    const r = await runGroup(['bash', '-c', 'grep ^PPid: /proc/$PPID/status'], { timeoutSec: 20, onData: (c) => (out += c) });
    expect(r).toEqual({ exitCode: 0, timedOut: false, startError: null });
    expect(out.trim()).toBe(`PPid:\t${process.pid}`);
  });
});
