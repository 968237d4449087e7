// Loads and validates kernels/matrix.yaml. Every error names the file, the entry and the fix,
// because this file is edited by hand.
import { REPO_ROOT } from '../suites/lib/paths.js';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isScalar, parseDocument, visit } from 'yaml';
import { MATRIX_ARCHES, MatrixError, type EntryCommon, type MatrixArch } from './sources/types.js';
import { findSourceKind, sourceKindNames, type KernelEntry } from './sources/index.js';

export const KERNEL_ID_RE = /^[a-z0-9][a-z0-9_-]*$/;

export { MatrixError, MATRIX_ARCHES, DEBIAN_ARCH, entryArch, type ContainerAxes, type EntryCommon, type MatrixArch, type ForeignArch } from './sources/types.js';
export type { KernelEntry, KernelSource } from './sources/index.js';
export { CONTAINER_RUNTIMES, type ContainerRuntime } from './sources/container.js';

export interface Matrix {
  file: string;
  kernels: KernelEntry[];
}

/** kernels/matrix.yaml of this checkout, whether running from dist/ or from sources (vitest). */
export function defaultMatrixFile(): string {
  return resolve(repoRoot(), 'kernels/matrix.yaml');
}

/** The checkout this module belongs to (one definition: harness/paths.ts). */
export function repoRoot(): string {
  return REPO_ROOT;
}

export function loadMatrix(file = defaultMatrixFile()): Matrix {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MatrixError(`${file}: cannot read the kernel matrix (${(e as Error).message})`);
  }
  return parseMatrix(text, file);
}

const COMMON_KEYS = ['id', 'source', 'description', 'append', 'lsm', 'timeout', 'ci', 'root', 'arch'];

export function parseMatrix(text: string, file: string): Matrix {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    throw new MatrixError(`${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}\n  fix the syntax (see the comments at the top of kernels/matrix.yaml)`);
  }
  // A version is text: YAML reads `version: 6.10` as the number 6.1. Keep what was written.
  visit(doc, { Pair(_, p) { if (isScalar(p.key) && p.key.value === 'version' && isScalar(p.value) && typeof p.value.value === 'number' && p.value.source) p.value.value = p.value.source; } });
  const root = doc.toJS() as unknown;
  const list = (root as { kernels?: unknown } | null)?.kernels;
  if (!Array.isArray(list) || list.length === 0) {
    throw new MatrixError(`${file}: expected a top-level 'kernels:' list with at least one entry`);
  }
  const baseDir = dirname(resolve(file));
  const seen = new Set<string>();
  const kernels = list.map((raw, i) => {
    const e = parseEntry(raw, `${file}: kernels[${i}]`, baseDir);
    if (seen.has(e.id)) throw new MatrixError(`${file}: kernel id '${e.id}' appears twice; ids must be unique`);
    seen.add(e.id);
    return e;
  });
  return { file, kernels };
}

function parseEntry(raw: unknown, where: string, baseDir: string): KernelEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MatrixError(`${where}: expected a mapping with id: and source:`);
  const o = raw as Record<string, unknown>;
  const id = o.id;
  if (typeof id !== 'string' || !KERNEL_ID_RE.test(id)) {
    throw new MatrixError(`${where}: id ${JSON.stringify(id)} is not valid: use lowercase letters, digits, '-' and '_' (no dots: ids become JUnit classnames), e.g. 'bookworm' or 'v6-1'`);
  }
  const at = `${where} (id '${id}')`;
  const source = o.source;
  const kind = typeof source === 'string' ? findSourceKind(source) : undefined;
  if (!kind) {
    throw new MatrixError(`${at}: source ${JSON.stringify(source)} is not one of: ${sourceKindNames().join(', ')}`);
  }
  for (const k of Object.keys(o)) {
    if (!COMMON_KEYS.includes(k) && !kind.keys.includes(k)) {
      throw new MatrixError(`${at}: unknown key '${k}' for source '${kind.name}'; allowed: ${[...COMMON_KEYS, ...kind.keys].join(', ')}`);
    }
  }
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) {
      if (required) throw new MatrixError(`${at}: source '${kind.name}' needs '${k}:'`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') throw new MatrixError(`${at}: '${k}' must be a non-empty string`);
    return v;
  };
  const common = parseCommon(o, at, id, str);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  // The kind checks its own keys; the table's kinds are the KernelEntry union.
  return kind.parse({ o, at, common, str, abs }) as KernelEntry;
}

