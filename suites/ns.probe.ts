// setns(2) via pidfd: reference §2 row 13.
import { CLONE } from './lib/constants.js';
import { getpid } from './lib/libc.js';
import { need, outcome, pidfdOpen, setns, track } from './lib/pidfd.js';
import { reap, spawnChild } from './lib/process.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { featureSuite } from './lib/feature-test.js';

featureSuite('setns_pidfd', {
  self_uts: () => needsCapSysAdmin('setns(CLONE_NEWUTS)') ?? outcome(setns(need('pidfd_open(getpid())', track(pidfdOpen(getpid()))), CLONE.NEWUTS)),
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    reap(pid);
    return outcome(setns(fd, CLONE.NEWUTS));
  },
});
