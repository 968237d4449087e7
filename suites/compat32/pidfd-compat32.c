/* The compat axis: pidfd calls from a 32-bit (i386) process on an x86_64 kernel, which go
 * through the kernel's compat entry points: compat waitid (siginfo and rusage in the 32-bit
 * layout), pidfd_send_signal's copy_siginfo_from_user_any (a 32-bit siginfo in), the pidfs
 * compat_ioctl (PIDFD_GET_INFO, the namespace ioctls), and clone3 with a 32-bit pointer in its
 * u64 fields. Built by suites/compat32/build.sh (gcc -m32 -static) into the cache, never
 * committed; run by suites/compat32.probe.ts as `pidfd-compat32 CASE OUTFILE`, it writes one
 * JSON object: the case's observation in the keys of the matching 64-bit case (catalog
 * suites/catalog/compat.yaml), plus "abi":"i386", which the probe checks.
 * No libc wrapper stands between the case and the kernel: every pidfd call is syscall(2) with
 * the i386 numbers, and constants newer than the build machine's headers are spelled out here. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64 /* stat64: 64-bit st_ino (nsfs and pidfs inode numbers) */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#if !defined(__i386__)
#error "build with gcc -m32 (suites/compat32/build.sh): this helper is the i386 caller"
#endif

/* arch/x86/entry/syscalls/syscall_32.tbl */
enum { NR_ioctl = 54, NR_waitid = 284, NR_kcmp = 349, NR_rt_sigtimedwait_time64 = 421, NR_pidfd_send_signal = 424, NR_pidfd_open = 434, NR_clone3 = 435, NR_pidfd_getfd = 438 };
enum { P_PIDFD_ = 3, CLONE_PIDFD_ = 0x1000, KCMP_FILE_ = 0 };
#define NSFS_MAGIC_ 0x6e736673u
#define PIDFD_INFO_PID_ (1ull << 0)
#define PIDFD_INFO_CREDS_ (1ull << 1)
#define PIDFD_INFO_EXIT_ (1ull << 3)
#define PIDFD_GET_INFO_(size) ((3u << 30) | ((unsigned)(size) << 16) | (0xffu << 8) | 11u)
#define PIDFD_GET_UTS_NAMESPACE_ 0xff0a
#define PIDFD_GET_PID_NAMESPACE_ 0xff05
#define PIDFD_GET_NET_NAMESPACE_ 0xff04
#define PIDFD_GET_MNT_NAMESPACE_ 0xff03

/* include/uapi/linux/pidfd.h, up to PIDFD_INFO_SIZE_VER1 (72 bytes): no padding on i386 either. */
struct pidfd_info_ {
  uint64_t mask, cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, exit_code;
  uint32_t coredump_mask, spare1;
};
_Static_assert(sizeof(struct pidfd_info_) == 72, "PIDFD_INFO_SIZE_VER1");

