// The real catalog's waitid_fsetfl_nonblock across its eras, with the answers real kernels gave:
// 5.3.1 has no P_PIDFD (EINVAL, the prerequisite waitid_pidfd's own answer), 5.4-5.9 wait,
// 5.10 and later give EAGAIN.
import { describe, expect, it } from 'vitest';
import { allCases, loadCatalog } from './catalog.js';
import { judge } from './judge.js';
import type { KernelFacts, Observation } from '../results.js';
import { parseVersion } from './version.js';

const c = allCases(loadCatalog()).find((x) => x.id === 'waitid_fsetfl_nonblock/live_child')!;
const facts = (release: string): KernelFacts => ({
  release, version: parseVersion(release)!, arch: 'x86_64', uid: 0, root: true, seccomp: 0,
  lsms: [], selinux: 'disabled', container: null, hostname: 'fixture',
});
const verdict = (release: string, observed: Observation) => judge(c, facts(release), observed);

describe('waitid_fsetfl_nonblock/live_child', () => {
  it('5.3.1 (vanilla, no P_PIDFD) answered EINVAL: absent as expected through waitid_pidfd, not a failure', () => {
    const v = verdict('5.3.1', { errno: 'EINVAL', waited_ms: 0 });
    expect(v.status).toBe('skip');
    expect(v.reason).toBe('absent as expected: waitid_fsetfl_nonblock/live_child needs waitid_pidfd (needs 5.4), kernel 5.3.1');
  });
  it('5.4-5.9 must wait; EINVAL there is a failure (P_PIDFD exists since 5.4)', () => {
    expect(verdict('5.8.18', { waitid: 'waited', waited_ms: 1003, si_pid: 'child' }).status).toBe('pass');
    expect(verdict('5.8.18', { errno: 'EINVAL', waited_ms: 0 }).status).toBe('fail');
  });
  it('5.10 and later give EAGAIN; waiting there is a regression', () => {
    expect(verdict('5.10.223', { errno: 'EAGAIN', waited_ms: 0 }).status).toBe('pass');
    expect(verdict('6.18.44', { waitid: 'waited', waited_ms: 1002, si_pid: 'child' }).status).toBe('fail');
  });
});
