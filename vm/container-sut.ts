// A container on the running kernel as a system under test, next to HostSut and VngSut
// (vm/sut.ts): the suite runs inside a distro userspace (kernels/userspace.ts) under a seccomp
// profile and an OCI runtime, started through testcontainers. The probes then call the
// distro's libc, never the host's: only node itself (its own binary, which links glibc
// dynamically) and the checkout (dist/, node_modules) come from the host, read-only.
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { StartedTestContainer } from 'testcontainers';
import type { ContainerAxes } from '../kernels/matrix.js';
import { REPO_ROOT } from '../suites/lib/paths.js';
import { ensureImage, imageTag, recordedPackages, userspaceInfo, type Progress } from '../kernels/userspace.js';
import type { RunOptions, RunResult, Sut } from './sut.js';
import type { ContainerInfo } from '../harness/results.js';
export type { ContainerInfo } from '../harness/results.js';

const run = promisify(execFile);


/** Docker's SecurityOpt for a seccomp axis value: none for Docker's default profile. */
export function seccompSecurityOpt(seccomp: string): string[] {
  if (seccomp === 'default') return [];
  if (seccomp === 'unconfined') return ['seccomp=unconfined'];
  // The Engine API takes the profile's JSON text itself (the CLI reads the file for you).
  return [`seccomp=${JSON.stringify(JSON.parse(readFileSync(seccomp, 'utf8')))}`];
}

