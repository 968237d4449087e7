// report and rerun, driven as the CLI drives them (Command.run), on copies of the fixtures.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportCommand } from './report.js';
import { rerunCommand, rerunCommands } from './rerun.js';
import { UsageError } from './types.js';
import { FIXTURE_RESULTS, fixtureCell, useFixtureCatalog } from '../fixtures/load.js';
import type { CellResult } from '../results.js';
import { capture } from '../fixtures/capture.js';

beforeAll(useFixtureCatalog);
afterEach(() => vi.restoreAllMocks());


function fixtureRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-cmd-'));
  cpSync(FIXTURE_RESULTS, dir, { recursive: true });
  return dir;
}

describe('pidfd-matrix report', () => {
  it('regenerates junit.xml, index.html, summary.md and per-kernel results.json', async () => {
    const dir = fixtureRun();
    const io = capture();
    const code = await reportCommand.run([dir, '--no-known-issues']);
    expect(code).toBe(1); // the fixtures contain a fail and errors
    for (const f of ['junit.xml', 'index.html', 'summary.md', 'host/results.json', 'trixie/results.json', 'bookworm/results.json'])
      expect(existsSync(join(dir, f))).toBe(true);
    expect(io.out()).toMatch(/pidfd_info\/exit_status\s+xfail\s+FAIL\s+ERROR/);
    expect(io.out()).toContain(`${dir}/index.html`);
  });

  it('adding a known-issues entry turns the failure into xfail; when it passes again it reports xpass', async () => {
    const dir = fixtureRun();
    const ki = join(dir, 'known-issues.yaml');
    writeFileSync(ki, 'issues:\n  - kernel: { lsm: selinux, version: ">=6.12 <6.13" }\n    test: pidfd_info/exit_status\n    reason: "not backported to Debian 6.12"\n');
    capture();
    await reportCommand.run([dir, '--known-issues', ki, '--out', join(dir, 'out')]);
    const trixie = JSON.parse(readFileSync(join(dir, 'out', 'trixie', 'results.json'), 'utf8')) as CellResult;
    expect(trixie.cases.find((c) => c.id === 'pidfd_info/exit_status')!.status).toBe('xfail');
    expect(readFileSync(join(dir, 'out', 'junit.xml'), 'utf8')).toMatch(/<skipped message="xfail: pidfd_info\/exit_status: kernel .*\[known issue: not backported to Debian 6.12\]"/);

    // the kernel gets fixed: the probe records a pass; the entry is now stale
    const fixed = structuredClone(fixtureCell('trixie'));
    Object.assign(fixed.cases.find((c) => c.id === 'pidfd_info/exit_status')!, { status: 'pass', reason: 'as expected', observed: { exit_code: 7 } });
    writeFileSync(join(dir, 'trixie', 'results.json'), JSON.stringify(fixed));
    const io = capture();
    await reportCommand.run([dir, '--known-issues', ki, '--out', join(dir, 'out')]);
    expect(io.err()).toMatch(/warning: trixie pidfd_info\/exit_status: xpass, passes although listed in .*known-issues.yaml issues\[0\] \(pidfd_info\/exit_status\): remove this entry/);
    expect(readFileSync(join(dir, 'out', 'summary.md'), 'utf8')).toContain('**remove this entry**');
  });

  it('re-applying after an entry is removed restores the recorded status', async () => {
    const dir = fixtureRun();
    const ki = join(dir, 'ki.yaml');
    writeFileSync(ki, 'issues:\n  - { kernel: trixie, test: pidfd_info/exit_status, reason: r }\n');
    capture();
    await reportCommand.run([dir, '--known-issues', ki]);
    writeFileSync(ki, 'issues: []\n');
    await reportCommand.run([dir, '--known-issues', ki]);
    const trixie = JSON.parse(readFileSync(join(dir, 'trixie', 'results.json'), 'utf8')) as CellResult;
    expect(trixie).toEqual(fixtureCell('trixie'));
  });

  it('usage errors are clear', async () => {
    await expect(reportCommand.run([])).rejects.toThrow(UsageError);
    await expect(reportCommand.run(['reports', '--bogus'])).rejects.toThrow(/Unknown option '--bogus'/);
    await expect(reportCommand.run([mkdtempSync(join(tmpdir(), 'pm-empty-'))])).rejects.toThrow(/no results.json under/);
    const dir = fixtureRun();
    writeFileSync(join(dir, 'bad.yaml'), 'issues:\n  - { kernel: host, test: nope, reason: r }\n');
    await expect(reportCommand.run([dir, '--known-issues', join(dir, 'bad.yaml')])).rejects.toThrow(/bad.yaml issues\[0\] \(nope\): 'test' is "nope", not a test id/);
    expect(reportCommand.usage).toContain('--no-known-issues');
  });
});

describe('pidfd-matrix rerun', () => {
  it('picks the cell, test or feature command', () => {
    const host = fixtureCell('host');
    expect(rerunCommands(host, undefined).commands).toEqual(['pidfd-matrix probe']);
    expect(rerunCommands(host, 'pidfd_info/exit_status').commands).toEqual(['pidfd-matrix probe --test pidfd_info/exit_status']);
    expect(rerunCommands(host, 'pidfd_open').commands).toEqual(['pidfd-matrix probe --test pidfd_open']);
    const odd = structuredClone(host);
    odd.cases[0].rerun = 'custom one'; odd.cases[1].rerun = 'custom two';
    expect(rerunCommands(odd, 'pidfd_open').commands).toEqual(['custom one', 'custom two']);
    const boot = rerunCommands(fixtureCell('bookworm'), 'pidfd_open/basic');
    expect(boot.commands).toEqual(['pidfd-matrix matrix --kernel bookworm']);
    expect(boot.note).toMatch(/did not run any test \(timeout/);
    expect(() => rerunCommands(host, 'nope/x')).toThrow(/kernel host has no test or feature 'nope\/x'; it has: pidfd_getfd, pidfd_getfd\/basic/);
  });

  it('prints the command (--dry-run) for a kernel id under --results', async () => {
    const io = capture();
    expect(await rerunCommand.run(['trixie', '--results', FIXTURE_RESULTS, '--test', 'pidfd_getfd/basic', '--dry-run'])).toBe(0);
    expect(io.out()).toBe('$ pidfd-matrix matrix --kernel trixie --test pidfd_getfd/basic');
  });

  it('runs the stored command and returns its exit code', async () => {
    const dir = fixtureRun();
    const cell = fixtureCell('host');
    cell.rerun = `echo rerun-ran > ${join(dir, 'marker')}; exit 3`;
    writeFileSync(join(dir, 'host', 'results.json'), JSON.stringify(cell));
    capture();
    expect(await rerunCommand.run([join(dir, 'host', 'results.json')])).toBe(3);
    expect(readFileSync(join(dir, 'marker'), 'utf8')).toBe('rerun-ran\n');
  });

  it('usage errors are clear', async () => {
    await expect(rerunCommand.run([])).rejects.toThrow(/which cell\?/);
    await expect(rerunCommand.run(['host', '--tset', 'x'])).rejects.toThrow(/Unknown option '--tset'/);
    await expect(rerunCommand.run(['nosuchkernel', '--results', FIXTURE_RESULTS])).rejects.toThrow(/no results for 'nosuchkernel'/);
  });
});
