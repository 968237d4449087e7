// A kernel that did not build is an error cell ("build failed ..."), with the build log in the
// cell dir and the log tail in JUnit: never a boot error, never a test failure.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFailureCell } from './run-matrix.js';
import { junitXml } from '../report/junit.js';
import type { BuildFailure } from '../../kernels/build.js';

const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-buildcell-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('build failure cell', () => {
  it('is an error whose reason starts with "build failed", carrying the log', async () => {
    const log = join(work, 'k.log');
    writeFileSync(log, "kernel/fork.c:12:1: error: expected ';'\n");
    const f: BuildFailure = {
      ok: false, phase: 'build', reason: "build failed (build: make bzImage exited 2): kernel/fork.c:12:1: error: expected ';'",
      logPath: log, logTail: "kernel/fork.c:12:1: error: expected ';'", seconds: 12, tree: '/src/linux',
      identity: { id: 'git-tree:abc', description: 'git abc (clean)', commit: 'abc', dirty: false },
    };
    const cell = await buildFailureCell({ id: 'mine', source: 'build', tree: '/src/linux' }, f, { kernels: [], outDir: work, jobs: 1, timeoutSec: 2400, accel: 'tcg', command: 'npx pidfd-matrix matrix' });
    expect(cell.error!.reason).toMatch(/^build failed \(build: make bzImage exited 2\)/);
    expect(cell.error!.reason).toContain(log);
    expect(cell.cases).toEqual([]);
    expect(cell.consoleLog).toBe('build.log');
    expect(readFileSync(join(work, 'mine', 'build.log'), 'utf8')).toContain('error: expected');
    expect(cell.rerun).toBe(`npx pidfd-matrix matrix --kernels mine --out ${work} --accel tcg`);
    const xml = junitXml([cell]);
    expect(xml).toMatch(/<error message="kernel mine did not run the suite: build failed[^"]*" type="cell-error">/);
    expect(xml).not.toContain('<failure');
  });
});
