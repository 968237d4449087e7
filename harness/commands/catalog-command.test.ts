// `pidfd-matrix catalog`, driven as the CLI drives it, on copies of the recorded fixture runs
// and the fixture catalog: --record writes the record, the listing shows the boundaries.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogCommand } from './catalog.js';
import { COMMITS_PATH } from '../judge/commits.js';
import { UsageError } from './types.js';
import { FIXTURE_RESULTS, useFixtureCatalog } from '../fixtures/load.js';
import { parseVerified } from '../judge/verification.js';
import { capture } from '../fixtures/capture.js';

beforeAll(useFixtureCatalog);
afterEach(() => vi.restoreAllMocks());


describe('pidfd-matrix catalog', () => {
  it('--record adds one entry per kernel that ran, never a failed case; the listing counts the boundaries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cat-'));
    cpSync(FIXTURE_RESULTS, join(dir, 'run'), { recursive: true });
    const file = join(dir, 'verified.yaml');
    const io = capture();
    expect(await catalogCommand.run(['--record', join(dir, 'run'), '--verified', file])).toBe(0);
    const v = parseVerified(readFileSync(file, 'utf8'));
    expect(v.kernels.length).toBeGreaterThan(0);
    // Every record says where its kernel came from, and no record names a machine path.
    for (const k of v.kernels) expect(k.identity?.why, k.version).toBeTruthy();
    expect(readFileSync(file, 'utf8')).not.toMatch(/source: path|\/work\/|\/root\/|\/tmp\//);
    expect(io.out()).toMatch(/^recorded \S+ \(/m);
    // The fixtures contain a failing case: it is named, not recorded.
    expect(io.err()).toMatch(/not recorded \(/);
    const failed = /not recorded \((\S+)\): (\S+):/.exec(io.err())!;
    expect(v.kernels.find((k) => k.kernelId === failed[1])?.with ?? []).not.toContain(failed[2]);

    const list = capture();
    expect(await catalogCommand.run(['--verified', file])).toBe(0);
    expect(list.out()).toMatch(/\d+ boundaries: \d+ verified, \d+ after only, \d+ before only, \d+ unverified, \d+ unobtainable; \d+ kernels recorded in /);
    const table = capture();
    expect(await catalogCommand.run(['--table', '--verified', file])).toBe(0);
    expect(table.out().split('\n')[0]).toMatch(/^\| feature \| /);
  });

  it('each boundary names its commits and the first release per stable series, or that none is named', async () => {
    // The shipped catalog and its commits.yaml, not the fixture catalog.
    const fixture = process.env.PIDFD_MATRIX_CATALOG;
    delete process.env.PIDFD_MATRIX_CATALOG;
    const io = capture();
    try {
      expect(await catalogCommand.run(['--feature', 'pidfd_thread_leader_poll'])).toBe(0);
    } finally {
      process.env.PIDFD_MATRIX_CATALOG = fixture;
    }
    expect(io.out()).toMatch(/backport 6\.12\.31 +pidfd_thread_leader_poll\/premature_leader_exit/);
    expect(io.out()).toContain('0fb482728ba1 "pidfs: improve multi-threaded exec and premature thread-group leader exit polling" (mainline 6.15)');
    expect(io.out()).toMatch(/6\.12: 6\.12\.31 · 6\.14: 6\.14\.9/);
    expect(io.out()).toMatch(/5\.4, 5\.10, 5\.15, 6\.1, 6\.6: unknown \(not researched|5\.4[^\n]*(not taken|unknown)/);
    expect(io.out()).toMatch(/\d+ boundaries name their commits, \d+ are judged by version only/);
  });

  it('a commit older than every stable series says each series has it from its .0', async () => {
    const fixture = process.env.PIDFD_MATRIX_CATALOG;
    delete process.env.PIDFD_MATRIX_CATALOG;
    const io = capture();
    try {
      expect(await catalogCommand.run(['--feature', 'waitid_pidfd/exited'])).toBe(0);
    } finally {
      process.env.PIDFD_MATRIX_CATALOG = fixture;
    }
    expect(io.out()).toContain('3695eae5fee0 "pidfd: add P_PIDFD to waitid()" (mainline 5.4)');
    expect(io.out()).toMatch(/^ {8}every series here \(5\.4, 5\.10, [^)]*6\.18\) has it from its \.0$/m);
  });

  it('a boundary that any of several commits brings lists them as such; one that names none says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cat-why-'));
    cpSync(COMMITS_PATH, join(dir, 'commits.yaml'));
    writeFileSync(join(dir, 'x.yaml'), `features:
  - id: x
    title: x
    area: x
    introduced: "6.9"
    commits_any: [0c9bd6bc4bb2, 62c4d31d7829]
    cases:
      - { id: any, probe: p, with: { r: 1 } }
      - { id: why, probe: p, with: { r: 1 }, introduced: "5.9", commits_unknown: "only the pull's tag tip is known" }
`);
    const fixture = process.env.PIDFD_MATRIX_CATALOG;
    process.env.PIDFD_MATRIX_CATALOG = dir;
    const io = capture();
    try {
      expect(await catalogCommand.run(['--verified', join(dir, 'verified.yaml')])).toBe(0);
    } finally {
      process.env.PIDFD_MATRIX_CATALOG = fixture;
    }
    expect(io.out()).toMatch(/x\/any[^\n]*\n +any one of these brings the answer:\n +0c9bd6bc4bb2 "pidfd: getfd should always report ESRCH/);
    expect(io.out()).toMatch(/x\/why +\{no commit named, version rule: see below\}\n +commit unknown: only the pull's tag tip is known/);
    expect(io.out()).toContain("1 boundaries name their commits, 1 are judged by version only (1 of them say why no commit is named, 0 not researched)");
  });

  it('bad input names the fix', async () => {
    await expect(catalogCommand.run(['--record'])).rejects.toThrow(UsageError);
    await expect(catalogCommand.run(['reports'])).rejects.toThrow(/did you mean --record/);
    await expect(catalogCommand.run(['--feature', 'no_such_feature'])).rejects.toThrow(/no catalog feature or case/);
  });
});
