// The config per architecture, as data: the common fragment plus kernels/configs/arch/<arch>.config.
// x86_64 must ask for exactly what pidfd-minimal.config asked for before the split (the fixture is
// that file as it was), so an x86_64 build's merged config is the same; arm64 has what qemu's
// -M virt needs. The cross compiler's absence is an error that names make build-deps.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_ARCH_SPECS, BUILD_ARCHES, buildArchSpec, missingCrossCompiler } from './build-arch.js';
import { DEFAULT_FRAGMENT, fragmentRequests } from './build.js';
import { arm64ImageMagicOk, arm64ImageRelease } from './layout.js';
import { repoPath } from '../suites/lib/paths.js';

const requests = (...files: string[]) => {
  const all = new Map<string, string>();
  for (const f of files) for (const [k, v] of fragmentRequests(readFileSync(f, 'utf8'))) all.set(k, v);
  return all;
};
const BEFORE_SPLIT = repoPath('kernels/fixtures/pidfd-minimal-x86_64-before-arch-split.config');

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('config fragments per architecture', () => {
  it('x86_64: the common fragment plus x86_64.config ask for exactly what the pre-split fragment asked for', () => {
    const now = requests(DEFAULT_FRAGMENT, BUILD_ARCH_SPECS.x86_64.fragment);
    expect(Object.fromEntries([...now].sort())).toEqual(Object.fromEntries([...requests(BEFORE_SPLIT)].sort()));
  });

  it('an arch fragment never repeats or overrides a common option', () => {
    const common = requests(DEFAULT_FRAGMENT);
    for (const arch of BUILD_ARCHES) {
      const own = [...requests(BUILD_ARCH_SPECS[arch].fragment).keys()];
      expect(own.filter((k) => common.has(k)), arch).toEqual([]);
    }
  });

  it('x86-only options are out of the common fragment, and arm64 asks for the virt machine', () => {
    const common = requests(DEFAULT_FRAGMENT);
    for (const k of ['CONFIG_SERIAL_8250', 'CONFIG_EARLY_PRINTK', 'CONFIG_KVM_GUEST', 'CONFIG_X86_VERBOSE_BOOTUP', 'CONFIG_KERNEL_GZIP', 'CONFIG_ACPI']) {
      expect(common.has(k), k).toBe(false);
    }
    const arm64 = requests(DEFAULT_FRAGMENT, BUILD_ARCH_SPECS.arm64.fragment);
    for (const k of ['CONFIG_SERIAL_AMBA_PL011', 'CONFIG_SERIAL_AMBA_PL011_CONSOLE', 'CONFIG_VIRTIO_MMIO', 'CONFIG_PCI_HOST_GENERIC',
      'CONFIG_NET_9P_VIRTIO', 'CONFIG_9P_FS', 'CONFIG_VIRTIO_CONSOLE']) {
      expect(arm64.get(k), k).toBe('y');
    }
    expect(arm64.has('CONFIG_SERIAL_8250')).toBe(false);
  });
});

describe('build architectures', () => {
  it('x86_64 by default; arm64 cross-compiles to arch/arm64/boot/Image; others are refused with the choices', () => {
    expect(buildArchSpec(undefined)).toMatchObject({ kbuild: 'x86_64', crossCompile: '', target: 'bzImage', image: 'arch/x86/boot/bzImage' });
    expect(buildArchSpec('arm64')).toMatchObject({
      kbuild: 'arm64', crossCompile: 'aarch64-linux-gnu-', compilerPackage: 'gcc-aarch64-linux-gnu', target: 'Image', image: 'arch/arm64/boot/Image',
    });
    expect(() => buildArchSpec('riscv64')).toThrow("unknown build architecture 'riscv64' (one of: x86_64, arm64)");
  });

  it('a missing cross compiler names the package and make build-deps; a present one passes', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pm-arch-'));
    const bin = mkdtempSync(join(tmpdir(), 'pm-arch-'));
    dirs.push(empty, bin);
    expect(missingCrossCompiler(BUILD_ARCH_SPECS.arm64, empty)).toBe(
      'building for arm64 needs the cross compiler aarch64-linux-gnu-gcc (Debian\'s gcc-aarch64-linux-gnu); install it with: make build-deps');
    writeFileSync(join(bin, 'aarch64-linux-gnu-gcc'), '#!/bin/sh\n');
    chmodSync(join(bin, 'aarch64-linux-gnu-gcc'), 0o755);
    expect(missingCrossCompiler(BUILD_ARCH_SPECS.arm64, `${empty}:${bin}`)).toBeNull();
    expect(missingCrossCompiler(BUILD_ARCH_SPECS.x86_64, empty)).toBeNull();
  });

  it('knows an arm64 Image by its header magic', () => {
    const img = Buffer.alloc(0x40);
    expect(arm64ImageMagicOk(img)).toBe(false);
    img.write('ARM\x64', 0x38, 'latin1');
    expect(arm64ImageMagicOk(img)).toBe(true);
    expect(arm64ImageMagicOk(img.subarray(0, 0x30))).toBe(false);
  });

  it('reads an arm64 Image\'s release from its banner, across a read boundary, and nothing from other files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-arch-'));
    dirs.push(dir);
    const img = Buffer.alloc((1 << 20) + 4096);
    img.write('ARM\x64', 0x38, 'latin1');
    // A format string first (no release after it), then the banner straddling the first 1 MiB read.
    img.write('Linux version %s (%s)', 0x1000, 'latin1');
    img.write('Linux version 6.18.9 (root@pm) (aarch64-linux-gnu-gcc (Debian 12.2.0-14) 12.2.0) #1 SMP', (1 << 20) - 6, 'latin1');
    writeFileSync(join(dir, 'Image'), img);
    expect(arm64ImageRelease(join(dir, 'Image'))).toBe('6.18.9');
    img.write('XXXX', 0x38, 'latin1');
    writeFileSync(join(dir, 'notImage'), img);
    expect(arm64ImageRelease(join(dir, 'notImage'))).toBeNull();
  });
});