/* include/uapi/linux/sched.h: aligned u64 fields, the same bytes for a 32-bit caller. */
struct clone_args_ {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
_Static_assert(sizeof(struct clone_args_) == 64, "CLONE_ARGS_SIZE_VER0");

static FILE *out;
static int first = 1;

static void key(const char *k) { fprintf(out, "%s\"%s\":", first ? "{" : ",", k); first = 0; }
static void put_str(const char *k, const char *v) { key(k); fprintf(out, "\"%s\"", v); }
static void put_int(const char *k, long long v) { key(k); fprintf(out, "%lld", v); }
static void put_bool(const char *k, int v) { key(k); fputs(v ? "true" : "false", out); }

static const char *errno_name(int e) {
  switch (e) {
  case EPERM: return "EPERM"; case ENOENT: return "ENOENT"; case ESRCH: return "ESRCH";
  case EINTR: return "EINTR"; case ENOEXEC: return "ENOEXEC"; case EBADF: return "EBADF";
  case ECHILD: return "ECHILD"; case EAGAIN: return "EAGAIN"; case EACCES: return "EACCES";
  case EFAULT: return "EFAULT"; case EINVAL: return "EINVAL"; case ENOTTY: return "ENOTTY";
  case ENOSYS: return "ENOSYS"; case EOVERFLOW: return "EOVERFLOW"; case EOPNOTSUPP: return "EOPNOTSUPP";
  case E2BIG: return "E2BIG"; case EREMOTE: return "EREMOTE";
  }
  static char buf[32];
  snprintf(buf, sizeof buf, "errno %d", e);
  return buf;
}

/* Seccomp evidence, as suites/lib/libc.ts asks it for the 64-bit calls: under a filter (mode 2)
 * an ENOSYS/EPERM/EACCES may be the filter's. The same syscall with a bad argument, which the
 * kernel answers EBADF or EINVAL, gets the filter's errno again. Asked from this process: a
 * filter has rules per architecture, and these calls are i386 ones. The probe adds in_kallsyms. */
static const char *last_call = "";
static char controls[512];

static int seccomp_filtered(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[128];
  int mode = 0;
  while (f && fgets(line, sizeof line, f)) sscanf(line, "Seccomp: %d", &mode);
  if (f) fclose(f);
  return mode == 2;
}

static void ask_control(const char *name, int e) {
  if ((e != ENOSYS && e != EPERM && e != EACCES) || !seccomp_filtered() || strlen(controls) > 300) return;
  long r;
  if (!strcmp(name, "pidfd_open")) r = syscall(NR_pidfd_open, -1, 0);                       /* EINVAL */
  else if (!strcmp(name, "pidfd_send_signal")) r = syscall(NR_pidfd_send_signal, -1, 0, NULL, 0); /* EBADF */
  else if (!strcmp(name, "pidfd_getfd")) r = syscall(NR_pidfd_getfd, -1, 0, 0);             /* EBADF */
  else if (!strcmp(name, "clone3")) r = syscall(NR_clone3, NULL, 0);                        /* EINVAL */
  else if (!strcmp(name, "waitid")) r = syscall(NR_waitid, P_PIDFD_, -1, NULL, WEXITED, NULL); /* EBADF */
  else if (!strcmp(name, "ioctl")) r = syscall(NR_ioctl, -1, 0, 0);                          /* EBADF */
  else return;
  char answer[32];
  if (r < 0) snprintf(answer, sizeof answer, "%s", errno_name(errno)); else snprintf(answer, sizeof answer, "result %ld", r);
  size_t n = strlen(controls);
  snprintf(controls + n, sizeof controls - n, "%s{\"syscall\":\"%s\",\"errno\":\"%s\",\"control_errno\":\"%s\"}",
           n ? "," : "", name, errno_name(e), answer);
}

/* The case ends here: the observation so far, then exit 0 (the probe reads the file). */
static void done(void) {
  if (controls[0]) key("seccomp_controls"), fprintf(out, "[%s]", controls);
  fputs("}\n", out);
  fclose(out);
  exit(0);
}
/* A refusal of the last pidfd call made (with its control question under a filter). */
static void fail_errno(int e) {
  ask_control(last_call, e);
  put_str("errno", errno_name(e));
  done();
}
static void setup_error(const char *what) {
  char buf[200];
  snprintf(buf, sizeof buf, "%s: %s", what, strerror(errno));
  put_str("setup_error", buf);
  done();
}

static const char *cld_name(int code) {
  switch (code) {
  case CLD_EXITED: return "CLD_EXITED"; case CLD_KILLED: return "CLD_KILLED"; case CLD_DUMPED: return "CLD_DUMPED";
  case CLD_TRAPPED: return "CLD_TRAPPED"; case CLD_STOPPED: return "CLD_STOPPED"; case CLD_CONTINUED: return "CLD_CONTINUED";
  }
  return "other";
}

static int pidfd_open_(pid_t pid, unsigned flags) { last_call = "pidfd_open"; return syscall(NR_pidfd_open, pid, flags); }
static int send_signal(int fd, int sig, siginfo_t *info, unsigned flags) {
  last_call = "pidfd_send_signal";
  return syscall(NR_pidfd_send_signal, fd, sig, info, flags);
}
static int pidfd_getfd_(int pidfd, int fd) { last_call = "pidfd_getfd"; return syscall(NR_pidfd_getfd, pidfd, fd, 0); }
static long ioctl_(int fd, unsigned cmd, unsigned long arg) { last_call = "ioctl"; return syscall(NR_ioctl, fd, cmd, arg); }
/* The raw compat waitid: the 32-bit siginfo (and rusage) the kernel writes back. */
static int waitid_(int idtype, int id, siginfo_t *si, int options, struct rusage *ru) {
  last_call = "waitid";
  return syscall(NR_waitid, idtype, id, si, options, ru);
}

/* A child that dies with its parent (the helper's deadline is the case's). */
static pid_t child(void (*body)(void)) {
  pid_t pid = fork();
  if (pid < 0) setup_error("fork");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    body();
    _exit(0);
  }
  return pid;
}
/* Kill and reap: no zombie of ours is left to whoever adopts orphans. */
static void end_child(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}
static void exit3(void) { _exit(3); }
/* Since 6.2 the mm's RSS counters are per-CPU and read with a batch of pages not yet folded in,
 * so a tiny child that touched a few pages can read as RSS 0 (trixie-root 6.12 did). 4 MiB of
 * touched pages is far above any batch: ru_maxrss then shows whether compat_rusage came back
 * (the parent's own pages, copied at fork, decided it before: enough in one cell, not in another). */
