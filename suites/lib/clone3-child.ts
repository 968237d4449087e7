// `node clone3-child.js ENOSYS|EPERM OUT.json`: a throwaway process (started by
// suites/libc.probe.ts) that installs a seccomp filter answering clone3 with that errno, as
// Docker's default profile does with ENOSYS, then starts a posix_spawn child and a thread the
// way any program does (glibc's posix_spawnp, pthread_create under a node Worker) and writes
// what it saw: whether they started, and clone3's own answer under the filter as the evidence
// (a clone3 with a NULL struct, which the kernel itself refuses with EINVAL).
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { constants } from 'node:os';
import { NR, P, W } from './constants.js';
import { denySyscall, kernelHasSyscallNamed, posixSpawnp, sys } from './libc.js';
import { cldName } from './names.js';
import { seccompMode } from './kernel.js';
import { waitid } from './process.js';

async function thread(): Promise<string> {
  return new Promise((resolve) => {
    let w: Worker;
    try {
      w = new Worker('require("node:worker_threads").parentPort.postMessage("ran")', { eval: true });
    } catch (e) {
      resolve(`failed: ${(e as { code?: string }).code ?? (e as Error).message}`);
      return;
    }
    const timer = setTimeout(() => resolve('no answer within 10 s'), 10_000);
    w.once('message', (m) => { clearTimeout(timer); resolve(String(m)); void w.terminate(); });
    w.once('error', (e) => { clearTimeout(timer); resolve(`failed: ${(e as { code?: string }).code ?? e.message}`); });
  });
}

async function main(): Promise<void> {
  const [errno, out] = process.argv.slice(2);
  const num = (constants.errno as Record<string, number>)[errno ?? ''];
  if (!out || (errno !== 'ENOSYS' && errno !== 'EPERM') || num === undefined) {
    console.error('usage: node clone3-child.js ENOSYS|EPERM OUT.json (started by suites/libc.probe.ts)');
    process.exit(2);
  }
  const installed = denySyscall(NR.clone3, num);
  if (!installed.ok) {
    writeFileSync(out, JSON.stringify({ setup_error: `installing the seccomp filter failed: ${installed.errno}` }));
    return;
  }
  const c3 = sys('clone3', ['void *', null], ['size_t', 0]);
  const spawned = posixSpawnp(['sh', '-c', 'exit 5']);
  let spawn: string;
  if (spawned.ok) {
    const w = waitid(P.PID, spawned.value, W.EXITED);
    spawn = w.ok ? `${cldName(w.value.code)} ${w.value.status}` : `waitid ${w.errno}`;
  } else spawn = spawned.errno;
  writeFileSync(out, JSON.stringify({
    filter: `clone3 -> ${errno}`,
    seccomp: seccompMode(),
    clone3_errno: c3.ok ? `result ${c3.value}` : c3.errno,
    sys_clone3_in_kallsyms: kernelHasSyscallNamed('clone3'),
    spawn,
    thread: await thread(),
  }));
}

await main();
process.exit(0);
