// KCIDB issue versions as recorded data (kernels/kcidb-issue-versions.yaml): the committed file
// must cover every issue the shipped known-issues and catalog state, an edit makes an issue stale,
// an update raises exactly the changed ones by one, and a reorder changes nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG_PATH, catalogCommits, loadCatalog } from '../judge/catalog.js';
import { issueContents } from './kcidb-issues.js';
import {
  bumpVersions, contentHash, formatIssueVersions, IssueVersionsError, loadIssueVersions, parseIssueVersions,
  staleIssues, staleIssuesMessage, UPDATE_COMMAND, type IssueContent,
} from './kcidb-versions.js';
import { KNOWN_ISSUES_PATH, loadKnownIssues, parseKnownIssues } from '../judge/known-issues.js';
import { repoPath } from '../../suites/lib/paths.js';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd: repoPath() });

describe('the committed issue versions', () => {
  it('kernels/kcidb-issue-versions.yaml holds the current version of every shipped issue', () => {
    const issues = issueContents({
      knownIssues: loadKnownIssues(KNOWN_ISSUES_PATH),
      catalog: loadCatalog(CATALOG_PATH),
      commits: catalogCommits(CATALOG_PATH),
    });
    expect(issues.length).toBeGreaterThan(0);
    const stale = staleIssues(loadIssueVersions(), issues);
    // The message names each stale id and the command that fixes it.
    expect(stale, staleIssuesMessage(stale)).toEqual([]);
  });
});

const KNOWN = `issues:
  - kernel: { version: ">=6.12 <6.13", mode: guest }
    test: pidfd_info/exit_status
    reason: "Debian 6.12 lacks the PIDFD_INFO_EXIT backport"
  - kernel: host
    feature: pidfd_open
    reason: "was broken on the CI host"
`;
const EXIT_STATUS = 'known:pidfd_info/exit_status:version >=6.12 <6.13, mode guest';
const HOST_OPEN = 'known:pidfd_open:id host';
const issuesOf = (known: string): IssueContent[] => issueContents({ knownIssues: parseKnownIssues(known) });
const reordered = (known: string) => {
  const [head, e1, e2] = known.split(/\n(?=  - )/);
  return [head, e2.trimEnd(), `${e1}\n`].join('\n');
};

describe('staleIssues and bumpVersions', () => {
  const v1 = bumpVersions({}, issuesOf(KNOWN));
  const edited = issuesOf(KNOWN.replace('lacks the PIDFD_INFO_EXIT backport', 'lacks the backport (Debian #1)'));

  it('new issues start at version 1, with the hash of their content', () => {
    expect(v1).toEqual({
      [EXIT_STATUS]: { version: 1, hash: contentHash(issuesOf(KNOWN)[0].content) },
      [HOST_OPEN]: { version: 1, hash: contentHash(issuesOf(KNOWN)[1].content) },
    });
    expect(staleIssues({}, issuesOf(KNOWN))).toEqual([{ key: EXIT_STATUS }, { key: HOST_OPEN }]);
  });

  it('an edited entry is stale (naming the id, its recorded version and the command); the others are not', () => {
    const stale = staleIssues(v1, edited);
    expect(stale).toEqual([{ key: EXIT_STATUS, recorded: 1 }]);
    const message = staleIssuesMessage(stale);
    expect(message).toContain(`${EXIT_STATUS}: changed since version 1 was recorded`);
    expect(message).toContain(UPDATE_COMMAND);
  });

  it('an update gives the edited issue its version + 1 and leaves the others; again, + 1 again', () => {
    const v2 = bumpVersions(v1, edited);
    expect(v2[EXIT_STATUS].version).toBe(2);
    expect(v2[HOST_OPEN]).toEqual(v1[HOST_OPEN]);
    expect(staleIssues(v2, edited)).toEqual([]);
    // Back to the old text is still an edit: the version grows, it never returns to 1.
    const v3 = bumpVersions(v2, issuesOf(KNOWN));
    expect(v3[EXIT_STATUS].version).toBe(3);
    expect(bumpVersions(v3, issuesOf(KNOWN))).toEqual(v3);
  });

  it('reordering the entries changes nothing', () => {
    expect(reordered(KNOWN)).not.toBe(KNOWN);
    expect(staleIssues(v1, issuesOf(reordered(KNOWN)))).toEqual([]);
    expect(bumpVersions(v1, issuesOf(reordered(KNOWN)))).toEqual(v1);
  });

  it('an issue no longer stated keeps its entry, so it can only come back at the same or a higher version', () => {
    const onlyHost = issuesOf(KNOWN).filter((i) => i.key === HOST_OPEN);
    const without = bumpVersions(v1, onlyHost);
    expect(without).toEqual(v1);
    expect(bumpVersions(without, edited)[EXIT_STATUS].version).toBe(2);
  });
});

