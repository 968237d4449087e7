// process_madvise(2) and process_mrelease(2): reference §2 rows 15 and 16.
import { MADV_COLD, PIDFD_SELF_THREAD } from './lib/constants.js';
import { getpid, mmapAnon, processMadvise, processMrelease } from './lib/libc.js';
import { need, outcome, pidfdOpen, track } from './lib/pidfd.js';
import { reap, spawnChild } from './lib/process.js';
import { featureSuite } from './lib/feature-test.js';

const LEN = 4 * 4096;
let region: bigint | null = null; // one mapping for the whole suite (advice is harmless)
const buffer = () => (region ??= need('mmap', mmapAnon(LEN)));
const selfPidfd = () => need('pidfd_open(getpid())', track(pidfdOpen(getpid())));

featureSuite('process_madvise', {
  self_cold: () => outcome(processMadvise(selfPidfd(), buffer(), LEN, MADV_COLD)),
  einval_flags: () => outcome(processMadvise(selfPidfd(), buffer(), LEN, MADV_COLD, 1)),
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    reap(pid);
    return outcome(processMadvise(fd, buffer(), LEN, MADV_COLD));
  },
  // PIDFD_SELF (= PIDFD_SELF_THREAD, -10000, the same number since 6.15) instead of a pidfd
  pidfd_self: () => outcome(processMadvise(PIDFD_SELF_THREAD, buffer(), LEN, MADV_COLD)),
});

function liveChildPidfd(): number {
  const pid = spawnChild(['sleep', '30']);
  return need('pidfd_open', track(pidfdOpen(pid)));
}

featureSuite('process_mrelease', {
  einval_live: () => outcome(processMrelease(liveChildPidfd())),
  einval_flags: () => outcome(processMrelease(liveChildPidfd(), 1)),
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    reap(pid);
    return outcome(processMrelease(fd));
  },
  // PIDFD_SELF names this live process: refused as not dying, once the sentinel is understood
  pidfd_self: () => outcome(processMrelease(PIDFD_SELF_THREAD)),
});
