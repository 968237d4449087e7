// SELinux and pidfds (reference §4, §7 R1/R15/R16): the catalog glue for suites/selinux/cases.ts.
// Probes run as children in confined domains of the test policy, which suites/selinux/guest-setup.sh
// loads inside the guest before the suite starts. Each test's AVCs go into its JUnit system-out.
import { featureSuite, type Probe } from './lib/feature-test.js';
import { notReady, probes, takeLog } from './selinux/cases.js';

/** Skip (with the reason) when the policy is not there; the judge skips non-SELinux kernels. */
function guarded(p: Probe): Probe {
  return (facts) => {
    const why = notReady();
    return why ? { skip: why } : p(facts);
  };
}

featureSuite('selinux_pidfd', Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, guarded(p)])), { takeLog });
