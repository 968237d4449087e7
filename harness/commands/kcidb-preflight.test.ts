// `--reports kcidb` of matrix and probe checks the KCIDB issue versions before anything runs: an
// issue edited without `kcidb versions --update` stops the command at once with that command
// (it used to fail only when the reports were written, after the whole run, with a stack trace).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matrixCommand } from './matrix.js';
import { probeCommand } from './probe.js';
import { kcidbContext, reportsOption } from './reports-option.js';
import { UsageError } from './types.js';
import { catalogCommits, loadCatalog } from '../judge/catalog.js';
import { loadKnownIssues } from '../judge/known-issues.js';
import { issueContents } from '../report/kcidb-issues.js';
import { bumpVersions, formatIssueVersions, type IssueVersions } from '../report/kcidb-versions.js';
import { capture } from '../fixtures/capture.js';

afterEach(() => vi.restoreAllMocks());

/** The versions of this checkout's issues as `kcidb versions --update` would record them from nothing. */
function currentVersions(): IssueVersions {
  return bumpVersions({}, issueContents({ knownIssues: loadKnownIssues(), catalog: loadCatalog(), commits: catalogCommits() }));
}

function versionsFile(v: IssueVersions): string {
  const f = join(mkdtempSync(join(tmpdir(), 'pm-kcidb-pre-')), 'versions.yaml');
  writeFileSync(f, formatIssueVersions(v));
  return f;
}

/** The same record with the first issue's hash changed: that issue was edited without an update. */
function staleVersions(): { file: string; key: string } {
  const v = currentVersions();
  const key = Object.keys(v)[0];
  expect(key).toBeDefined(); // the catalog has broken ranges, so there is an issue to go stale
  return { file: versionsFile({ ...v, [key]: { version: v[key].version, hash: '0000000000000000' } }), key };
}

describe('--reports kcidb: the issue versions are checked before the run', () => {
  const fix = (file: string) => `npx pidfd-matrix kcidb versions --update --versions ${file}`;

  it('probe with a stale versions file stops before the suite runs, naming the issue and the fix', async () => {
    const { file, key } = staleVersions();
    const out = join(mkdtempSync(join(tmpdir(), 'pm-kcidb-pre-')), 'probe');
    capture();
    const run = probeCommand.run(['--test', 'pidfd_open', '--reports', 'kcidb', '--kcidb-versions', file, '--out', out]);
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(`${key}: changed since version 1 was recorded`);
    await expect(run).rejects.toThrow(fix(file));
    expect(existsSync(out)).toBe(false); // nothing ran, nothing was written
  });

  it('matrix with a stale versions file stops before any kernel is fetched or booted', async () => {
    const { file } = staleVersions();
    const out = join(mkdtempSync(join(tmpdir(), 'pm-kcidb-pre-')), 'matrix');
    const io = capture();
    const run = matrixCommand.run(['--kernels', 'host', '--reports', 'kcidb', '--kcidb-versions', file, '--out', out]);
    await expect(run).rejects.toThrow(fix(file));
    expect(io.out()).not.toMatch(/pidfd-matrix matrix: host/); // the run's first line
    expect(existsSync(out)).toBe(false);
  });

  it('a current file passes and is what the writer gets; without kcidb nothing is read', () => {
    const v = currentVersions();
    const ctx = kcidbContext(reportsOption('junit,kcidb'), 'ci_x', versionsFile(v));
    expect(ctx.kcidb?.issueVersions).toEqual(v);
    expect(ctx.kcidb?.origin).toBe('ci_x');
    expect(kcidbContext(reportsOption('junit'), undefined, '/nonexistent/versions.yaml')).toEqual({});
  });

  it('a damaged versions file and --kcidb-versions without kcidb are usage errors', async () => {
    const bad = versionsFile({});
    writeFileSync(bad, 'issues:\n  "broken:x:6.9": { version: 0, hash: "zz" }\n');
    expect(() => kcidbContext(reportsOption('kcidb'), undefined, bad)).toThrow(/--reports kcidb: .*'broken:x:6\.9' wants \{ version/);
    capture();
    await expect(probeCommand.run(['--kcidb-versions', bad])).rejects.toThrow('--kcidb-versions goes with --reports ...,kcidb');
  });
});
