// `pidfd-matrix kernels list|fetch|clean`: inspect the matrix file and manage the kernel cache.
import { rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './types.js';
import { UsageError } from './types.js';
import { reportInputError } from './input-errors.js';
import { parseOptions } from '../args.js';
import { defaultMatrixFile, loadMatrix, selectKernels, type KernelEntry } from '../../kernels/matrix.js';
import { cacheRoot, holdKernelCache, kernelsDir, lockKernelCacheForClean, urlCacheKey } from '../../kernels/cache.js';
import { cachedKernels, fetchKernel } from '../../kernels/fetch.js';

const usage = `Usage: pidfd-matrix kernels <list|fetch|clean> [ids] [--matrix FILE] [--refresh]

  list [ids]     the matrix entries (id, source, lsm, ci) and what is already cached
  fetch [ids]    download and unpack the kernels (all by default; 'ci' = the CI smoke set);
                 a second run fetches nothing. --refresh re-reads the Debian package lists.
  clean          delete the kernel cache (${kernelsDir()}) and the private apt lists;
                 refuses (exit 1) while a matrix, bench or fetch uses the cache

Ids are comma or space separated. The matrix file defaults to kernels/matrix.yaml; the cache to
\${PIDFD_MATRIX_CACHE:-\${XDG_CACHE_HOME:-~/.cache}/pidfd-matrix} (now: ${cacheRoot()}).`;

export function describeSource(e: KernelEntry): string {
  switch (e.source) {
    case 'host': return 'the running kernel (no VM)';
    case 'debian': return `debian ${e.suite} ${e.package}`;
    case 'path': return `path ${e.kernel}${e.modules ? ` + ${e.modules}` : ''}`;
    case 'url': return `url ${e.url}`;
  }
}

export const kernelsCommand: Command = {
  name: 'kernels',
  summary: 'list, fetch or clean the kernels of the matrix (kernels/matrix.yaml)',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { matrix: { type: 'string' }, refresh: { type: 'boolean' } }, usage);
    const [action, ...ids] = positionals;
    try {
      const matrix = loadMatrix(values.matrix ?? defaultMatrixFile());
      switch (action) {
        case 'list': {
          const cached = new Map((await cachedKernels()).map((c) => [c.meta.description, c]));
          const rows = selectKernels(matrix, ids).map((e) => {
            const hit = [...cached.values()].find((c) =>
              (e.source === 'debian' && c.meta.description.startsWith(`debian ${e.suite} `)) ||
              (e.source === 'url' && c.key === urlCacheKey(e.sha256)));
            const flags = [e.ci ? 'ci' : '', e.lsm ? `lsm=${e.lsm}` : '', e.append ? `append="${e.append}"` : ''].filter(Boolean).join(' ');
            return [e.id, describeSource(e), flags, hit ? `cached ${hit.meta.release}` : e.source === 'host' ? '' : '-'];
          });
          const w = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
          console.log(`# ${matrix.file}`);
          for (const r of rows) console.log(`${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3]}`.trimEnd());
          return 0;
        }
        case 'fetch': {
          const cache = await holdKernelCache();
          try {
            for (const e of selectKernels(matrix, ids)) {
              if (e.source === 'host') continue;
              const t0 = Date.now();
              const k = await fetchKernel(e, { progress: (m) => console.log(m), refresh: values.refresh });
              console.log(`${e.id}: ${k.downloaded ? 'fetched' : 'cached'} ${k.release} (${k.description}) in ${((Date.now() - t0) / 1000).toFixed(1)}s -> ${k.kimg}`);
            }
          } finally {
            await cache.release();
          }
          return 0;
        }
        case 'clean': {
          // Never under a running matrix, bench or fetch: it may be booting these kernels.
          const lock = await lockKernelCacheForClean();
          if (!lock) {
            console.error(`pidfd-matrix kernels clean: the kernel cache ${kernelsDir()} is in use by a running matrix, bench or fetch; nothing removed. Run clean again when it has finished.`);
            return 1;
          }
          try {
            for (const d of [kernelsDir(), join(cacheRoot(), 'apt')]) {
              if (existsSync(d)) {
                await rm(d, { recursive: true, force: true });
                console.log(`removed ${d}`);
              }
            }
          } finally {
            await lock.release();
          }
          return 0;
        }
        default:
          throw new UsageError(`expected list, fetch or clean${action ? `, not '${action}'` : ''}\n\n${usage}`);
      }
    } catch (e) {
      const code = reportInputError(this.name, values.matrix, e);
      if (code !== null) return code;
      throw e;
    }
  },
};