/** The keys every entry may have (EntryCommon), checked the same way for every kind. */
function parseCommon(o: Record<string, unknown>, at: string, id: string, str: (k: string, required: boolean) => string | undefined): EntryCommon {
  const common: EntryCommon = { id };
  const description = str('description', false);
  if (description) common.description = description;
  const append = str('append', false);
  if (append) common.append = append;
  const lsm = str('lsm', false);
  if (lsm) {
    if (!/^[a-z]+$/.test(lsm)) throw new MatrixError(`${at}: lsm '${lsm}' should be an LSM name like 'selinux'`);
    common.lsm = lsm;
  }
  if (o.timeout !== undefined) {
    if (typeof o.timeout !== 'number' || !Number.isInteger(o.timeout) || o.timeout < 1) throw new MatrixError(`${at}: timeout must be a whole number of seconds >= 1`);
    common.timeout = o.timeout;
  }
  if (o.ci !== undefined) {
    if (typeof o.ci !== 'boolean') throw new MatrixError(`${at}: ci must be true or false`);
    common.ci = o.ci;
  }
  const root = str('root', false);
  if (root) {
    if (!/^[a-z][a-z0-9-]*$/.test(root)) throw new MatrixError(`${at}: root '${root}' should be a Debian suite name (bullseye, bookworm, trixie, sid): the guest boots that suite's debootstrapped root`);
    if (common.lsm) throw new MatrixError(`${at}: root: and lsm: do not go together yet (the SELinux setup runs tools from the host's root)`);
    common.root = root;
  }
  const arch = str('arch', false);
  if (arch !== undefined) {
    if (!(MATRIX_ARCHES as readonly string[]).includes(arch)) {
      throw new MatrixError(`${at}: arch '${arch}' is not one of ${MATRIX_ARCHES.join(', ')} (absent: x86_64)`);
    }
    // The host's node, libc and checkout binaries are x86_64: another arch boots a root of its own.
    if (arch !== 'x86_64' && !root) {
      throw new MatrixError(`${at}: arch: ${arch} needs 'root:' (a Debian suite, e.g. root: trixie): the guest `
        + `runs that suite's ${arch} root with its own node, since the host's x86_64 binaries cannot run there`);
    }
    if (arch !== 'x86_64') common.arch = arch as Exclude<MatrixArch, 'x86_64'>;
  }
  return common;
}

/**
 * The entries named by a --kernels value: 'id,id', 'all' (or empty: everything), 'ci' (the
 * entries marked ci: true), in matrix order. Unknown ids fail and list the known ones.
 */
export function selectKernels(matrix: Matrix, spec: string | string[] | undefined): KernelEntry[] {
  const ids = (Array.isArray(spec) ? spec : (spec ?? '').split(','))
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0 || ids.includes('all')) return matrix.kernels;
  const known = matrix.kernels.map((k) => k.id);
  const want = new Set<string>();
  for (const id of ids) {
    if (id === 'ci') {
      const ci = matrix.kernels.filter((k) => k.ci);
      if (ci.length === 0) throw new MatrixError(`${matrix.file}: no entry has 'ci: true', so --kernels ci selects nothing`);
      ci.forEach((k) => want.add(k.id));
    } else if (known.includes(id)) {
      want.add(id);
    } else {
      throw new MatrixError(`unknown kernel id '${id}'; ${matrix.file} defines: ${known.join(', ')} (or use 'all', 'ci')`);
    }
  }
  return matrix.kernels.filter((k) => want.has(k.id));
}

/** Extra kernel command line for an entry: its lsm axis plus its own append. */
export function kernelCmdlineExtra(e: KernelEntry): string {
  const parts: string[] = [];
  if (e.lsm === 'selinux') parts.push('security=selinux selinux=1');
  else if (e.lsm) parts.push(`lsm=${e.lsm}`);
  if (e.append) parts.push(e.append);
  return parts.join(' ');
}
