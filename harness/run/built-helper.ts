// Test binaries the suite runs but cannot be (musl's libc, a 32-bit caller), built on demand:
// the first run that selects one of their cases runs the helper's build.sh (which installs its
// compiler when missing, under a flock) into the cache, keyed by the hash of its source and
// script. They live in the cache, not the checkout, so a fresh clone and each CI job's copy of
// the repository find them too. The plan names the binary (or why it could not be built): a
// missing binary stays an error of its cases, never a skip.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../../kernels/cache.js';
import type { BuiltHelper } from '../../suites/lib/plan.js';

export interface HelperSpec {
  /** Cache dir name and progress prefix ("musl: ..."). */
  name: string;
  /** build.sh: same key as here (the hash of `sources`, in order), `--path`, its own flock. */
  script: string;
  /** Hashed in this order, the script last (as build.sh does). */
  sources: string[];
  binary: string;
  /** What the builder's error ends with: the command that builds it by hand. */
  fix: string;
  /** A variant's dir under the key (musl's arm64 binary: <key>/arm64/), as build.sh puts it. */
  subdir?: string;
  /** build.sh's environment for that variant (its arch, the sysroot the harness fetched). */
  env?: Record<string, string>;
}

/** Where build.sh puts the binary: <cache>/<name>/<sha256(sources) prefix>/<binary>. */
export function builtHelperPath(spec: HelperSpec, root = cacheRoot()): string {
  const h = createHash('sha256');
  for (const f of spec.sources) h.update(readFileSync(f));
  return join(root, spec.name, h.digest('hex').slice(0, 16), ...(spec.subdir ? [spec.subdir] : []), spec.binary);
}

/**
 * The cached binary, building it first when missing. Never throws: a failed build becomes the
 * reason each of its cases gives (an error naming the fix), and the other cases still run.
 */
export async function ensureBuiltHelper(spec: HelperSpec, o: { progress?: (m: string) => void; cache?: string } = {}): Promise<BuiltHelper> {
  const root = o.cache ?? cacheRoot();
  const bin = builtHelperPath(spec, root);
  if (existsSync(bin)) return { bin };
  // A build that failed is not tried again for every cell of the same run.
  const known = failed.get(bin);
  if (known) return known;
  const script = spec.script.slice(spec.script.indexOf('suites/'));
  o.progress?.(`${spec.name}: building the ${spec.name} test binary once (${script}; cached as ${bin})`);
  // build.sh's own progress lines ("musl: installing musl-tools ...", "musl: built ...") go on as they come.
  const { code, output } = await run('bash', [spec.script], { ...process.env, ...spec.env, PIDFD_MATRIX_CACHE: root }, (l) => {
    if (l.startsWith(`${spec.name}: `)) o.progress?.(l);
  });
  if (code === 0 && existsSync(bin)) return { bin };
  const tail = output.trim().split('\n').slice(-5).join('\n  ');
  const h = { error: `could not build it (bash ${script} exited ${code}):\n  ${tail}\n  fix: ${spec.fix}` };
  failed.set(bin, h);
  return h;
}

const failed = new Map<string, BuiltHelper>();

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, onLine: (l: string) => void): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let partial = '';
    child.stdout.on('data', (d) => {
      output += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      lines.forEach(onLine);
    });
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (e) => resolve({ code: 127, output: e.message }));
    child.on('close', (c) => resolve({ code: c ?? 1, output }));
  });
}
