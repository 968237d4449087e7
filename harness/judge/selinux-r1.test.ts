// The SELinux R1 guard counts only with a positive control in the same capture window
// (suites/selinux/r1.ts), on AVC records captured in real SELinux guests (harness/fixtures/avc).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAvcLog } from './avc.js';
import { judge } from './judge.js';
import { allCases, loadCatalog } from './catalog.js';
import { r1Reading } from '../../suites/selinux/r1.js';
import type { KernelFacts } from '../results.js';

const recs = (name: string) => parseAvcLog(readFileSync(new URL(`../fixtures/avc/${name}`, import.meta.url), 'utf8'));
const r1 = allCases(loadCatalog()).find((c) => c.id === 'selinux_pidfd/r1_guard')!;
const facts: KernelFacts = {
  release: '6.12.117+deb13-amd64', version: [6, 12, 117], arch: 'x86_64', uid: 0, root: true, capSysAdmin: true, seccomp: 0,
  lsms: ['selinux'], selinux: 'enforcing', container: null, hostname: 'virtme-ng',
};
const everyday = { pidfd_open: 'fd', pidfd_open_child: 'fd', pidfd_send_signal: 'ok', poll_exited: 'POLLIN', waitid: 'ok', so_peerpidfd: 'fd', link: 'anon_inode:[pidfd]' };

describe('SELinux R1 guard: "0 pidfd file AVCs" needs a known denial in the same window', () => {
  it('with the control denial captured (real 6.12 guest: pidfd_probe_t filesystem getattr) it counts: pass', () => {
    const window = recs('guest-6.12-pidfs-unaware.dmesg').filter((r) => r.tclass === 'filesystem');
    expect(window.length).toBeGreaterThan(0);
    const obs = { ...everyday, control_fstatfs: 'EACCES', ...r1Reading(window, { ...everyday, control_fstatfs: 'EACCES' }) };
    expect(obs).toMatchObject({ pidfd_file_avcs: 0, control_avc: true });
    expect(obs).not.toHaveProperty('setup_error');
    expect(judge(r1, facts, obs).status).toBe('pass');
  });

  it('an empty window (capture lost the records) is an error, not "0 pidfd AVCs"', () => {
    const obs = { ...everyday, control_fstatfs: 'EACCES', ...r1Reading([], { ...everyday, control_fstatfs: 'EACCES' }) };
    expect(obs.setup_error).toMatch(/^positive control: the capture window has no AVC for the known denial/);
    expect(judge(r1, facts, obs)).toMatchObject({ status: 'error', reason: expect.stringContaining('could not run: positive control') });
  });

  it('a control call the policy did not deny is an error too (the policy is not what the guard assumes)', () => {
    const obs = { ...everyday, control_fstatfs: 'ok', ...r1Reading([], { ...everyday, control_fstatfs: 'ok' }) };
    expect(judge(r1, facts, obs)).toMatchObject({ status: 'error', reason: expect.stringContaining('answered ok, not the EACCES') });
  });
});
