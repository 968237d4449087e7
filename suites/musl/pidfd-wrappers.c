/* Which pidfd wrappers musl's libc has: built by suites/musl/build.sh (make deps, or the harness
 * on first use) with Debian's musl-gcc, statically, into the cache (never committed). Each wrapper is declared weak, so a
 * libc.a without it links it as NULL instead of failing. Prints one JSON line, read by
 * suites/libc.probe.ts: the libc (musl and its version, from the package at build time) and, per
 * wrapper, whether it is there; pidfd_open, when there, is also called on the process itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>

#ifndef MUSL_VERSION
#error "build with -DMUSL_VERSION=\"1.2.3\" (suites/musl/build.sh)"
#endif

extern int pidfd_open(pid_t, unsigned int) __attribute__((weak));
extern int pidfd_send_signal(int, int, void *, unsigned int) __attribute__((weak));
extern int pidfd_getfd(int, int, unsigned int) __attribute__((weak));
extern int pidfd_spawn(int *, const char *, const void *, const void *, char *const[], char *const[]) __attribute__((weak));
extern int pidfd_spawnp(int *, const char *, const void *, const void *, char *const[], char *const[]) __attribute__((weak));
extern int pidfd_getpid(int) __attribute__((weak));

#define SYMBOL(name) printf(",\"%s\":%s", #name, (void *)(name) ? "true" : "false")

int main(void) {
  printf("{\"libc\":\"musl %s\"", MUSL_VERSION);
  SYMBOL(pidfd_open);
  SYMBOL(pidfd_send_signal);
  SYMBOL(pidfd_getfd);
  SYMBOL(pidfd_spawn);
  SYMBOL(pidfd_spawnp);
  SYMBOL(pidfd_getpid);
  if ((void *)pidfd_open) {
    int fd = pidfd_open(getpid(), 0);
    if (fd >= 0) printf(",\"pidfd_open_self\":\"fd\"");
    else printf(",\"pidfd_open_self\":\"errno %d\"", errno);
  }
  printf("}\n");
  return 0;
}