static volatile char touched[4 << 20]; /* volatile: the stores must stay, nothing reads them */
static void touch_then_exit3(void) {
  for (size_t i = 0; i < sizeof touched; i += 4096) touched[i] = 1;
  _exit(3);
}
static void sleeper(void) { for (;;) pause(); }

static int open_child(pid_t pid) {
  int fd = pidfd_open_(pid, 0);
  if (fd < 0) {
    int e = errno;
    end_child(pid);
    fail_errno(e);
  }
  return fd;
}

/* The si_* keys of the 64-bit wait cases, read through the i386 siginfo_t. */
static void put_siginfo(const siginfo_t *si, pid_t pid) {
  put_str("si_code", cld_name(si->si_code));
  put_int("si_status", si->si_status);
  if (si->si_pid == pid) put_str("si_pid", "child"); else put_int("si_pid", si->si_pid);
  if (si->si_uid == getuid()) put_str("si_uid", "caller"); else put_int("si_uid", si->si_uid);
}

static void wait_case(void (*body)(void), int sig, int options) {
  pid_t pid = child(body);
  int fd = open_child(pid);
  if (sig && send_signal(fd, sig, NULL, 0) < 0) { int e = errno; end_child(pid); fail_errno(e); }
  siginfo_t si;
  memset(&si, 0x5a, sizeof si); /* a field the kernel leaves alone shows as garbage */
  int r = waitid_(P_PIDFD_, fd, &si, options, NULL);
  if (r < 0) { int e = errno; end_child(pid); fail_errno(e); }
  put_int("result", r);
  put_siginfo(&si, pid);
  if (sig == SIGSTOP) end_child(pid);
  done();
}

static void waitid_rusage(void) {
  pid_t pid = child(touch_then_exit3);
  int fd = open_child(pid);
  siginfo_t si;
  struct rusage ru;
  memset(&si, 0, sizeof si);
  memset(&ru, 0xff, sizeof ru); /* compat_rusage written back, or these stay -1 */
  int r = waitid_(P_PIDFD_, fd, &si, WEXITED, &ru);
  if (r < 0) fail_errno(errno);
  put_int("result", r);
  put_siginfo(&si, pid);
  /* A process that ran has a resident set; a usec field is below a million when written by the kernel. */
  put_str("ru_maxrss", ru.ru_maxrss > 0 ? "positive" : ru.ru_maxrss == -1 ? "untouched" : "zero");
  put_bool("ru_utime_usec_valid", ru.ru_utime.tv_usec >= 0 && ru.ru_utime.tv_usec < 1000000);
  done();
}

