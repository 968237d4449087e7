// Constants from docs/pidfd-reference.md §1 (tagged [V] there).
// Syscall numbers are per architecture: data, so another arch is one more table.
const SYSCALLS = {
  x86_64: {
    ioctl: 16, setns: 308, waitid: 247, fstatfs: 138, statx: 332, kcmp: 312,
    name_to_handle_at: 303, open_by_handle_at: 304, io_uring_setup: 425, io_uring_register: 427,
    pidfd_send_signal: 424, pidfd_open: 434, clone3: 435, pidfd_getfd: 438,
    process_madvise: 440, process_mrelease: 448, fanotify_init: 300, gettid: 186,
    execveat: 322, fchmod: 91, fchown: 93, open_tree: 428, move_mount: 429, memfd_create: 319, mount: 165, umount2: 166,
    setresuid: 117,
  },
  aarch64: {
    ioctl: 29, setns: 268, waitid: 95, fstatfs: 44, statx: 291, kcmp: 272,
    name_to_handle_at: 264, open_by_handle_at: 265, io_uring_setup: 425, io_uring_register: 427,
    pidfd_send_signal: 424, pidfd_open: 434, clone3: 435, pidfd_getfd: 438,
    process_madvise: 440, process_mrelease: 448, fanotify_init: 262, gettid: 178,
    execveat: 281, fchmod: 52, fchown: 55, open_tree: 428, move_mount: 429, memfd_create: 279, mount: 40, umount2: 39,
    setresuid: 147,
  },
} as const;

export type SyscallName = keyof (typeof SYSCALLS)['x86_64'];
export const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
export const NR: Record<SyscallName, number> = SYSCALLS[ARCH];

export const CLONE = {
  VM: 0x100, FS: 0x200, FILES: 0x400, SIGHAND: 0x800, PIDFD: 0x1000, VFORK: 0x4000,
  PARENT: 0x8000, THREAD: 0x10000, NEWNS: 0x20000, PARENT_SETTID: 0x100000, DETACHED: 0x400000,
  NEWUTS: 0x4000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000,
  CLEAR_SIGHAND: 1n << 32n, INTO_CGROUP: 1n << 33n, AUTOREAP: 1n << 34n, NNP: 1n << 35n, PIDFD_AUTOKILL: 1n << 36n,
} as const;
export const CLONE_ARGS_SIZE = { VER0: 64, VER1: 80, VER2: 88 } as const;

export const PIDFD_NONBLOCK = 0o4000;
export const PIDFD_THREAD = 0o200;
export const PIDFD_SIGNAL = { THREAD: 1, THREAD_GROUP: 2, PROCESS_GROUP: 4 } as const;
export const PIDFD_SELF_THREAD = -10000;
export const PIDFD_SELF_THREAD_GROUP = -10001;
export const FD_PIDFS_ROOT = -10002;

export const P = { ALL: 0, PID: 1, PGID: 2, PIDFD: 3 } as const;
export const W = { NOHANG: 1, STOPPED: 2, EXITED: 4, CONTINUED: 8, NOWAIT: 0x1000000 } as const;
export const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3, TRAPPED: 4, STOPPED: 5, CONTINUED: 6 } as const;

// open(2) flags: O_DIRECTORY is 0o40000 on arm64, where 0o200000 is O_DIRECT (which procfs
// refuses with EINVAL: the first arm64 cell showed it); the others are the same on both.
export const O = { RDONLY: 0, RDWR: 2, CLOEXEC: 0o2000000, NONBLOCK: 0o4000, DIRECTORY: ARCH === 'aarch64' ? 0o40000 : 0o200000, EXCL: 0o200 } as const;
export const F = { GETFD: 1, GETFL: 3, SETFL: 4, FD_CLOEXEC: 1 } as const;

export const POLL = { IN: 0x1, PRI: 0x2, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20 } as const;
export const EPOLL = { CTL_ADD: 1, CLOEXEC: 0o2000000 } as const;

export const MAGIC = { ANON_INODE_FS: 0x09041934, PID_FS: 0x50494446, NSFS: 0x6e736673 } as const;
export const S_IFMT = 0o170000;

export const SOL_SOCKET = 1;
export const SO = { PASSCRED: 16, PEERCRED: 17, PASSPIDFD: 76, PEERPIDFD: 77, PASSRIGHTS: 83 } as const;
export const SCM = { RIGHTS: 1, CREDENTIALS: 2, PIDFD: 4 } as const;
export const MSG_CTRUNC = 0x8;

export const SIG = { HUP: 1, KILL: 9, USR1: 10, SEGV: 11, TERM: 15, CHLD: 17, CONT: 18, STOP: 19 } as const;
export const MADV_COLD = 20;

// ioctls (_IO/_IOWR encodings derived in the reference, §1.2)
export const PIDFS_IOCTL_MAGIC = 0xff;
export const PIDFD_GET_NS = {
  cgroup: 0xff01, ipc: 0xff02, mnt: 0xff03, net: 0xff04, pid: 0xff05,
  pid_for_children: 0xff06, time: 0xff07, time_for_children: 0xff08, user: 0xff09, uts: 0xff0a,
} as const;
/** _IOWR(0xFF, 11, size): size lives in bits 16..29. */
export function pidfdGetInfo(size: number): number {
  return ((3 << 30) | (size << 16) | (PIDFS_IOCTL_MAGIC << 8) | 11) >>> 0;
}
export const PIDFD_INFO = {
  PID: 1n << 0n, CREDS: 1n << 1n, CGROUPID: 1n << 2n, EXIT: 1n << 3n, COREDUMP: 1n << 4n,
  SUPPORTED_MASK: 1n << 5n, COREDUMP_SIGNAL: 1n << 6n, COREDUMP_CODE: 1n << 7n,
} as const;
export const PIDFD_INFO_SIZE = { VER0: 64, VER1: 72, VER2: 80, VER3: 88 } as const;
export const FS_IOC_GETVERSION = 0x80087601;
export const FILEID_KERNFS = 0xfe;
export const AT_EMPTY_PATH = 0x1000;

export const FAN = { CLASS_NOTIF: 0, REPORT_TID: 0x100, REPORT_PIDFD: 0x80, CLOEXEC: 0x1 } as const;