describe('the versions file', () => {
  it('round-trips, one sorted line per id: the same record gives the same bytes', () => {
    const v = bumpVersions({}, issuesOf(KNOWN));
    const text = formatIssueVersions(v);
    expect(parseIssueVersions(text)).toEqual(v);
    expect(formatIssueVersions(parseIssueVersions(text))).toBe(text);
    expect(text.split('\n').filter((l) => l.startsWith('  "'))).toEqual([
      `  "${EXIT_STATUS}": { version: 1, hash: "${v[EXIT_STATUS].hash}" }`,
      `  "${HOST_OPEN}": { version: 1, hash: "${v[HOST_OPEN].hash}" }`,
    ]);
    expect(parseIssueVersions(formatIssueVersions({}))).toEqual({});
  });

  it('refuses a version below 1, a non-integer one, a hash that is not 16 hex digits, no issues map', () => {
    for (const bad of [
      'issues:\n  "a": { version: 0, hash: "0123456789abcdef" }',
      'issues:\n  "a": { version: 1.5, hash: "0123456789abcdef" }',
      'issues:\n  "a": { version: 1, hash: "0123" }',
      'versions: {}',
    ]) expect(() => parseIssueVersions(bad, 'f.yaml'), bad).toThrow(IssueVersionsError);
  });
});

describe('pidfd-matrix kcidb versions', () => {
  it('checks, updates to old + 1 after an edit, and leaves the file alone after a reorder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-kcidb-versions-'));
    const known = join(dir, 'known-issues.yaml');
    const file = join(dir, 'versions.yaml');
    const run = (...extra: string[]) =>
      cli(['kcidb', 'versions', '--known-issues', known, '--versions', file, ...extra]);
    writeFileSync(known, KNOWN);

    let r = run();
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(`${EXIT_STATUS}: no version recorded`);
    expect(r.stdout).toContain(`${UPDATE_COMMAND} --versions ${file} --known-issues ${known}`);
    r = run('--update');
    expect(r.status, r.stderr).toBe(0);
    const v1 = loadIssueVersions(file);
    expect(v1[EXIT_STATUS].version).toBe(1);
    // The shipped catalog's ranges are issues too, and get their versions in the same file.
    expect(Object.keys(v1).some((k) => k.startsWith('broken:'))).toBe(true);
    expect(run().status).toBe(0);

    writeFileSync(known, KNOWN.replace('was broken on the CI host', 'was broken on the old CI host'));
    r = run();
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${HOST_OPEN}: changed since version 1 was recorded`);
    r = run('--update');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${HOST_OPEN}: 1 -> 2`);
    expect(loadIssueVersions(file)).toEqual({ ...v1, [HOST_OPEN]: { version: 2, hash: expect.any(String) } });

    const before = readFileSync(file, 'utf8');
    writeFileSync(known, reordered(readFileSync(known, 'utf8')));
    r = run('--update');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('issue versions current');
    expect(readFileSync(file, 'utf8')).toBe(before);

    expect(cli(['kcidb', 'verisons']).status).toBe(2);
  });
});