/** The bind mounts a container cell needs: checkout, node_modules' real dir, the node binary, the cell dirs. */
export function containerMounts(root: string, nodeBinary: string, rwdirs: string[], rodirs: string[] = []): { source: string; target: string; mode: 'ro' | 'rw' }[] {
  const mounts: { source: string; target: string; mode: 'ro' | 'rw' }[] = [{ source: root, target: root, mode: 'ro' }];
  const nm = join(root, 'node_modules');
  // A worktree whose node_modules is a symlink: its target at the same path, or nothing resolves.
  if (lstatSync(nm, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const real = realpathSync(nm);
    mounts.push({ source: real, target: real, mode: 'ro' });
  }
  mounts.push({ source: realpathSync(nodeBinary), target: nodeBinary, mode: 'ro' });
  for (const d of rodirs) mounts.push({ source: d, target: d, mode: 'ro' });
  for (const d of rwdirs) mounts.push({ source: d, target: d, mode: 'rw' });
  return mounts;
}

/** Asked inside the container before the suite: node starts, koffi loads, and which glibc it got. */
export function nodeCheckScript(root: string): string {
  return `const k = require(${JSON.stringify(join(root, 'node_modules/koffi'))});
const v = k.load('libc.so.6').func('const char *gnu_get_libc_version()');
console.log('node ' + process.version + ', koffi ' + k.version + ', glibc ' + v());`;
}

async function dockerFacts(runtime: string): Promise<{ docker: string | null; runtimeVersion: string | null }> {
  const q = async (args: string[]) => (await run('docker', args, { timeout: 15_000 })).stdout.trim();
  const docker = await q(['version', '--format', '{{.Server.Version}}']).catch(() => null);
  let runtimeVersion: string | null = null;
  try {
    const runtimes = JSON.parse(await q(['info', '--format', '{{json .Runtimes}}'])) as Record<string, { path?: string }>;
    const path = runtimes[runtime]?.path;
    if (path) runtimeVersion = (await run(path, ['--version'], { timeout: 10_000 })).stdout.split('\n')[0].trim();
  } catch { /* recorded as unknown */ }
  return { docker, runtimeVersion };
}

export class ContainerSut implements Sut {
  readonly kind = 'container';
  readonly accel = null;
  /** Filled by run(): what the cell ran on. */
  info: ContainerInfo | null = null;
  constructor(readonly axes: ContainerAxes, readonly o: { progress?: Progress; nodeBinary?: string } = {}) {}

  async run(command: string, r: RunOptions): Promise<RunResult> {
    const t0 = Date.now();
    await mkdir(dirname(r.logPath), { recursive: true });
    const lines: string[] = [];
    const fail = async (reason: string, status: RunResult['status'] = 'boot-failure'): Promise<RunResult> => {
      lines.push(reason);
      await writeFile(r.logPath, lines.join('\n') + '\n');
      return { exitCode: null, status, reason, logPath: r.logPath, excerpt: lines.slice(-30).join('\n'), durationMs: Date.now() - t0 };
    };
    const { userspace, seccomp, runtime } = this.axes;
    // The axes are recorded even when the image cannot be built: the error cell still says what it was.
    this.info = {
      userspace, image: imageTag(userspace), userspaceId: null, packages: {},
      seccomp, ...(seccomp !== 'default' && seccomp !== 'unconfined' ? { seccompSha256: createHash('sha256').update(readFileSync(seccomp)).digest('hex') } : {}),
      runtime, runtimeVersion: null, docker: null, kernel: 'host',
    };
    let image: string;
    try {
      image = await ensureImage(userspace, { progress: this.o.progress });
    } catch (e) {
      return fail(`userspace image ${userspace} not available: ${(e as Error).message}`);
    }
    const meta = userspaceInfo(userspace);
    const node = this.o.nodeBinary ?? process.execPath;
    Object.assign(this.info, { userspaceId: meta?.id ?? null, packages: meta ? recordedPackages(meta) : {}, ...(await dockerFacts(runtime)) });
    const root = REPO_ROOT;
    // Ryuk (the reaper) would be pulled from a registry: none is reachable; this SUT stops its own containers.
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
    const { GenericContainer } = await import('testcontainers');
    // testcontainers 11 has no withSecurityOpt or runtime setter: HostConfig is protected, so a subclass sets them.
    class PolicyContainer extends GenericContainer {
      withPolicy(securityOpt: string[], rt: string): this {
        if (securityOpt.length) this.hostConfig.SecurityOpt = securityOpt;
        this.hostConfig.Runtime = rt;
        // Without Ryuk nothing reaps a container whose harness was SIGKILLed: PID 1 ends on its
        // own after the cell's limit (below), and dockerd then removes the container.
        this.hostConfig.AutoRemove = true;
        return this;
      }
    }
    // A known name, so a container that was created but failed to start can be removed by it.
    const name = `pidfd-matrix-${userspace}-${process.pid}-${randomBytes(4).toString('hex')}`;
    let container: StartedTestContainer;
    try {
      container = await new PolicyContainer(image)
        .withName(name)
        .withPolicy(seccompSecurityOpt(seccomp), runtime)
        .withBindMounts(containerMounts(root, node, r.rwdirs ?? [], r.rodirs))
        .withWorkingDir(r.cwd ?? root)
        .withNetworkMode('none') // the probes need no network, and dockerd may run without a bridge
        .withCommand(['sleep', String(r.timeoutSec + 120)]) // PID 1 keeps it up while the suite runs through exec
        .withStartupTimeout(60_000)
        .start();
    } catch (e) {
      await run('docker', ['rm', '-f', name], { timeout: 30_000 }).catch(() => undefined);
      const msg = (e as Error).message;
      const fix = /hybrid mode/i.test(msg) ? ' (crun needs an empty cgroup v2 hierarchy: `make deps` runs scripts/setup/userspace.sh, which mounts the v1 hierarchy of each controller left there)'
        : /unknown or invalid runtime/i.test(msg) ? ` (${runtime} is not registered with dockerd: \`make deps\` runs scripts/setup/userspace.sh)`
          : /connect|ENOENT|socket/i.test(msg) ? ' (is dockerd running? `make deps` starts it)' : '';
      return fail(`container (${image}, seccomp ${seccomp}, ${runtime}) did not start: ${msg.split('\n')[0]}${fix}`);
    }
    const stop = () => container.stop({ timeout: 0 }).catch(() => undefined);
    r.signal?.addEventListener('abort', stop, { once: true });
    try {
      lines.push(`# ${image} (libc6 ${this.info.packages.libc6 ?? '?'}), seccomp ${seccomp}, runtime ${runtime} ${this.info.runtimeVersion ?? ''}, container ${container.getId().slice(0, 12)}`);
      // Node is the host's binary on the distro's glibc: if it cannot start there, say exactly that.
      const check = await container.exec([node, '-e', nodeCheckScript(root)]);
      lines.push(`# node check: ${check.output.trim()}`);
      if (check.exitCode !== 0) return await fail(`the host's node (${node}, ${process.version}) does not run on ${userspace}'s userspace: ${check.output.trim().split('\n').slice(-3).join(' ')}`);
      this.info.node = { binary: node, check: check.output.trim() };
      r.onRunning?.();
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; void stop(); }, r.timeoutSec * 1000);
      const res = await container.exec(['bash', '-c', command], { workingDir: r.cwd ?? root }).catch((e: Error) => ({ exitCode: null, output: `exec failed: ${e.message}` }));
      clearTimeout(timer);
      lines.push(res.output.trimEnd());
      await writeFile(r.logPath, lines.join('\n') + '\n');
      if (timedOut) return { exitCode: null, status: 'timeout', reason: `no result within ${r.timeoutSec}s; container stopped`, logPath: r.logPath, excerpt: '', durationMs: Date.now() - t0 };
      return { exitCode: res.exitCode, status: 'ok', reason: '', logPath: r.logPath, excerpt: '', durationMs: Date.now() - t0 };
    } finally {
      r.signal?.removeEventListener('abort', stop);
      await stop();
    }
  }
}
