// Accelerator choice with a fake vng: explicit choices never probe; `auto` probes KVM once,
// falls back to TCG when the probe boot dies, and reuses the cached verdict afterwards.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseAccel, kvmDriver } from './accel.js';

const FAKE = new URL('./fixtures/fake-vng.sh', import.meta.url).pathname;
let dir: string;
const calls = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').length : 0);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-accel-'));
  process.env.PIDFD_MATRIX_VNG = FAKE;
  process.env.FAKE_VNG_CALLS = join(dir, 'calls');
  writeFileSync(join(dir, 'vmlinuz'), '');
});
afterAll(() => {
  for (const v of ['PIDFD_MATRIX_VNG', 'FAKE_VNG_CALLS', 'FAKE_VNG_MODE']) delete process.env[v];
  rmSync(dir, { recursive: true, force: true });
});

describe('chooseAccel', () => {
  it('--accel kvm / tcg are taken as given, without a probe boot', async () => {
    expect(await chooseAccel('tcg', join(dir, 'vmlinuz'), { cacheFile: join(dir, 'a.json') })).toEqual({ accel: 'tcg', reason: '--accel tcg' });
    expect((await chooseAccel('kvm', join(dir, 'vmlinuz'), { cacheFile: join(dir, 'a.json') })).accel).toBe('kvm');
    expect(calls()).toBe(0);
  });

  it.skipIf(!existsSync('/dev/kvm'))('auto: a KVM probe that dies means TCG, and the verdict is cached', async () => {
    process.env.FAKE_VNG_MODE = 'kvmfail';
    const cacheFile = join(dir, 'accel.json');
    const first = await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile });
    expect(first.accel).toBe('tcg');
    expect(first.reason).toMatch(/KVM probe boot failed \(hypervisor failure: failed to set MSR/);
    expect(calls()).toBe(1);
    const second = await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile });
    expect(second).toMatchObject({ accel: 'tcg', reason: expect.stringMatching(/^cached verdict from /) });
    expect(calls()).toBe(1);
  });

  it.skipIf(!existsSync('/dev/kvm'))('auto: the verdict is about the host, not the probe kernel: another first kernel reuses it', async () => {
    process.env.FAKE_VNG_MODE = 'kvmfail';
    const cacheFile = join(dir, 'two-kernels.json');
    writeFileSync(join(dir, 'vmlinuz-other'), '');
    const before = calls();
    const first = await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile });
    expect(first.reason).toMatch(/^KVM probe boot failed .*\(probed with .*\/vmlinuz\)$/);
    const second = await chooseAccel('auto', join(dir, 'vmlinuz-other'), { cacheFile });
    expect(calls() - before).toBe(1);
    expect(second).toMatchObject({ accel: 'tcg', reason: expect.stringMatching(/^cached verdict from \S+ \(probed with .*\/vmlinuz\): KVM probe boot failed/) });
    expect(JSON.parse(readFileSync(cacheFile, 'utf8'))).toMatchObject({ probedWith: join(dir, 'vmlinuz'), key: expect.not.stringContaining('vmlinuz') });
  });

  it.skipIf(!existsSync('/dev/kvm'))('auto: another KVM driver is another host: probed again', async () => {
    process.env.FAKE_VNG_MODE = 'kvmfail';
    const cacheFile = join(dir, 'driver.json');
    const sys = (d: string) => { const s = join(dir, `sys-${d}`); mkdirSync(join(s, 'kvm'), { recursive: true }); mkdirSync(join(s, d), { recursive: true }); return s; };
    const before = calls();
    await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile, sysModule: sys('kvm_pvm') });
    await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile, sysModule: sys('kvm_pvm') });
    expect(calls() - before).toBe(1);
    await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile, sysModule: sys('kvm_intel') });
    expect(calls() - before).toBe(2);
  });

  it('kvmDriver names the kvm_* module beside kvm (built-in ones are listed too)', () => {
    const s = join(dir, 'sys-drv');
    for (const m of ['kvm', 'kvm_pvm', 'vhost']) mkdirSync(join(s, m), { recursive: true });
    expect(kvmDriver(s)).toBe('kvm_pvm');
    expect(kvmDriver(join(dir, 'none'))).toBe('unknown');
  });

  it.skipIf(!existsSync('/dev/kvm'))('auto: a KVM probe that boots means KVM', async () => {
    process.env.FAKE_VNG_MODE = 'noresult';
    const r = await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile: join(dir, 'other.json') });
    expect(r.accel).toBe('kvm');
  });

  it.skipIf(!existsSync('/dev/kvm'))('auto: a KVM probe that hangs is decided within its limit (20 s by default): TCG', async () => {
    process.env.FAKE_VNG_MODE = 'hang';
    const t0 = Date.now();
    const r = await chooseAccel('auto', join(dir, 'vmlinuz'), { cacheFile: join(dir, 'hang.json'), timeoutSec: 2 });
    expect(r).toMatchObject({ accel: 'tcg', reason: expect.stringMatching(/^KVM probe boot failed \(no result within 2s/) });
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
