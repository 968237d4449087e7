// Runs the SELinux probes without the runner: for
// debugging the policy in a guest after guest-setup.sh. Prints each observation and its AVCs.
//   node dist/suites/selinux/run-direct.js [case ...]
import { observeFacts } from '../lib/kernel.js';
import { closeTracked, PrereqMissing } from '../lib/pidfd.js';
import { reapAll } from '../lib/process.js';
import { notReady, probes, takeLog } from './cases.js';

const why = notReady();
if (why) {
  console.error(why);
  process.exit(2);
}
const names = process.argv.slice(2);
for (const name of names.length ? names : Object.keys(probes)) {
  const t0 = Date.now();
  let obs: unknown;
  try {
    obs = await probes[name](observeFacts());
  } catch (e) {
    obs = e instanceof PrereqMissing ? { prereq: e.step, errno: e.errno } : { crashed: (e as Error).stack };
  } finally {
    closeTracked();
    reapAll();
  }
  console.log(`== ${name} (${Date.now() - t0} ms)\n${JSON.stringify(obs)}\n${takeLog()}`);
}
