// Shards: every kernel in exactly one shard; `report merge` of the shard outputs gives the
// same (kernel, test, status) grid as one run on one machine (real host cells).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseShard, shardOf } from './shard.js';
import { repoPath } from '../../suites/lib/paths.js';

const cli = (args: string[], cwd = repoPath()) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd });

/** (classname, name, outcome) of every testcase, sorted: what GitLab and Jenkins key on. */
function grid(junitFile: string): string[] {
  const xml = readFileSync(junitFile, 'utf8');
  return [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"[^>]*>\s*(?:<(failure|error|skipped))?/g)].map((m) => `${m[1]} ${m[2]} ${m[3] ?? 'pass'}`).sort();
}

describe('shards', () => {
  it('K/N parses strictly and every item lands in exactly one shard, in order', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, total: 3 });
    for (const bad of ['0/2', '3/2', '1/0', 'x', '1-2']) expect(() => parseShard(bad)).toThrow(/K\/N/);
    const items = ['a', 'b', 'c', 'd', 'e'];
    const shards = [1, 2, 3].map((k) => shardOf(items, { index: k, total: 3 }));
    expect(shards).toEqual([['a', 'd'], ['b', 'e'], ['c']]);
    expect(shards.flat().sort()).toEqual(items);
  });

  it('matrix --shard 1/2 and 2/2, then report merge, equals one run of the same matrix', { timeout: 240_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-shard-'));
    writeFileSync(join(dir, 'm.yaml'), 'kernels:\n' + ['host-a', 'host-b', 'host-c'].map((id) => `  - id: ${id}\n    source: host\n`).join(''));
    const run = (...a: string[]) => {
      const r = cli(['matrix', '--matrix', join(dir, 'm.yaml'), '--test', 'pidfd_open,pidfs_magic', ...a]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      return r.stdout;
    };
    run('--out', join(dir, 'one'));
    expect(run('--out', join(dir, 's1'), '--shard', '1/2')).toMatch(/host-a, host-c/);
    expect(run('--out', join(dir, 's2'), '--shard', '2/2')).toMatch(/: host-b \(/);
    const m = cli(['report', 'merge', '--out', join(dir, 'merged'), join(dir, 's1'), join(dir, 's2')]);
    expect(m.status, m.stderr).toBe(0);
    expect(grid(join(dir, 'merged', 'junit.xml'))).toEqual(grid(join(dir, 'one', 'junit.xml')));
    expect(grid(join(dir, 'one', 'junit.xml')).length).toBeGreaterThan(6);
    // The same shard twice: a kernel in two shards is refused.
    expect(cli(['report', 'merge', '--out', join(dir, 'bad'), join(dir, 's1'), join(dir, 's1')]).status).toBe(2);
  });

  it('matrix --list prints the shard kernels and the test ids without booting', () => {
    const r = cli(['matrix', '--list', '--shard', '1/2', '--kernels', 'host,bookworm,trixie']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^kernels \(shard 1\/2 of host, bookworm, trixie\): host, trixie$/m);
    expect(r.stdout).toMatch(/^pidfd_open\/self\s+pidfd_open\s+open$/m);
    const p = cli(['probe', '--list', '--test', 'pidfs_magic']);
    expect(p.status).toBe(0);
    expect(p.stdout.trim().split('\n').slice(1).every((l) => /^pidfs_magic\/\S+\s+pidfs_magic\s+pidfs$/.test(l))).toBe(true);
  });
});
