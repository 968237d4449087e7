// One matrix file from several, so one `matrix` run boots kernels that live in different files
// (the boundary run: Debian's entries of kernels/matrix.yaml, the vanilla kernels of
// ../shared/kernels/vanilla.yaml, a user's own builds). Each file's relative paths were resolved
// against that file when it loaded, so the composed file holds absolute paths.
import { stringify } from 'yaml';
import { MatrixError, selectKernels, type KernelEntry, type Matrix } from './matrix.js';

/** `selinux`: each entry boots as its SELinux variant instead (selinuxVariant). */
export interface MatrixPart { matrix: Matrix; ids?: string; selinux?: boolean }

/**
 * The same kernel under SELinux enforcing with the pidfs-unaware test policy, as the matrix's
 * bookworm-selinux cell boots Debian's: `<id>-selinux`, for the selinux_pidfd boundaries of
 * kernels that have no such entry (make boundary's second run). A root: entry keeps its own
 * root, which SELinux cells cannot use yet (the matrix refuses it, naming why).
 */
export function selinuxVariant(e: KernelEntry): KernelEntry {
  return {
    ...e, id: `${e.id}-selinux`, lsm: 'selinux',
    append: [e.append, 'pidfd_matrix.selinux_policy=pidfs-unaware'].filter(Boolean).join(' '),
    description: `${e.description ?? e.id}, under SELinux enforcing (pidfs-unaware test policy)`,
  };
}

export function composeMatrices(parts: MatrixPart[], file: string): Matrix {
  const kernels: KernelEntry[] = [];
  const from = new Map<string, string>();
  for (const p of parts) {
    for (const picked of selectKernels(p.matrix, p.ids)) {
      const e = p.selinux ? selinuxVariant(picked) : picked;
      const other = from.get(e.id);
      if (other) throw new MatrixError(`kernel id '${e.id}' is in ${other} and in ${p.matrix.file}; ids must be unique across the composed files (rename one)`);
      from.set(e.id, p.matrix.file);
      kernels.push(e);
    }
  }
  if (kernels.length === 0) throw new MatrixError('the composed matrix has no kernel: name at least one file with entries');
  return { file, kernels };
}

export function matrixYaml(m: Matrix, sources: string[]): string {
  const head = `# Composed by \`pidfd-matrix kernels compose\` from:\n${sources.map((s) => `#   ${s}\n`).join('')}# Regenerate it rather than editing it.\n`;
  return head + stringify({ kernels: m.kernels }, { lineWidth: 0 });
}