static void waitid_wnohang_live(void) {
  pid_t pid = child(sleeper);
  int fd = open_child(pid);
  siginfo_t si;
  memset(&si, 0x5a, sizeof si);
  int r = waitid_(P_PIDFD_, fd, &si, WEXITED | WNOHANG, NULL);
  int e = errno;
  end_child(pid);
  if (r < 0) fail_errno(e);
  put_int("result", r);
  put_int("si_pid", si.si_pid);
  done();
}

/* pidfd_send_signal with a 32-bit siginfo: the target (also i386) takes it with sigtimedwait
 * and writes back what it got; si_value sits at offset 20 here, 24 in the 64-bit layout. */
#define PAYLOAD 0x5eed
static int ready[2], back[2];
static void siginfo_target(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (write(ready[1], "r", 1) != 1) _exit(1);
  /* rt_sigtimedwait_time64 (5.1+), not glibc's sigtimedwait: that takes the 32-bit-time call
   * (177), which a kernel without CONFIG_COMPAT_32BIT_TIME has only as an ENOSYS stub (6.13.2
   * built from tinyconfig + IA32_EMULATION: si_signo -1, the payload never seen). */
  struct { int64_t sec, nsec; } ts = { 10, 0 };
  siginfo_t got;
  memset(&got, 0, sizeof got);
  int32_t v[5] = { -1, 0, 0, 0, 0 };
  long s = syscall(NR_rt_sigtimedwait_time64, &set, &got, &ts, 8 /* the kernel's sigset_t */);
  if (s == SIGUSR1) {
    v[0] = got.si_signo; v[1] = got.si_code; v[2] = got.si_pid; v[3] = got.si_uid; v[4] = got.si_value.sival_int;
  } else v[1] = s < 0 ? errno : 0;
  if (write(back[1], v, sizeof v) != sizeof v) _exit(1);
  _exit(0);
}

static void siginfo_payload(void) {
  if (pipe(ready) || pipe(back)) setup_error("pipe");
  pid_t pid = child(siginfo_target);
  char c;
  if (read(ready[0], &c, 1) != 1) setup_error("the target did not block SIGUSR1");
  int fd = open_child(pid);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = SIGUSR1;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = PAYLOAD;
  int r = send_signal(fd, SIGUSR1, &info, 0);
  if (r < 0) { int e = errno; end_child(pid); fail_errno(e); }
  int32_t v[5];
  if (read(back[0], v, sizeof v) != sizeof v) setup_error("no siginfo back from the target");
  /* A 10 s timeout (EAGAIN) means the signal never came: an answer (si_signo -1), not a setup error. */
  if (v[0] == -1 && v[1] != 0 && v[1] != EAGAIN) { errno = v[1]; setup_error("the i386 target could not wait for the signal (rt_sigtimedwait_time64)"); }
  put_int("result", r);
  put_int("si_signo", v[0]);
  if (v[1] == SI_QUEUE) put_str("si_code", "SI_QUEUE"); else put_int("si_code", v[1]);
  if (v[2] == getpid()) put_str("si_pid", "sender"); else put_int("si_pid", v[2]);
  if ((uint32_t)v[3] == getuid()) put_str("si_uid", "sender"); else put_int("si_uid", v[3]);
  if (v[4] == PAYLOAD) put_str("si_value", "payload"); else put_int("si_value", v[4]);
  done();
}

/* The siginfo's checks run on the converted copy: its si_signo must match the signal. */
static void siginfo_mismatch(void) {
  int fd = pidfd_open_(getpid(), 0);
  if (fd < 0) fail_errno(errno);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = SIGUSR1;
  info.si_code = SI_QUEUE;
  int r = send_signal(fd, 0, &info, 0);
  if (r < 0) fail_errno(errno);
  put_int("result", r);
  done();
}

/* si_code >= 0 with a siginfo to another process: EPERM, even for root. */
static void siginfo_eperm_code(void) {
  pid_t pid = child(sleeper);
  int fd = open_child(pid);
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = 0;
  info.si_code = SI_USER;
  int r = send_signal(fd, 0, &info, 0);
  int e = errno;
  end_child(pid);
  if (r < 0) fail_errno(e);
  put_int("result", r);
  done();
}

