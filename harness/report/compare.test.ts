// compare: fixture cells with known edits, then two real host runs (which must agree).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareCells, compareText, isRegression, pairCells } from './compare.js';
import { fixtureCell } from '../fixtures/load.js';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';

const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd: repoPath() });
const clone = (c: CellResult): CellResult => JSON.parse(JSON.stringify(c));

/** The trixie fixture with four deliberate edits: a regression, a fix, an errno change, an error. */
function edited(): { base: CellResult; next: CellResult; ids: Record<string, string> } {
  const base = fixtureCell('trixie');
  const next = clone(base);
  const [regressed, changed] = next.cases.filter((c) => c.status === 'pass');
  const fail = next.cases.find((c) => c.status === 'fail')!;
  const errored = next.cases.find((c) => c.status === 'xfail')!;
  regressed.status = 'fail';
  regressed.observed = { ...regressed.observed, errno: 'EBADF' };
  fail.status = 'pass';
  changed.observed = { ...changed.observed, errno: 'ESRCH' };
  changed.expectedAnswer = { errno: 'ESRCH' };
  errored.status = 'error';
  return { base, next, ids: { regressed: regressed.id, fixed: fail.id, changed: changed.id, errored: errored.id } };
}

describe('compareCells', () => {
  it('names exactly the changed (kernel, test) pairs, by kind', () => {
    const { base, next, ids } = edited();
    const changes = compareCells([{ base, next }]);
    const by = Object.fromEntries(changes.map((c) => [c.test, c.kind]));
    expect(by).toEqual({ [ids.regressed]: 'new-failure', [ids.fixed]: 'fixed', [ids.changed]: 'observation-changed', [ids.errored]: 'new-error' });
    expect(changes.find((c) => c.test === ids.changed)!.keys).toEqual(['errno']);
    expect(changes.filter(isRegression).map((c) => c.test).sort()).toEqual([ids.regressed, ids.errored].sort());
    expect(compareText(changes)).toMatch(/new-failure \(1\):[\s\S]*rerun: /);
  });

  it('an unchanged run is no news, even where raw values (pids, inodes) differ', () => {
    const base = fixtureCell('trixie');
    const next = clone(base);
    for (const c of next.cases) c.observed = { ...c.observed, pid: 424242, ino: 99 };
    expect(compareCells([{ base, next }])).toEqual([]);
  });

  it('pairs kernels by id, or by an explicit pair', () => {
    const a = fixtureCell('trixie'), b = { ...clone(a), kernelId: 'my-build' };
    expect(pairCells([a], [b]).paired).toEqual([]);
    expect(pairCells([a], [b], { trixie: 'my-build' }).paired).toHaveLength(1);
    // One run dir holding both kernels: the explicit pair wins over same-id pairs.
    const both = [a, b];
    const p = pairCells(both, both, { trixie: 'my-build' });
    expect(p.paired.map((x) => `${x.base.kernelId}->${x.next.kernelId}`)).toEqual(['trixie->my-build']);
  });
});

describe('pidfd-matrix compare', () => {
  const write = (cell: CellResult) => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-cmp-'));
    mkdirSync(join(dir, cell.kernelId));
    writeFileSync(join(dir, cell.kernelId, 'results.json'), JSON.stringify(cell));
    return dir;
  };

  it('exits 1 on a new failure and lists it; exits 2 on bad input', () => {
    const { base, next, ids } = edited();
    const r = cli(['compare', write(base), write(next)]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(ids.regressed);
    expect(cli(['compare', write(base)]).status).toBe(2);
    expect(cli(['compare', write(base), write(next), '--pair', 'bad pair']).status).toBe(2);
  });

  it('two real host runs of the whole suite compare clean (exit 0)', { timeout: 240_000 }, () => {
    const runs = [0, 1].map(() => {
      const out = mkdtempSync(join(tmpdir(), 'pm-cmp-host-'));
      const r = cli(['probe', '--out', join(out, 'host')]);
      expect(r.status, r.stderr).toBe(0);
      return out;
    });
    const r = cli(['compare', ...runs, '--json', join(runs[1], 'changes.json')]);
    expect(r.stdout).toMatch(/no changes/);
    expect(r.status).toBe(0);
    expect(JSON.parse(readFileSync(join(runs[1], 'changes.json'), 'utf8'))).toEqual([]);
  });
});
