#!/usr/bin/env python3
"""Run a command under a seccomp filter that denies exactly one syscall with an errno.

The equivalent of `systemd-run -p SystemCallFilter=~pidfd_getfd -p SystemCallErrorNumber=EPERM`
where systemd is not PID 1 (this machine, containers, CI): one classic-BPF filter installed
with PR_SET_SECCOMP (and PR_SET_NO_NEW_PRIVS when not root), then exec. Used by
harness/run/seccomp-evidence.test.ts to check that the judge calls only the filter's answers
"blocked by seccomp".

Usage: seccomp-deny.py SYSCALL ERRNO COMMAND [ARGS...]   e.g. seccomp-deny.py pidfd_getfd EPERM node ...
(x86_64; exits 125 when the filter cannot be installed)
"""
import ctypes
import errno as E
import os
import struct
import sys

NR = {'pidfd_send_signal': 424, 'pidfd_open': 434, 'clone3': 435, 'pidfd_getfd': 438, 'process_madvise': 440, 'process_mrelease': 448}
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
LD_W_ABS, JEQ_K, RET_K = 0x20, 0x15, 0x06


def insn(code, jt, jf, k):
    return struct.pack('HBBI', code, jt, jf, k)


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in NR or not hasattr(E, sys.argv[2]):
        sys.stderr.write(f'usage: seccomp-deny.py SYSCALL ERRNO COMMAND... (SYSCALL one of {", ".join(NR)})\n')
        sys.exit(125)
    if os.uname().machine != 'x86_64':
        sys.stderr.write('seccomp-deny: x86_64 only\n')
        sys.exit(125)
    nr, err = NR[sys.argv[1]], getattr(E, sys.argv[2])
    code = b''.join([
        insn(LD_W_ABS, 0, 0, 4),             # A = arch
        insn(JEQ_K, 0, 3, AUDIT_ARCH_X86_64),  # other arch: allow
        insn(LD_W_ABS, 0, 0, 0),             # A = nr
        insn(JEQ_K, 0, 1, nr),               # not ours: allow
        insn(RET_K, 0, 0, RET_ERRNO | err),
        insn(RET_K, 0, 0, RET_ALLOW),
    ])
    buf = ctypes.create_string_buffer(code, len(code))

    class SockFprog(ctypes.Structure):
        _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]

    prog = SockFprog(len(code) // 8, ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    # No new privileges only when needed (not root): root installs filters without it, as
    # systemd does for root services, and NNP would change what other probes observe.
    nnp_needed = os.geteuid() != 0
    if (nnp_needed and libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0) or libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        sys.stderr.write(f'seccomp-deny: installing the filter failed: {os.strerror(ctypes.get_errno())}\n')
        sys.exit(125)
    os.execvp(sys.argv[3], sys.argv[3:])


if __name__ == '__main__':
    main()
