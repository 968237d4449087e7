// Two runs on one machine share the kernel cache and the private apt lists. With real
// processes: a running matrix keeps `kernels clean` from deleting the kernel it boots, two
// fetches of one kernel build it once, two apt updates of one suite never overlap, and a lock
// dies with its holder.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from './lock.js';
import { repoPath } from '../suites/lib/paths.js';
import { interruptMatrix } from '../harness/fixtures/processes.js';
import { fakeBzImage } from '../vm/fixtures/fake-bzimage.js';

const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-locks-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const CLI = repoPath('bin/pidfd-matrix.js');


describe('acquireLock (flock(1) held by a helper process)', () => {
  it('exclusive excludes, shared coexist, and a lock dies with the process that held it', async () => {
    const f = join(work, 'a.lock');
    const x = (await acquireLock(f))!;
    expect(await acquireLock(f, { wait: false })).toBeNull();
    expect(await acquireLock(f, { shared: true, wait: false })).toBeNull();
    await x.release();
    const s1 = (await acquireLock(f, { shared: true }))!;
    const s2 = (await acquireLock(f, { shared: true, wait: false }))!;
    expect(s2).not.toBeNull();
    expect(await acquireLock(f, { wait: false })).toBeNull();
    await s1.release();
    await s2.release();
    // Another real process takes the lock and is SIGKILLed: no stale lock is left behind.
    const holder = spawn(process.execPath, ['-e', `import(${JSON.stringify(repoPath('dist/kernels/lock.js'))}).then(async (m) => { await m.acquireLock(${JSON.stringify(f)}); console.log('held'); setInterval(() => {}, 1000); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((res) => holder.stdout.on('data', (d) => String(d).includes('held') && res()));
    expect(await acquireLock(f, { wait: false })).toBeNull();
    holder.kill('SIGKILL');
    let again = null;
    for (let i = 0; i < 50 && !again; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await acquireLock(f, { wait: false });
    }
    expect(again).not.toBeNull();
    await again!.release();
  });
});

describe('two runs on one kernel cache', () => {
  const cache = join(work, 'cache');
  const env = { ...process.env, PIDFD_MATRIX_CACHE: cache, PIDFD_MATRIX_VNG: repoPath('vm/fixtures/fake-vng.sh') };

  it('kernels clean refuses while a matrix run boots a cached kernel, and works once it ended', async () => {
    mkdirSync(join(work, 'k'), { recursive: true });
    writeFileSync(join(work, 'k/bzImage'), fakeBzImage('6.1.0-fake'));
    const file = join(work, 'guest.yaml');
    writeFileSync(file, `kernels:\n  - id: stuck\n    source: path\n    kernel: ${join(work, 'k/bzImage')}\n    append: fake_mode=hang\n`);
    const out = join(work, 'out');
    let clean: ReturnType<typeof spawnSync> | null = null;
    let treeDuringRun: string[] = [];
    const run = interruptMatrix(['--matrix', file, '--accel', 'tcg', '--out', out], {
      waitFor: /stuck\s+booting/, marker: `--rwdir=${join(out, 'stuck')}`, sig: 'SIGTERM', env,
      ready: () => {
        // The guest is booting from the cache: a second process tries to clean it.
        clean = spawnSync(process.execPath, [CLI, 'kernels', 'clean', '--matrix', file], { env, encoding: 'utf8' });
        treeDuringRun = execFileSync('ls', [join(cache, 'kernels')], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('path-'));
        return true;
      },
    });
    const r = await run;
    expect(r.code, r.out).toBe(143);
    expect(clean!.status, String(clean!.stdout) + String(clean!.stderr)).toBe(1);
    expect(String(clean!.stderr)).toMatch(/in use by a running matrix, bench or fetch; nothing removed/);
    expect(treeDuringRun).toHaveLength(1);
    const after = spawnSync(process.execPath, [CLI, 'kernels', 'clean', '--matrix', file], { env, encoding: 'utf8' });
    expect(after.status, after.stderr).toBe(0);
    expect(existsSync(join(cache, 'kernels'))).toBe(false);
  });

  it('two fetches of one kernel at once: one builds it, the other waits and takes it from the cache', async () => {
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'boot'), { recursive: true });
    writeFileSync(join(tree, 'boot/vmlinuz-6.9.0-fake'), fakeBzImage('6.9.0-fake'));
    // Some bulk, so the two builds would overlap without the lock.
    execFileSync('dd', ['if=/dev/urandom', `of=${join(tree, 'boot/bulk')}`, 'bs=1M', 'count=64'], { stdio: 'ignore' });
    execFileSync('tar', ['-cf', join(work, 'k.tar'), '-C', tree, 'boot']);
    const sha = execFileSync('sha256sum', [join(work, 'k.tar')], { encoding: 'utf8' }).split(' ')[0];
    const file = join(work, 'url.yaml');
    writeFileSync(file, `kernels:\n  - id: u\n    source: url\n    url: file://${join(work, 'k.tar')}\n    sha256: ${sha}\n`);
    const fetchOnce = () => new Promise<string>((res) => {
      const c = spawn(process.execPath, [CLI, 'kernels', 'fetch', '--matrix', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let o = '';
      c.stdout.on('data', (d) => (o += d));
      c.stderr.on('data', (d) => (o += d));
      c.on('close', (code) => res(`${o}exit ${code}`));
    });
    const outs = await Promise.all([fetchOnce(), fetchOnce()]);
    for (const o of outs) expect(o).toMatch(/exit 0$/);
    expect(outs.filter((o) => /u: fetched 6\.9\.0-fake \(/.test(o))).toHaveLength(1);
    expect(outs.filter((o) => /u: cached 6\.9\.0-fake \(/.test(o))).toHaveLength(1);
  });
});

describe('two apt runs on one suite', () => {
  it('never overlap on the private lists, and apt locks them itself (no Debug::NoLocking)', async () => {
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(work, 'apt.log');
    // A stand-in apt-get: logs its interval and arguments, takes a second like a real update.
    writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "start $$ $(date +%s%N) $*" >> ${log}\nsleep 1\necho "end $$ $(date +%s%N)" >> ${log}\n`);
    chmodSync(join(bin, 'apt-get'), 0o755);
    const cache = join(work, 'aptcache');
    const script = `import(${JSON.stringify(repoPath('dist/kernels/apt.js'))}).then((m) => new m.PrivateApt('bookworm', 'http://mirror.invalid/debian', ${JSON.stringify(cache)}).update(true))`;
    const one = () => new Promise<number | null>((res) => spawn(process.execPath, ['-e', script], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdio: 'inherit' }).on('close', res));
    expect(await Promise.all([one(), one()])).toEqual([0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['start', 'end', 'start', 'end']);
    expect(lines[0].split(' ')[1]).toBe(lines[1].split(' ')[1]); // one process's interval, then the other's
    expect(lines[0]).toContain('update');
    expect(lines[0]).not.toContain('NoLocking');
  });
});
