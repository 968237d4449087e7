// The two names of one architecture: what the guest observed (uname -m: x86_64, aarch64) and the
// kernel's own name for it (ARCH=: x86_64, arm64), which the matrix's `arch:`, KernelCI's KCIDB
// `architecture` and `kernels build --arch` use. The observation is the source; this only renames.

/** uname -m machines whose kernel architecture has another name. */
const KERNEL_ARCH: [RegExp, string][] = [
  [/^aarch64(_be)?$/, 'arm64'],
  [/^armv\d.*$/, 'arm'],
  [/^i[3-6]86$/, 'i386'],
  [/^riscv(32|64)$/, 'riscv'],
  [/^(ppc|ppc64|ppc64le)$/, 'powerpc'],
  [/^s390x?$/, 's390'],
  [/^mips.*$/, 'mips'],
];

/** The kernel's name of the architecture a guest observed (uname -m): aarch64 -> arm64, x86_64 stays. */
export function kernelArchName(machine: string): string {
  return KERNEL_ARCH.find(([re]) => re.test(machine))?.[1] ?? machine;
}

/** A selector's arch (either name: arm64 or aarch64) against the observed machine. */
export function archMatches(wanted: string, machine: string): boolean {
  return wanted === machine || wanted === kernelArchName(machine);
}
