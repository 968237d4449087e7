// `report --rejudge` on a stored real run (harness/fixtures/streams/trixie-faults): a catalog
// edit and a known-issues edit turn verdicts around with no guest booted; unanswered cases stay.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../commands/report.js';
import { CATALOG_PATH } from './catalog.js';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';

const FIXTURE = repoPath('harness/fixtures/streams/trixie-faults/results.json');

async function report(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const warn = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    return { code: await reportCommand.run(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    warn.mockRestore();
  }
}

describe('report --rejudge on a stored real run', () => {
  it('a catalog edit and a known-issues entry change verdicts; nothing is booted', async () => {
    const work = mkdtempSync(join(tmpdir(), 'pm-rejudge-'));
    mkdirSync(join(work, 'run/trixie-faults'), { recursive: true });
    cpSync(FIXTURE, join(work, 'run/trixie-faults/results.json'));
    // The edit a user makes: setns_pidfd/self_uts now expects another answer.
    cpSync(CATALOG_PATH, join(work, 'catalog'), { recursive: true });
    const ns = join(work, 'catalog/ns.yaml');
    writeFileSync(ns, readFileSync(ns, 'utf8').replace('with: { result: 0 }', 'with: { result: 1 }'));
    // ... and lists a known issue for setns_pidfd/esrch_reaped on this kernel.
    writeFileSync(join(work, 'ki.yaml'), 'issues:\n  - kernel: { id: trixie-faults }\n    test: setns_pidfd/esrch_reaped\n    reason: listed for the test\n');

    // First against today's catalog (it may have moved since the recording), then again: stable.
    await report([join(work, 'run'), '--rejudge', '--no-known-issues']);
    const same = await report([join(work, 'run'), '--rejudge', '--no-known-issues']);
    expect(same.out).toMatch(/rejudged \d+ results of 1 kernel\(s\) with no guest booted: 0 verdict\(s\) changed/);

    const r = await report([join(work, 'run'), '--rejudge', '--catalog', join(work, 'catalog'), '--known-issues', join(work, 'ki.yaml')]);
    expect(r.out).toMatch(/^CHANGED trixie-faults setns_pidfd\/self_uts: pass -> fail \(setns_pidfd\/self_uts: kernel 6\.12\.117\+deb13-amd64 should have it \(since 5\.8\): expected \{ result: 1 \}, observed \{ result: 0 \}\)$/m);
    expect(r.out).toMatch(/^CHANGED trixie-faults setns_pidfd\/esrch_reaped: pass -> xpass /m);
    expect(r.out).toMatch(/: 2 verdict\(s\) changed$/m);
    expect(r.code).toBe(1);
    const cell = JSON.parse(readFileSync(join(work, 'run/trixie-faults/results.json'), 'utf8')) as CellResult;
    const byId = new Map(cell.cases.map((c) => [c.id, c]));
    expect(byId.get('setns_pidfd/self_uts')).toMatchObject({ status: 'fail', observed: { result: 0 }, expectedAnswer: { result: 1 } });
    expect(byId.get('setns_pidfd/esrch_reaped')).toMatchObject({ status: 'xpass', knownIssue: { reason: 'listed for the test' } });
    // The hung case and the cases after the panic never answered: they stay errors, unchanged.
    expect(byId.get('pidfd_getfd/esrch_zombie')?.reason).toMatch(/^no answer within 20 s/);
    expect(byId.get('pidfd_open/self')?.status).toBe('error');
    // The facts kept their raw /proc/version: the version is derived again, the same.
    expect(cell.facts).toMatchObject({ version: [6, 12, 117], procVersion: expect.stringContaining('Debian 6.12.117-1') });

    // Undoing the edits turns them back.
    const back = await report([join(work, 'run'), '--rejudge', '--no-known-issues']);
    expect(back.out).toMatch(/CHANGED trixie-faults setns_pidfd\/self_uts: fail -> pass/);
    expect(back.out).toMatch(/CHANGED trixie-faults setns_pidfd\/esrch_reaped: xpass -> pass/);
  });

  it('--catalog without --rejudge is a usage error', async () => {
    await expect(reportCommand.run(['x', '--catalog', 'y'])).rejects.toThrow(/--catalog only applies with --rejudge/);
  });

  it('a case a kernel report made an error stays an error; the health test is left alone', async () => {
    const { rejudgeCell } = await import('./rejudge.js');
    const { allCases, loadCatalog } = await import('./catalog.js');
    const cell = JSON.parse(readFileSync(FIXTURE, 'utf8')) as CellResult;
    const i = cell.cases.findIndex((c) => c.id === 'setns_pidfd/self_uts');
    const orig = cell.cases[i];
    cell.cases[i] = { ...orig, status: 'error', reason: 'kernel health: warning: WARNING: CPU: 0 PID: 1 at x while this case ran', preHealth: { status: orig.status, reason: orig.reason } };
    cell.cases.push({ ...orig, id: 'kernel_health', feature: 'kernel_health', case: 'kernel_health', status: 'pass', reason: 'no kernel reports', observed: {} });
    const r = rejudgeCell(cell, allCases(loadCatalog()), []);
    expect(r.cell.cases[i]).toMatchObject({ status: 'error', preHealth: { status: 'pass' } });
    expect(r.cell.cases.at(-1)).toMatchObject({ id: 'kernel_health', status: 'pass' });
    expect(r.warnings.filter((w) => w.includes('kernel_health'))).toEqual([]);
  });
});
