// Ad hoc kernels: `matrix --kernel PATH` (a bzImage), `--kernel-tree DIR` (built from source) or
// `--kernel-version 6.16` (Ubuntu's mainline build; kernel.org:5.4.301 a kernel.org tarball, built)
// become a one-entry matrix, so a CI lane or a one-off check needs no matrix file. The id is
// derived from the kernel (no dots: ids become JUnit classnames) unless --id names it.
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { stringify } from 'yaml';
import { KERNEL_ID_RE, MatrixError, parseMatrix, type KernelEntry } from '../../kernels/matrix.js';
import { bzImageRelease } from '../../kernels/layout.js';

/** Lowercase, dots and other characters to '-', as a matrix id. */
export function idPart(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').replace(/-{2,}/g, '-');
}

export interface AdhocRequest {
  kernel?: string;       // --kernel PATH
  tree?: string;         // --kernel-tree DIR
  version?: string;      // --kernel-version 6.16 | kernel.org:5.4.301
  config?: string[];     // --config FRAGMENT (with --kernel-tree)
  id?: string;           // --id ID
  lsm?: string;          // --lsm selinux
  append?: string;       // --append "..."
}

/** The entry plus the rerun options (words, unquoted) that select it again. */
export function adhocEntry(r: AdhocRequest): { entry: KernelEntry; selectArgs: string[] } {
  if ([r.kernel, r.tree, r.version].filter(Boolean).length !== 1) {
    throw new MatrixError('give one of --kernel PATH (a bzImage), --kernel-tree DIR (a kernel source tree) or --kernel-version V (6.16: a mainline build; kernel.org:5.4.301)');
  }
  if (r.config?.length && !r.tree && !r.version?.startsWith('kernel.org:')) throw new MatrixError('--config goes with --kernel-tree or --kernel-version kernel.org:V (fragments for the build)');
  if (r.id !== undefined && !KERNEL_ID_RE.test(r.id)) throw new MatrixError(`--id '${r.id}' is not valid: lowercase letters, digits, '-' and '_' (no dots: ids become JUnit classnames)`);
  const extra = { ...(r.lsm ? { lsm: r.lsm } : {}), ...(r.append ? { append: r.append } : {}) };
  const flags = [...(r.id ? ['--id', r.id] : []), ...(r.lsm ? ['--lsm', r.lsm] : []), ...(r.append ? ['--append', r.append] : [])];
  if (r.kernel) {
    const kernel = resolve(r.kernel);
    if (!existsSync(kernel)) throw new MatrixError(`--kernel ${kernel} does not exist; give a bzImage (e.g. arch/x86/boot/bzImage of a built tree)`);
    const release = bzImageRelease(kernel);
    if (!release) throw new MatrixError(`--kernel ${kernel} is not an x86 bzImage (no boot header); give arch/x86/boot/bzImage, not vmlinux`);
    const id = r.id ?? `kernel-${idPart(release)}`;
    return {
      entry: { id, source: 'path', kernel, description: `ad hoc --kernel ${kernel}`, ...extra },
      selectArgs: ['--kernel', kernel, ...flags],
    };
  }
  if (r.version) return versionEntry(r.version, r, extra, flags);
  const tree = resolve(r.tree!);
  const config = (r.config ?? []).map((f) => resolve(f));
  const id = r.id ?? `tree-${idPart(basename(tree)) || 'linux'}`;
  return {
    entry: { id, source: 'build', tree, ...(config.length ? { config } : {}), description: `ad hoc --kernel-tree ${tree}`, ...extra },
    selectArgs: ['--kernel-tree', tree, ...config.flatMap((f) => ['--config', f]), ...flags],
  };
}

/**
 * `--kernel-version 6.16`: Ubuntu's mainline build of v6.16; `kernel.org:5.4.301`: the kernel.org
 * tarball, built. Checked by the matrix parser, as the same entry in a file would be.
 */
function versionEntry(spec: string, r: AdhocRequest, extra: Partial<KernelEntry>, flags: string[]): { entry: KernelEntry; selectArgs: string[] } {
  const [source, version] = spec.startsWith('kernel.org:') ? ['kernel.org', spec.slice('kernel.org:'.length)] : ['mainline', spec.replace(/^mainline:/, '')];
  const config = (r.config ?? []).map((f) => resolve(f));
  const id = r.id ?? `${idPart(source)}-${idPart(version)}`;
  const raw = { id, source, version, ...(config.length ? { config } : {}), description: `ad hoc --kernel-version ${spec}`, ...extra };
  const [entry] = parseMatrix(stringify({ kernels: [raw] }), '--kernel-version').kernels;
  return { entry, selectArgs: ['--kernel-version', spec, ...config.flatMap((f) => ['--config', f]), ...flags] };
}
