// The musl test binary (suites/musl/pidfd-wrappers.c), built on demand: the first run that
// selects a musl case builds it with suites/musl/build.sh (installing musl-tools if needed, under
// a flock) into the cache, keyed by the hash of the source and the script. It lives in the cache,
// not the checkout, so a fresh clone and each CI job's copy of the repository find it too. The
// plan names it (or why it could not be built): a missing binary stays an error, never a skip.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from '../kernels/cache.js';
import { repoPath } from './paths.js';
import type { CatalogCase } from './catalog.js';
import type { Plan } from '../suites/lib/plan.js';

export type MuslHelper = NonNullable<Plan['musl']>;

export const MUSL_BUILD_SCRIPT = repoPath('suites/musl/build.sh');
const SOURCES = [repoPath('suites/musl/pidfd-wrappers.c'), MUSL_BUILD_SCRIPT];

/** Where build.sh puts the binary: <cache>/musl/<sha256(source, build.sh) prefix>/pidfd-wrappers (same key as build.sh). */
export function muslHelperPath(root = cacheRoot()): string {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(readFileSync(f));
  return join(root, 'musl', h.digest('hex').slice(0, 16), 'pidfd-wrappers');
}

/** Whether any selected case asks the musl binary (the `musl` case of the libc_* features). */
export function needsMusl(cases: Pick<CatalogCase, 'case'>[]): boolean {
  return cases.some((c) => c.case === 'musl');
}

/**
 * The cached binary, building it first when missing. Never throws: a failed build becomes the
 * reason each musl case gives (an error naming the fix), and the other cases still run.
 */
export async function ensureMuslHelper(o: { progress?: (m: string) => void; cache?: string } = {}): Promise<MuslHelper> {
  const root = o.cache ?? cacheRoot();
  const bin = muslHelperPath(root);
  if (existsSync(bin)) return { bin };
  // A build that failed is not tried again for every cell of the same run.
  const known = failed.get(bin);
  if (known) return known;
  o.progress?.(`musl: building the musl test binary once (suites/musl/build.sh; cached as ${bin})`);
  // build.sh's own progress lines ("musl: installing musl-tools ...", "musl: built ...") go on as they come.
  const { code, output } = await run('bash', [MUSL_BUILD_SCRIPT], { ...process.env, PIDFD_MATRIX_CACHE: root }, (l) => {
    if (l.startsWith('musl: ')) o.progress?.(l);
  });
  if (code === 0 && existsSync(bin)) return { bin };
  const tail = output.trim().split('\n').slice(-5).join('\n  ');
  const fix = 'fix: as root, run `bash suites/musl/build.sh` (or make deps)';
  return remember(bin, { error: `could not build it (bash suites/musl/build.sh exited ${code}):\n  ${tail}\n  ${fix}` });
}

const failed = new Map<string, MuslHelper>();
function remember(bin: string, h: MuslHelper): MuslHelper {
  failed.set(bin, h);
  return h;
}

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
