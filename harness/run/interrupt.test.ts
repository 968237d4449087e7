// Ctrl-C / SIGTERM during `matrix`, with real signals sent to the real CLI (bin/, built into
// dist/): every process the run started dies, the merged reports are still written with the
// unfinished cells as errors, and the exit status says which signal (130 SIGINT, 143 SIGTERM).
// The guests here are the host cell (a real probe run) and a fake vng that hangs during boot
// (vm/fixtures/fake-vng.sh); vm/guest-smoke.test.ts does the same to a real qemu guest.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';
import { unlessAborted } from './interrupt.js';
import { interruptMatrix, liveInGroupsAfter } from '../fixtures/processes.js';
import { fakeBzImage } from '../../vm/fixtures/fake-bzimage.js';

const FAKE = repoPath('vm/fixtures/fake-vng.sh');
const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-intr-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));


const cell = (out: string, id: string) => JSON.parse(readFileSync(join(out, id, 'results.json'), 'utf8')) as CellResult;

describe('matrix interrupted by a real signal', () => {
  it('SIGINT during the host cell: the probe dies, reports are written, the queued cell is an error, exit 130', async () => {
    const out = join(work, 'sigint');
    const file = join(work, 'hosts.yaml');
    writeFileSync(file, 'kernels:\n  - id: host\n    source: host\n  - id: host-again\n    source: host\n');
    const r = await interruptMatrix(['--matrix', file, '--jobs', '1', '--out', out], { waitFor: /host\s+running \(host, no VM\)/, marker: join(out, 'host'), sig: 'SIGINT', settleMs: 1000 });
    expect(r.groups.length, r.out).toBeGreaterThan(0); // the probe was running when the signal came
    expect(r.code, r.out).toBe(130);
    expect(await liveInGroupsAfter(r.groups)).toEqual([]);
    for (const f of ['junit.xml', 'index.html', 'summary.md']) expect(existsSync(join(out, f))).toBe(true);
    expect(cell(out, 'host').error?.reason).toBe('interrupted by SIGINT');
    expect(cell(out, 'host-again').error?.reason).toBe('interrupted by SIGINT before it started');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    // The host cell's answers before the signal are kept; the case running then and those after say why they have none.
    expect(junit).toMatch(/<error message="(not run: interrupted by SIGINT|\S+ was running when the run stopped: interrupted by SIGINT)/);
    expect(junit).toMatch(/<error message="kernel host-again did not run the suite: interrupted by SIGINT before it started"/);
    expect(r.out).toContain('interrupted: exit 130');
  });

  it('SIGTERM while a guest boots: its vng/qemu process group is killed, the cell is an error, exit 143', async () => {
    const out = join(work, 'sigterm');
    mkdirSync(join(work, 'k'), { recursive: true });
    writeFileSync(join(work, 'k/bzImage'), fakeBzImage('6.1.0-fake'));
    const file = join(work, 'guest.yaml');
    writeFileSync(file, `kernels:\n  - id: stuck\n    source: path\n    kernel: ${join(work, 'k/bzImage')}\n    append: fake_mode=hang\n`);
    const r = await interruptMatrix(['--matrix', file, '--accel', 'tcg', '--out', out], {
      waitFor: /stuck\s+booting 6\.1\.0-fake/, marker: `--rwdir=${join(out, 'stuck')}`, sig: 'SIGTERM',
      env: { PIDFD_MATRIX_VNG: FAKE, PIDFD_MATRIX_CACHE: join(work, 'cache') },
    });
    expect(r.groups.length, r.out).toBeGreaterThan(0);
    expect(r.code, r.out).toBe(143);
    expect(await liveInGroupsAfter(r.groups)).toEqual([]);
    const c = cell(out, 'stuck');
    expect(c.error?.reason).toBe('interrupted by SIGTERM');
    expect(c.mode).toBe('guest');
    expect(existsSync(join(out, 'junit.xml'))).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('interrupted by SIGTERM');
  });
});

describe('unlessAborted', () => {
  it('gives the value, or null as soon as the signal aborts', async () => {
    expect(await unlessAborted(Promise.resolve(1), new AbortController().signal)).toBe(1);
    const ac = new AbortController();
    const slow = new Promise<number>((res) => setTimeout(() => res(2), 5000));
    setTimeout(() => ac.abort('SIGINT'), 10);
    expect(await unlessAborted(slow, ac.signal)).toBeNull();
  });
});
