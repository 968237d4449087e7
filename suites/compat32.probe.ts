// The compat axis: the core pidfd observations made by a 32-bit (i386) caller on the x86_64
// kernel, through the compat entry points (compat waitid, copy_siginfo_from_user_any in
// pidfd_send_signal, the pidfs compat_ioctl, clone3's u64 pointer fields). node has no ia32
// build here, so a static gcc -m32 helper answers (suites/compat32/pidfd-compat32.c), one case
// per run, in the keys of the matching 64-bit case; the host built it before the run and names
// it in the plan (harness/run/compat32-helper.ts). The catalog judges it (suites/catalog/compat.yaml).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { kernelHasSyscallNamed, spawnp, type SeccompControl } from './lib/libc.js';
import { adopt, reap } from './lib/process.js';
import { cldName } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';
import { EXEC_REFUSED, KILLED_BY, type Observation } from './lib/observation.js';
import { COMPAT32_BIN_ENV, COMPAT32_ERROR_ENV } from './lib/plan.js';

/** The helper's cases (its `--list`), each a case of the compat32 feature. */
export const COMPAT32_CASES = [
  'waitid_exited', 'waitid_killed', 'waitid_stopped', 'waitid_rusage', 'waitid_wnohang_live',
  'siginfo_payload', 'siginfo_mismatch', 'siginfo_eperm_code', 'open_poll', 'getfd_self',
  'get_info', 'get_info_exit', 'ns_pid', 'ns_uts', 'ns_net', 'ns_mnt', 'ns_einval_arg', 'clone3_pidfd',
] as const;

/**
 * What the kernel shows about its i386 support beside a refused exec: /proc/sys/abi/vsyscall32
 * (x86_64 registers it in vdso32-setup.c, built only with CONFIG_COMPAT_32, i.e. IA32 emulation),
 * whether /proc/kallsyms lists __ia32_sys_* entries, the ia32_emulation= boot parameter (6.7+ can
 * turn it off at boot), and CONFIG_IA32_EMULATION from /proc/config.gz; null where unreadable.
 */
function ia32Evidence(): Observation {
  const read = (f: string): string | null => { try { return readFileSync(f, 'utf8'); } catch { return null; } };
  const syms = read('/proc/kallsyms');
  const cmdline = read('/proc/cmdline');
  let config: string | null = null;
  try {
    const line = /^(?:CONFIG_IA32_EMULATION=\S+|# CONFIG_IA32_EMULATION is not set)$/m.exec(gunzipSync(readFileSync('/proc/config.gz')).toString());
    config = line ? line[0] : 'no CONFIG_IA32_EMULATION line';
  } catch { /* no /proc/config.gz (CONFIG_IKCONFIG_PROC off) */ }
  return {
    // /proc/sys/kernel: sysctls are readable here, so a missing abi/vsyscall32 is the kernel's answer
    abi_vsyscall32: existsSync('/proc/sys/kernel') ? existsSync('/proc/sys/abi/vsyscall32') : null,
    ia32_syscalls: syms && / [Tt] __ia32_sys_\w+$/m.test(syms) ? true : syms && / [Tt] __x64_sys_\w+$/m.test(syms) ? false : null,
    ia32_emulation_param: cmdline ? /(?:^|\s)ia32_emulation=(\S+)/.exec(cmdline)?.[1] ?? null : null,
    config_ia32_emulation: config,
  };
}

function compat32(name: string): Observation {
  // Could not run, not "not applicable": the binary is ours to build.
  const bin = process.env[COMPAT32_BIN_ENV];
  const why = process.env[COMPAT32_ERROR_ENV] ?? 'the plan names none (the harness builds it before a run: suites/compat32/build.sh)';
  if (!bin) return { setup_error: `no i386 helper: ${why}` };
  if (!existsSync(bin)) return { setup_error: `no i386 helper at ${bin} (not visible here?): \`bash suites/compat32/build.sh\` builds it` };
  const out = join(tmpdir(), `pidfd-matrix-compat32-${process.pid}.json`);
  rmSync(out, { force: true });
  const r = spawnp([bin, name, out]);
  // posix_spawn reports the exec's errno; the host judges what it means (ENOEXEC: no i386 loader).
  if (!r.ok && r.errno === 'ENOEXEC') return { [EXEC_REFUSED]: r.errno, abi: 'i386', ...ia32Evidence() };
  if (!r.ok) return { setup_error: `posix_spawn(${bin}) failed: ${r.errno}` };
  adopt(r.value);
  const si = reap(r.value);
  // A filter that kills the calls of an architecture it does not list (a profile with no
  // `architectures`: libseccomp's default action for a foreign arch) ends the helper at its
  // first syscall, before it writes anything. The judge decides with the cell's Seccomp mode.
  const SIGSYS = 31;
  if (si && si.status === SIGSYS && (si.code === 2 /* CLD_KILLED */ || si.code === 3 /* CLD_DUMPED */)) return { [KILLED_BY]: 'SIGSYS' };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  } catch {
    return { setup_error: `${bin} ${name} wrote no result (${si ? `${cldName(si.code)} ${si.status}` : 'not reaped'})` };
  } finally {
    rmSync(out, { force: true });
  }
  // The answer is only a compat answer if a 32-bit process gave it.
  if (o.abi !== 'i386') return { setup_error: `${bin} is not an i386 program (it says abi ${String(o.abi)}): rebuild it with suites/compat32/build.sh` };
  // The helper asked its control questions itself (a filter's rules are per architecture);
  // whether the kernel has the syscall at all is read here, as for the 64-bit calls.
  if (Array.isArray(o.seccomp_controls))
    o.seccomp_controls = (o.seccomp_controls as SeccompControl[]).map((k) => ({ ...k, in_kallsyms: k.errno === 'ENOSYS' ? kernelHasSyscallNamed(k.syscall) : null }));
  return o;
}

featureSuite('compat32', Object.fromEntries(COMPAT32_CASES.map((c) => [c, () => compat32(c)])));
