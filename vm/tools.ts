// Finds the guest tools scripts/setup/vm.sh installed and reports their versions for provenance.
import { existsSync } from 'node:fs';
import { $, which } from 'zx/core';
import { join } from 'node:path';
import { toolsDir } from '../kernels/cache.js';

export class ToolsMissing extends Error {}

function onPath(name: string): string | null {
  return which.sync(name, { nothrow: true });
}

/** vng from the cache's tools dir (scripts/setup/vm.sh), else from PATH (PIDFD_MATRIX_VNG overrides). */
export function vngBinary(): string {
  const cand = [process.env.PIDFD_MATRIX_VNG, join(toolsDir(), 'bin/vng')].filter(Boolean) as string[];
  for (const c of cand) if (existsSync(c)) return c;
  const p = onPath('vng');
  if (p) return p;
  throw new ToolsMissing(`virtme-ng (vng) is not installed: run 'make deps' (bash scripts/setup/vm.sh), which unpacks it into ${toolsDir()}`);
}

export function qemuBinary(): string {
  const p = onPath('qemu-system-x86_64');
  if (!p) throw new ToolsMissing(`qemu-system-x86_64 is not installed: run 'make deps' (bash scripts/setup/vm.sh)`);
  return p;
}

async function firstLine(cmd: string, args: string[]): Promise<string | null> {
  const out = await $({ quiet: true, nothrow: true, timeout: '30s' })`${cmd} ${args}`;
  if (!out.ok) return null;
  return (out.stdout || out.stderr).split('\n')[0].trim() || null;
}

export interface ToolVersions { vng: string | null; qemu: string | null }

let cached: Promise<ToolVersions> | null = null;
/** "virtme-ng 1.35", "QEMU emulator version 7.2.22 (...)"; null when missing. */
export function toolVersions(): Promise<ToolVersions> {
  cached ??= (async () => ({
    vng: await firstLine(vngBinary(), ['--version']).catch(() => null),
    qemu: await firstLine('qemu-system-x86_64', ['--version']),
  }))();
  return cached;
}