static void open_poll(void) {
  pid_t pid = child(sleeper);
  int fd = open_child(pid);
  int flags = fcntl(fd, F_GETFD);
  kill(pid, SIGKILL); /* not reaped: POLLIN must come from the exit alone */
  struct pollfd p = { fd, POLLIN, 0 };
  int n = poll(&p, 1, 5000);
  end_child(pid);
  put_str("result", "fd");
  put_bool("cloexec", flags >= 0 && (flags & FD_CLOEXEC));
  if (n < 0) put_str("readable_after_kill", errno_name(errno));
  else put_bool("readable_after_kill", n == 1 && (p.revents & POLLIN));
  done();
}

static void getfd_self(void) {
  int efd = eventfd(0, EFD_CLOEXEC);
  if (efd < 0) setup_error("eventfd");
  int self = pidfd_open_(getpid(), 0);
  if (self < 0) fail_errno(errno);
  int fd = pidfd_getfd_(self, efd);
  if (fd < 0) fail_errno(errno);
  int flags = fcntl(fd, F_GETFD);
  long k = syscall(NR_kcmp, getpid(), getpid(), KCMP_FILE_, efd, fd);
  put_str("result", "fd");
  put_bool("cloexec", flags >= 0 && (flags & FD_CLOEXEC));
  if (k < 0) put_str("kcmp_file", errno_name(errno)); else put_int("kcmp_file", k);
  done();
}

/* PIDFD_GET_INFO through compat_ioctl: the size is in the command, the struct has no 32-bit layout of its own. */
static void get_info(void) {
  pid_t pid = child(sleeper);
  int fd = open_child(pid);
  struct pidfd_info_ info;
  memset(&info, 0, sizeof info);
  info.mask = PIDFD_INFO_PID_;
  int r = ioctl_(fd, PIDFD_GET_INFO_(64), (unsigned long)&info);
  int e = errno;
  end_child(pid);
  if (r < 0) fail_errno(e);
  put_int("result", r);
  put_bool("pid_matches", info.pid == (uint32_t)pid && info.tgid == (uint32_t)pid);
  put_bool("ppid_matches", info.ppid == (uint32_t)getpid());
  put_bool("uid_matches", info.ruid == getuid() && info.euid == geteuid());
  put_bool("has_pid_creds", (info.mask & (PIDFD_INFO_PID_ | PIDFD_INFO_CREDS_)) == (PIDFD_INFO_PID_ | PIDFD_INFO_CREDS_));
  done();
}

/* PIDFD_INFO_EXIT (6.15) of a reaped child through compat_ioctl, at PIDFD_INFO_SIZE_VER1. */
static void get_info_exit(void) {
  pid_t pid = fork();
  if (pid < 0) setup_error("fork");
  if (pid == 0) _exit(7);
  int fd = open_child(pid);
  siginfo_t si;
  if (waitid_(P_PIDFD_, fd, &si, WEXITED, NULL) < 0) fail_errno(errno);
  struct pidfd_info_ info;
  memset(&info, 0, sizeof info);
  info.mask = PIDFD_INFO_EXIT_;
  int r = ioctl_(fd, PIDFD_GET_INFO_(72), (unsigned long)&info);
  if (r < 0) fail_errno(errno);
  char code[16];
  snprintf(code, sizeof code, "0x%08x", info.exit_code);
  put_int("result", r);
  put_bool("exit_bit", (info.mask & PIDFD_INFO_EXIT_) != 0);
  put_str("exit_code", code);
  done();
}

