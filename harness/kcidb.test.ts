// KCIDB export validated against the real kcidb-io v5.3 schema: fixtures, a real host run
// through `report --kcidb`, and deliberately broken documents that the schema must reject.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureCells, useFixtureCatalog } from './fixtures/load.js';
import { kcidb, LOG_EXCERPT_MAX } from './kcidb.js';
import { kcidbErrors } from './kcidb-validate.js';
import { repoPath } from './paths.js';
import type { CellResult } from './results.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd: repoPath() });
type Doc = { version: unknown; checkouts: Record<string, unknown>[]; builds: Record<string, unknown>[]; tests: Record<string, unknown>[] };

describe('kcidb() on the fixture run', () => {
  beforeAll(useFixtureCatalog);

  it('validates against the v5.3 schema; one checkout and build per kernel, one test per case', () => {
    const cells = fixtureCells();
    const doc = kcidb(cells, { origin: 'my_lab' }) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    expect(doc.version).toEqual({ major: 5, minor: 3 });
    expect(doc.checkouts).toHaveLength(cells.length);
    expect(doc.builds).toHaveLength(cells.length);
    for (const t of doc.tests) {
      expect(t.path).toMatch(/^pidfd\.[a-z0-9_]+\.[a-z0-9_]+$/);
      expect(String(t.id)).toMatch(/^my_lab:/);
    }
    expect(new Set(doc.tests.map((t) => t.status))).toEqual(new Set(['PASS', 'FAIL', 'SKIP', 'ERROR']));
    expect(new Set(doc.tests.map((t) => t.id)).size).toBe(doc.tests.length);
  });

  it('a container cell\'s tests name its userspace, libc6, seccomp profile and runtime (the kernel is the host\'s)', () => {
    const load = (id: string) => JSON.parse(readFileSync(repoPath(`harness/fixtures/userspace/${id}.json`), 'utf8')) as CellResult;
    const doc = kcidb([load('host'), load('bookworm-deny-getfd')]) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    const env = (t: Record<string, unknown>) => t.environment as { comment: string; misc: Record<string, unknown> };
    const inContainer = doc.tests.find((t) => String(t.id).includes(':bookworm-deny-getfd:'))!;
    expect(env(inContainer).comment).toMatch(/^container \(bookworm userspace, seccomp deny-pidfd-getfd\.json, runc, host kernel\) on /);
    expect(env(inContainer).misc).toMatchObject({ userspace: 'bookworm', libc6: '2.36-9+deb12u14', seccomp_profile: 'deny-pidfd-getfd.json', runtime: 'runc' });
    expect(env(doc.tests.find((t) => String(t.id).includes(':host:'))!).misc).not.toHaveProperty('userspace');
  });

  it('keeps log excerpts within the schema limit', () => {
    const cells = fixtureCells();
    cells[0].cases[0].log = 'x'.repeat(40_000);
    const doc = kcidb(cells) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    expect(String(doc.tests[0].log_excerpt).length).toBeLessThanOrEqual(LOG_EXCERPT_MAX);
  });

  it('the schema rejects broken documents (wrong status, bad path, bad origin, unknown field, no version)', () => {
    const good = () => kcidb(fixtureCells()) as Doc;
    const broken: [string, (d: Doc) => void][] = [
      ['status', (d) => { d.tests[0].status = 'XFAIL'; }],
      ['path', (d) => { d.tests[0].path = 'pidfd/open self'; }],
      ['origin', (d) => { d.builds[0].origin = 'Pidfd-Matrix'; }],
      ['field', (d) => { d.checkouts[0].kernel = '6.12'; }],
      ['time', (d) => { d.tests[0].start_time = 'yesterday'; }],
      ['version', (d) => { delete (d as Partial<Doc>).version; }],
    ];
    for (const [what, breakIt] of broken) {
      const d = good();
      breakIt(d);
      expect(kcidbErrors(d), what).not.toEqual([]);
    }
  });
});

describe('report --kcidb on a real host run', () => {
  it('writes a valid KCIDB file with one test per case of the run', { timeout: 180_000 }, () => {
    delete process.env.PIDFD_MATRIX_CATALOG;
    const out = mkdtempSync(join(tmpdir(), 'pm-kcidb-'));
    const run = cli(['probe', '--out', join(out, 'host')]);
    expect(run.status, run.stderr).toBe(0);
    const file = join(out, 'kcidb.json');
    const r = cli(['report', out, '--kcidb', file, '--kcidb-origin', 'pidfd_ci']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Doc;
    expect(kcidbErrors(doc)).toEqual([]);
    const cell = JSON.parse(readFileSync(join(out, 'host', 'results.json'), 'utf8')) as CellResult;
    expect(doc.tests).toHaveLength(cell.cases.length);
    expect(doc.tests.filter((t) => t.status === 'PASS').length).toBe(cell.cases.filter((c) => c.status === 'pass' || c.status === 'xpass').length);
    expect(cli(['report', out, '--kcidb', file, '--kcidb-origin', 'Bad-Origin']).status).toBe(2);
  });
});
