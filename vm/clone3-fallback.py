#!/usr/bin/env python3
"""Run a command with glibc's clone3 answered ENOSYS, so glibc falls back to clone(2).

Why: Linux 5.3.0-5.3.10 took clone_args.stack as the stack *pointer* (fixed by "clone3:
validate stack arguments" in 5.3.11/5.4), and glibc >= 2.34 creates every thread with
clone3, so node and python segfault in libc on those kernels. Container runtimes answer
clone3 with ENOSYS for the same reason.

The filter is narrow so the clone3 answers stay honest: only clone3 calls with
size == 88 (glibc's sizeof(struct clone_args)) get ENOSYS. pidfd-matrix's own clone3
probes pass size 64 (CLONE_ARGS_SIZE_VER0) or 96 (a zeroed tail), which the filter lets
through to the kernel. No PR_SET_NO_NEW_PRIVS: the caller is root (CAP_SYS_ADMIN), and NNP
would change what the CLONE_NNP probe observes.

Usage: clone3-fallback.py COMMAND [ARGS...]   (execs COMMAND; exit 125 if the filter fails)
The caller marks the environment (PIDFD_MATRIX_HARNESS_FILTER) so the judge knows that this
Seccomp filter is the harness's, not the user's policy.
"""
import ctypes
import os
import struct
import sys

PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AUDIT_ARCH_X86_64 = 0xC000003E
NR_CLONE3 = 435  # the same on every architecture using the generic table, and on x86_64
GLIBC_CLONE_ARGS_SIZE = 88
ENOSYS = 38
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000

# classic BPF opcodes
LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
JEQ_K = 0x15     # BPF_JMP | BPF_JEQ | BPF_K
RET_K = 0x06     # BPF_RET | BPF_K


def insn(code, jt, jf, k):
    return struct.pack('HBBI', code, jt, jf, k)


def program():
    # struct seccomp_data: int nr @0; u32 arch @4; u64 ip @8; u64 args[6] @16 (args[1] @24)
    insns = [
        insn(LD_W_ABS, 0, 0, 4),                       # A = arch
        insn(JEQ_K, 0, 6, AUDIT_ARCH_X86_64),          # not x86_64: allow
        insn(LD_W_ABS, 0, 0, 0),                       # A = nr
        insn(JEQ_K, 0, 4, NR_CLONE3),                  # not clone3: allow
        insn(LD_W_ABS, 0, 0, 24),                      # A = low word of size
        insn(JEQ_K, 0, 2, GLIBC_CLONE_ARGS_SIZE),      # size != 88: allow (our probes)
        insn(LD_W_ABS, 0, 0, 28),                      # A = high word of size
        insn(JEQ_K, 1, 0, 0),                          # == 0: ENOSYS
        insn(RET_K, 0, 0, RET_ALLOW),
        insn(RET_K, 0, 0, RET_ERRNO | ENOSYS),
    ]
    return b''.join(insns), len(insns)


def install():
    code, n = program()
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]

    prog = SockFprog(n, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        err = ctypes.get_errno()
        sys.stderr.write(f'clone3-fallback: prctl(PR_SET_SECCOMP) failed: {os.strerror(err)} '
                         '(needs CAP_SYS_ADMIN and CONFIG_SECCOMP_FILTER)\n')
        sys.exit(125)


def main():
    if len(sys.argv) < 2:
        sys.stderr.write('usage: clone3-fallback.py COMMAND [ARGS...]\n')
        sys.exit(125)
    if os.uname().machine != 'x86_64':
        sys.stderr.write('clone3-fallback: x86_64 only (the filter checks AUDIT_ARCH_X86_64)\n')
        sys.exit(125)
    install()
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == '__main__':
    main()