/* A namespace ioctl through compat_ioctl: an nsfs fd for the same namespace as /proc/self/ns/NAME. */
static void ns_ioctl(unsigned cmd, const char *name) {
  int self = pidfd_open_(getpid(), 0);
  if (self < 0) fail_errno(errno);
  int fd = ioctl_(self, cmd, 0);
  if (fd < 0) fail_errno(errno);
  struct statfs sfs;
  struct stat a, b;
  char path[64], type[16];
  snprintf(path, sizeof path, "/proc/self/ns/%s", name);
  if (fstatfs(fd, &sfs) || fstat(fd, &a) || stat(path, &b)) setup_error("fstatfs/fstat/stat");
  snprintf(type, sizeof type, "0x%08x", (unsigned)sfs.f_type);
  put_str("result", "fd");
  put_str("f_type", type);
  put_bool("matches_proc_ns", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  done();
}

/* A nonzero argument reaches pidfd_ioctl through compat_ptr_ioctl and is refused. */
static void ns_einval_arg(void) {
  int self = pidfd_open_(getpid(), 0);
  if (self < 0) fail_errno(errno);
  int r = ioctl_(self, PIDFD_GET_UTS_NAMESPACE_, 1);
  if (r < 0) fail_errno(errno);
  put_str("result", "fd");
  done();
}

/* clone3 from a 32-bit caller: the pidfd pointer is a 32-bit address in a u64 field. */
static void clone3_pidfd(void) {
  int pidfd = -1;
  struct clone_args_ args;
  memset(&args, 0, sizeof args);
  args.flags = CLONE_PIDFD_;
  args.pidfd = (uint64_t)(uintptr_t)&pidfd;
  args.exit_signal = SIGCHLD;
  last_call = "clone3";
  long pid = syscall(NR_clone3, &args, sizeof args);
  if (pid < 0) fail_errno(errno);
  if (pid == 0) _exit(5); /* like fork: a copy of this stack, no CLONE_VM */
  int flags = pidfd >= 0 ? fcntl(pidfd, F_GETFD) : -1;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = pidfd >= 0 ? waitid_(P_PIDFD_, pidfd, &si, WEXITED, NULL) : -1;
  int e = errno;
  if (r < 0) waitpid(pid, NULL, 0);
  put_str("result", "child");
  if (pidfd >= 0) put_str("pidfd", "fd"); else put_int("pidfd", pidfd);
  put_bool("cloexec", flags >= 0 && (flags & FD_CLOEXEC));
  if (r < 0) put_str("waitid", errno_name(e));
  else put_siginfo(&si, pid);
  done();
}

static void waitid_exited(void) { wait_case(exit3, 0, WEXITED); }
static void waitid_killed(void) { wait_case(sleeper, SIGKILL, WEXITED); }
static void waitid_stopped(void) { wait_case(sleeper, SIGSTOP, WSTOPPED); }
static void ns_pid(void) { ns_ioctl(PIDFD_GET_PID_NAMESPACE_, "pid"); }
static void ns_uts(void) { ns_ioctl(PIDFD_GET_UTS_NAMESPACE_, "uts"); }
static void ns_net(void) { ns_ioctl(PIDFD_GET_NET_NAMESPACE_, "net"); }
static void ns_mnt(void) { ns_ioctl(PIDFD_GET_MNT_NAMESPACE_, "mnt"); }

#define CASE(name) { #name, name }
static const struct { const char *name; void (*run)(void); } CASES[] = {
  CASE(waitid_exited), CASE(waitid_killed), CASE(waitid_stopped), CASE(waitid_rusage), CASE(waitid_wnohang_live),
  CASE(siginfo_payload), CASE(siginfo_mismatch), CASE(siginfo_eperm_code), CASE(open_poll), CASE(getfd_self),
  CASE(get_info), CASE(get_info_exit), CASE(ns_pid), CASE(ns_uts), CASE(ns_net), CASE(ns_mnt),
  CASE(ns_einval_arg), CASE(clone3_pidfd),
};

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--list")) {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++) puts(CASES[i].name);
    return 0;
  }
  if (argc != 3) {
    fprintf(stderr, "usage: %s CASE OUTFILE | --list\n", argv[0]);
    return 2;
  }
  out = fopen(argv[2], "w");
  if (!out) { perror(argv[2]); return 2; }
  alarm(15); /* below the case's deadline: a hung call ends the helper, and its children with it */
  put_str("abi", sizeof(long) == 4 ? "i386" : "not i386");
  for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
    if (!strcmp(argv[1], CASES[i].name)) CASES[i].run();
  put_str("setup_error", "unknown case (pidfd-compat32 --list names them)");
  done();
}
