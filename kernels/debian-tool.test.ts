// A Debian program of another architecture for a guest (issue 23.1): trixie's arm64 static
// busybox through the signature-checked arm64 lists, cached, a second call fetches nothing.
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ARM64_BUSYBOX, DebianToolError, ensureDebianTool } from './debian-tool.js';

const cache = mkdtempSync(join(tmpdir(), 'pm-tool-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

describe('a Debian tool of another architecture', () => {
  it("fetches trixie's arm64 busybox-static once: a static aarch64 ELF", async () => {
    const lines: string[] = [];
    const bb = await ensureDebianTool(ARM64_BUSYBOX, { cache, progress: (l) => lines.push(l) });
    expect(bb).toMatch(new RegExp(`^${cache}/tools/debian-busybox-static_.*_arm64/usr/bin/busybox$`));
    const elf = readFileSync(bb);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(183); // EM_AARCH64
    expect(elf.includes(Buffer.from('/lib/ld-linux-aarch64'))).toBe(false); // static: no interpreter
    const mtime = statSync(bb).mtimeMs;
    expect(await ensureDebianTool(ARM64_BUSYBOX, { cache, progress: (l) => lines.push(l) })).toBe(bb);
    expect(statSync(bb).mtimeMs).toBe(mtime);
    expect(lines).toHaveLength(1);
  }, 240_000);

  it('a package the suite does not have is an error naming it', async () => {
    await expect(ensureDebianTool({ ...ARM64_BUSYBOX, pkg: 'no-such-package-pm' }, { cache })).rejects.toThrow(DebianToolError);
  }, 240_000);
});
