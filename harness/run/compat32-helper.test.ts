// The compat axis (issue 23): the i386 helper is built on demand into the cache like the musl
// binary, its cases run as a 32-bit process on this x86_64 kernel and answer in the 64-bit
// cases' keys, and a kernel that refuses i386 binaries is a skip with the ENOEXEC as evidence.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMPAT32_BUILD_SCRIPT, compat32HelperPath, ensureCompat32Helper, needsCompat32 } from './compat32-helper.js';
import { judge } from '../judge/judge.js';
import { auditSkips } from '../judge/skip-audit.js';
import { loadCatalog } from '../judge/catalog.js';
import { repoPath } from '../../suites/lib/paths.js';
import { selectedCases } from './run-suite.js';
import type { CellResult } from '../results.js';
import { COMPAT32_BIN_ENV } from '../../suites/lib/plan.js';
import { registeredSuites } from '../../suites/lib/feature-test.js';
import { COMPAT32_CASES } from '../../suites/compat32.probe.js';
import { observeFacts } from '../../suites/lib/kernel.js';

const cache = mkdtempSync(join(tmpdir(), 'pm-compat32-cache-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));
const env = { ...process.env, PIDFD_MATRIX_CACHE: cache };
const hostIsX86 = process.arch === 'x64';

describe('the i386 compat helper', () => {
  it('build.sh and the harness name the same cache path, keyed by the source hash', () => {
    const r = spawnSync('bash', [COMPAT32_BUILD_SCRIPT, '--path'], { env, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(compat32HelperPath(cache));
    expect(compat32HelperPath(cache)).toMatch(new RegExp(`^${cache}/compat32/[0-9a-f]{16}/pidfd-compat32$`));
  });

  it('only a selection with a compat32 case needs it; the catalog and the helper list the same cases', () => {
    expect(needsCompat32(selectedCases(['compat32/get_info']))).toBe(true);
    expect(needsCompat32(selectedCases(['pidfd_get_info']))).toBe(false);
    expect(selectedCases(['compat32']).map((c) => c.case).sort()).toEqual([...COMPAT32_CASES].sort());
  });

  it.runIf(hostIsX86)('a fresh cache: probe builds it once; every case ran as i386 and the catalog judged it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pm-compat32-out-'));
    const r = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'probe', '--test', 'compat32', '--out', out],
      { env, encoding: 'utf8', cwd: repoPath() });
    expect(r.stderr).toMatch(/compat32: building the compat32 test binary once/);
    const cell = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult;
    const cases = cell.cases.filter((c) => c.feature === 'compat32');
    expect(cases.map((c) => c.case).sort()).toEqual([...COMPAT32_CASES].sort());
    for (const c of cases) {
      expect(c.status, `${c.id}: ${c.reason}`).not.toBe('error');
      expect(c.status, `${c.id}: ${c.reason}`).not.toBe('fail');
      // A skip is only "absent as expected" (an older kernel), never a missing helper.
      if (c.status === 'skip') expect(c.reason).toMatch(/absent as expected|runs no i386 binaries/);
      else expect(c.observed.abi).toBe('i386');
    }
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // The second build finds it cached.
    const again = await ensureCompat32Helper({ cache });
    expect(again).toEqual({ bin: compat32HelperPath(cache) });
    rmSync(out, { recursive: true, force: true });
  }, 180_000);

  it('a kernel that refuses the binary (ENOEXEC) is a skip naming why, judged as such', async () => {
    // An ELF for another machine (ARM): execve answers ENOEXEC, as a kernel without IA32 emulation does for i386.
    const dir = mkdtempSync(join(tmpdir(), 'pm-compat32-noexec-'));
    const bad = join(dir, 'pidfd-compat32');
    writeFileSync(bad, Buffer.concat([Buffer.from('7f454c46010101000000000000000000020028000100000000000000', 'hex'), Buffer.alloc(64)]));
    chmodSync(bad, 0o755);
    const before = process.env[COMPAT32_BIN_ENV];
    process.env[COMPAT32_BIN_ENV] = bad;
    try {
      await import('../../suites/compat32.probe.js');
      const facts = observeFacts();
      const observed = await registeredSuites().get('compat32')!.probes.get_info(facts);
      // The probe reports the refusal and what the kernel shows about i386; the host judges it.
      expect(observed).toMatchObject({ exec_refused: 'ENOEXEC', abi: 'i386' });
      expect(Object.keys(observed).sort()).toEqual(['abi', 'abi_vsyscall32', 'config_ia32_emulation', 'exec_refused', 'ia32_emulation_param', 'ia32_syscalls']);
      const [c] = selectedCases(['compat32/get_info']);
      const v = judge(c, { ...facts, version: [6, 18, 0] } as never, observed);
      expect(v).toMatchObject({ status: 'skip', reason: expect.stringMatching(/^compat32\/get_info: kernel runs no i386 binaries: execve ENOEXEC/) });
      // ... and that skip carries its evidence (the skip audit of `catalog --record`).
      const cell = { facts: { ...facts, arch: 'x86_64' }, cases: [{ id: c.id, status: 'skip', reason: v.reason, observed }] } as never;
      expect(auditSkips(cell, loadCatalog())).toEqual([]);
    } finally {
      if (before === undefined) delete process.env[COMPAT32_BIN_ENV];
      else process.env[COMPAT32_BIN_ENV] = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a helper killed by SIGSYS is "blocked by seccomp" only under a filter; without one it is an error', () => {
    const [c] = selectedCases(['compat32/open_poll']);
    const base = { ...observeFacts(), arch: 'x86_64', release: '6.12.0', version: [6, 12, 0] };
    const killed = { killed_by: 'SIGSYS' };
    const filtered = judge(c, { ...base, seccomp: 2 } as never, killed);
    expect(filtered).toMatchObject({ status: 'skip', reason: expect.stringMatching(/^blocked by seccomp: compat32\/open_poll: .*killed by SIGSYS/) });
    expect(judge(c, { ...base, seccomp: 0 } as never, killed).status).toBe('error');
    // The harness's own clone3 filter (vm/clone3-fallback.py) is not the user's policy.
    expect(judge(c, { ...base, seccomp: 2, harnessFilter: 'clone3-fallback' } as never, killed).status).toBe('error');
  });

  it('a 64-bit siginfo layout read by the i386 caller fails the case, it is not a pass', () => {
    // What the target reads if the kernel copied the siginfo natively: si_value 4 bytes later.
    const [c] = selectedCases(['compat32/siginfo_payload']);
    const facts = { ...observeFacts(), arch: 'x86_64', seccomp: 0, release: '6.12.0', version: [6, 12, 0] } as never;
    const bad = { abi: 'i386', result: 0, si_signo: 10, si_code: 'SI_QUEUE', si_pid: 'sender', si_uid: 'sender', si_value: 0 };
    expect(judge(c, facts, bad).status).toBe('fail');
    expect(judge(c, facts, { ...bad, si_value: 'payload' }).status).toBe('pass');
  });
});
