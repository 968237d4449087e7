// `node clone3-child.js ENOSYS|EPERM|REMEMBER OUT.json`: a throwaway process (started by
// suites/libc.probe.ts) that installs a seccomp filter answering clone3 with ENOSYS (as Docker's
// default profile does) or EPERM, then starts a posix_spawn child and a thread the way any
// program does (glibc's posix_spawnp, pthread_create under a node Worker) and writes what it
// saw, with clone3's own answer as the evidence: clone3(NULL, 0), which the kernel itself
// refuses with EINVAL, asked before the filter (the cell's own policy) and under it.
// REMEMBER: ENOSYS first and a thread (glibc falls back to clone), then EPERM stacked on top
// (the newest filter's errno wins) and another thread and child: does glibc still call clone3?
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

function spawnExit5(): string {
  const spawned = posixSpawnp(['sh', '-c', 'exit 5']);
  if (!spawned.ok) return spawned.errno;
  const w = waitid(P.PID, spawned.value, W.EXITED);
  return w.ok ? `${cldName(w.value.code)} ${w.value.status}` : `waitid ${w.errno}`;
}

const clone3Null = (): string => {
  const r = sys('clone3', ['void *', null], ['size_t', 0]);
  return r.ok ? `result ${r.value}` : r.errno;
};

const ERRNO = constants.errno as Record<string, number>;

async function main(): Promise<void> {
  const [mode, out] = process.argv.slice(2);
  if (!out || !['ENOSYS', 'EPERM', 'REMEMBER'].includes(mode ?? '')) {
    console.error('usage: node clone3-child.js ENOSYS|EPERM|REMEMBER OUT.json (started by suites/libc.probe.ts)');
    process.exit(2);
  }
  const before = clone3Null();
  const deny = (errno: string): boolean => {
    const r = denySyscall(NR.clone3, ERRNO[errno]);
    if (!r.ok) writeFileSync(out, JSON.stringify({ setup_error: `installing the seccomp filter (clone3 -> ${errno}) failed: ${r.errno}` }));
    return r.ok;
  };
  const common = { clone3_before_filter: before, sys_clone3_in_kallsyms: kernelHasSyscallNamed('clone3') };
  if (mode === 'REMEMBER') {
    if (!deny('ENOSYS')) return;
    const first = await thread();
    if (!deny('EPERM')) return;
    writeFileSync(out, JSON.stringify({
      filter: 'clone3 -> ENOSYS, then EPERM', ...common, thread_under_enosys: first,
      seccomp: seccompMode(), clone3_errno: clone3Null(), thread: await thread(), spawn: spawnExit5(),
    }));
    return;
  }
  if (!deny(mode)) return;
  writeFileSync(out, JSON.stringify({
    filter: `clone3 -> ${mode}`, ...common, seccomp: seccompMode(), clone3_errno: clone3Null(), spawn: spawnExit5(), thread: await thread(),
  }));
}

await main();
process.exit(0);
