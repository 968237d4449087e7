// fanotify FAN_REPORT_PIDFD: reference §2 row 17; LTP fanotify20/21.
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAN, O, POLL } from './lib/constants.js';
import { fanotifyInit, fanotifyMark, poll, read } from './lib/libc.js';
import { fdinfo, need, outcome, track } from './lib/pidfd.js';
import { reap, spawnChild, waitExitedNoReap } from './lib/process.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { featureSuite } from './lib/feature-test.js';

const FAN_MARK_ADD = 0x1;
const FAN_OPEN = 0x20n;
const AT_FDCWD = -100;
const FAN_EVENT_INFO_TYPE_PIDFD = 4;
const EVENT_FLAGS = O.RDONLY | O.CLOEXEC;
const FAN_REPORT_FID = 0x200;
const FAN_REPORT_DFID_NAME = 0x400 | 0x800; // FAN_REPORT_DIR_FID | FAN_REPORT_NAME
const FAN_NOPIDFD = -1;
const FAN_EPIDFD = -2;

const init = (flags: number) => track(fanotifyInit(FAN.CLASS_NOTIF | FAN.CLOEXEC | flags, EVENT_FLAGS));

featureSuite('fanotify_report_pidfd', {
  init: () => needsCapSysAdmin('fanotify_init') ?? outcome(init(FAN.REPORT_PIDFD), true),
  event_pidfd: () => eventPidfd(false),
  // LTP fanotify21's reaped case: the event's process is reaped before the event is read: the
  // info record carries FAN_NOPIDFD (-1), or (7.2) a pidfd of the reaped process.
  reaped_nopidfd: () => eventPidfd(true),
  report_tid: () => needsCapSysAdmin('fanotify_init') ?? outcome(init(FAN.REPORT_PIDFD | FAN.REPORT_TID), true),
  // LTP fanotify20: FAN_REPORT_PIDFD combines with FAN_REPORT_FID and FAN_REPORT_DFID_NAME.
  with_fid_dfid_name: () => needsCapSysAdmin('fanotify_init') ??
    outcome(init(FAN.REPORT_PIDFD | FAN_REPORT_FID | FAN_REPORT_DFID_NAME), true),
});

/** An FAN_OPEN event of a child's open, read once the child is a zombie (or reaped): its pidfd record. */
function eventPidfd(reapFirst: boolean) {
  {
    const noCap = needsCapSysAdmin('fanotify_init');
    if (noCap) return noCap;
    const r = init(FAN.REPORT_PIDFD);
    if (!r.ok) return { errno: r.errno };
    const path = join(tmpdir(), `pidfd-matrix-fanotify-${process.pid}`);
    writeFileSync(path, '');
    try {
      need('fanotify_mark(FAN_OPEN)', fanotifyMark(r.value, FAN_MARK_ADD, FAN_OPEN, AT_FDCWD, path));
      // A shell redirect opens the file without needing stdout (a vitest worker's fd 1 may be unusable by cat).
      const pid = spawnChild(['sh', '-c', ': < "$0"', path]);
      waitExitedNoReap(pid); // a zombie still has its task, so the kernel can make a pidfd for it
      if (reapFirst) reap(pid);
      const ready = poll(r.value, POLL.IN, 5000);
      if (!ready.ok || ready.value === 0) return { result: 'fd', event: 'none within 5 s' };
      const buf = need('read(fanotify)', read(r.value, 4096));
      // struct fanotify_event_metadata: event_len u32, vers u8, reserved u8, metadata_len u16, mask u64, fd s32, pid s32
      const eventLen = buf.readUInt32LE(0);
      const metaLen = buf.readUInt16LE(6);
      const eventFd = buf.readInt32LE(16);
      if (eventFd >= 0) track({ ok: true, value: eventFd });
      const eventPid = buf.readInt32LE(20);
      // info records: { info_type u8, pad u8, len u16 } then (PIDFD) s32 pidfd
      let infoType: number | null = null;
      let pidfd: number | null = null;
      for (let off = metaLen; off + 4 <= eventLen; ) {
        const type = buf.readUInt8(off);
        const len = buf.readUInt16LE(off + 2);
        if (type === FAN_EVENT_INFO_TYPE_PIDFD) {
          infoType = type;
          pidfd = buf.readInt32LE(off + 4);
          if (pidfd >= 0) track({ ok: true, value: pidfd });
        }
        if (len < 4) break;
        off += len;
      }
      const pidLine = pidfd !== null && pidfd >= 0 ? fdinfo(pidfd).lines.Pid : undefined;
      return {
        result: 'fd',
        event_mask: '0x' + buf.readBigUInt64LE(8).toString(16),
        event_pid: eventPid === pid ? 'child' : eventPid,
        info_type: infoType ?? 'missing',
        pidfd: pidfd === null ? 'missing' : pidfd >= 0 ? 'fd' : pidfd === FAN_NOPIDFD ? 'FAN_NOPIDFD' : pidfd === FAN_EPIDFD ? 'FAN_EPIDFD' : pidfd,
        pidfd_pid_line: pidLine === String(pid) ? 'child' : pidLine ?? 'missing',
      };
    } finally {
      unlinkSync(path);
    }
  }
}
