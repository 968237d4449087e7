// Thread pidfds (PIDFD_THREAD) and pidfd_open of a non-leader tid: reference §2 rows 21 and 23.
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { O, PIDFD_THREAD, POLL } from './lib/constants.js';
import { getpid, poll } from './lib/libc.js';
import { fdinfo, outcome, pidfdOpen, track } from './lib/pidfd.js';
import { pollNames } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';

/** A non-leader thread of this process (Node always runs several). */
function nonLeaderTid(): number | null {
  const tids = readdirSync('/proc/self/task').map(Number).filter((t) => t !== getpid());
  return tids.length ? tids[0] : null;
}

/** fdinfo `flags:` is octal; PIDFD_THREAD is O_EXCL (0200). */
function threadObs(fd: number) {
  const info = fdinfo(fd);
  const flags = parseInt(info.lines.flags ?? '0', 8);
  return { result: 'fd', o_excl: (flags & O.EXCL) !== 0, fdinfo: info.raw.trim() };
}

function openThread(tid: number) {
  const r = track(pidfdOpen(tid, PIDFD_THREAD));
  return r.ok ? threadObs(r.value) : outcome(r, true);
}

featureSuite('pidfd_thread', {
  nonleader: () => {
    const tid = nonLeaderTid();
    return tid === null ? { skip: 'this process has no non-leader thread' } : openThread(tid);
  },
  leader: () => openThread(getpid()),
  exit_poll: async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self'));
       setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    try {
      const link = await new Promise<string>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      const tid = Number(link.split('/').at(-1));
      const r = track(pidfdOpen(tid, PIDFD_THREAD));
      if (!r.ok) return { errno: r.errno, tid_from: link };
      const before = poll(r.value, POLL.IN, 0);
      await worker.terminate();
      await exited;
      const after = poll(r.value, POLL.IN, 5000); // the OS thread is joined by now; generous anyway
      return {
        result: 'fd',
        before_exit: before.ok ? pollNames(before.value) : before.errno,
        after_exit: after.ok ? pollNames(after.value) : after.errno,
        tid_gone: !readdirSync('/proc/self/task').includes(String(tid)),
      };
    } finally {
      await worker.terminate();
    }
  },
});

featureSuite('pidfd_open_nonleader_enoent', {
  nonleader_no_flag: () => {
    const tid = nonLeaderTid();
    return tid === null ? { skip: 'this process has no non-leader thread' } : outcome(track(pidfdOpen(tid, 0)), true);
  },
});
