// What a case needs from the process it runs in (root, arch, SELinux ...). The runner reads it
// to avoid calling a probe that cannot apply here; the judge reads it to say why it was skipped.
import type { ObservedFacts } from './observation.js';

/** Facts a case can require; anything else is a catalog error. */
export const NEEDS = [
  'root', 'unprivileged', 'x86_64', 'selinux', 'not-container', 'coredump', 'own-core-pattern',
] as const;
export type Need = (typeof NEEDS)[number];
/** The architectures stub.ts has machine-code children for. */
const STUB_ARCHES: readonly string[] = ['x86_64', 'aarch64'];

export function unmetNeed(needs: readonly Need[], facts: ObservedFacts): string | null {
  for (const n of needs) {
    if (n === 'root' && !facts.root) return `needs root: running as uid ${facts.uid}`;
    if (n === 'root' && facts.capSysAdmin === false) return 'needs root with CAP_SYS_ADMIN: uid 0 here lacks it (CapEff), e.g. inside a container';
    // The probe drops to uid 65534 itself, in a machine-code child (suites/lib/unprivileged.ts, stub.ts).
    if (n === 'unprivileged' && !STUB_ARCHES.includes(facts.arch)) return `needs an unprivileged child: the uid drop is implemented for ${STUB_ARCHES.join(' and ')} only (arch ${facts.arch})`;
    if (n === 'x86_64' && facts.arch !== 'x86_64') return `probe implemented for x86_64 only (arch ${facts.arch})`;
    if (n === 'selinux' && facts.selinux !== 'enforcing') return `needs SELinux enforcing (SELinux is ${facts.selinux})`;
    if (n === 'not-container' && facts.container) return `not applicable inside a container (${facts.container})`;
    if (n === 'coredump' && facts.corePattern === false) return 'needs CONFIG_COREDUMP: /proc/sys/kernel/core_pattern is absent';
    // kernel.core_pattern is one value for the whole system: only a run that owns the system sets it.
    if (n === 'own-core-pattern' && facts.ownsCorePattern !== true)
      return 'needs the system-wide kernel.core_pattern, which this run does not own: a guest the harness boots owns it; '
        + 'on the host pass probe --own-core-pattern (it is set for the case and restored)';
  }
  return null;
}
