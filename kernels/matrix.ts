// Loads and validates kernels/matrix.yaml. Every error names the file, the entry and the fix,
// because this file is edited by hand.
import { REPO_ROOT } from '../suites/lib/paths.js';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';

export const KERNEL_ID_RE = /^[a-z0-9][a-z0-9_-]*$/;
const SHA256_RE = /^[0-9a-f]{64}$/;

interface EntryCommon {
  id: string;
  description?: string;
  append?: string;      // extra kernel command line
  lsm?: string;         // LSM axis, e.g. 'selinux'
  timeout?: number;     // seconds, overrides --timeout
  ci?: boolean;         // part of the CI smoke set
  /** Boot the guest on this Debian suite's own root (kernels/userspace.ts) instead of the host's. */
  root?: string;
}
export type KernelEntry = EntryCommon &
  (
    | { source: 'host' }
    | { source: 'debian'; suite: string; package: string; version?: string }
    | { source: 'path'; kernel: string; modules?: string }
    | { source: 'url'; url: string; sha256: string }
    | { source: 'build'; tree?: string; package?: string; suite?: string; config?: string[] }
    | { source: 'container' } & ContainerAxes
  );

/**
 * The userspace axis: a container on the running kernel, started from a locally built distro
 * image (kernels/userspace.ts), under a seccomp profile and an OCI runtime.
 */
export interface ContainerAxes {
  /** Debian suite of the image's userspace: bullseye, bookworm, trixie, ... */
  userspace: string;
  /** 'default' (Docker's built-in profile), 'unconfined', or an absolute path to a profile JSON file. */
  seccomp: string;
  /** The OCI runtime dockerd starts it with: runc or crun. */
  runtime: ContainerRuntime;
}
export const CONTAINER_RUNTIMES = ['runc', 'crun'] as const;
/** A seccomp axis value as reports show it: 'default', 'unconfined' or the profile file's name. */
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];
export type KernelSource = KernelEntry['source'];

export interface Matrix {
  file: string;
  kernels: KernelEntry[];
}

export class MatrixError extends Error {}

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

const KNOWN_KEYS: Record<KernelSource, string[]> = {
  host: [],
  debian: ['suite', 'package', 'version'],
  path: ['kernel', 'modules'],
  url: ['url', 'sha256'],
  build: ['tree', 'package', 'suite', 'config'],
  container: ['userspace', 'seccomp', 'runtime'],
};
const COMMON_KEYS = ['id', 'source', 'description', 'append', 'lsm', 'timeout', 'ci', 'root'];

export function parseMatrix(text: string, file: string): Matrix {
  const doc = parseDocument(text);
  if (doc.errors.length) {
    throw new MatrixError(`${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}\n  fix the syntax (see the comments at the top of kernels/matrix.yaml)`);
  }
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
  if (typeof source !== 'string' || !(source in KNOWN_KEYS)) {
    throw new MatrixError(`${at}: source ${JSON.stringify(source)} is not one of: ${Object.keys(KNOWN_KEYS).join(', ')}`);
  }
  const src = source as KernelSource;
  for (const k of Object.keys(o)) {
    if (!COMMON_KEYS.includes(k) && !KNOWN_KEYS[src].includes(k)) {
      throw new MatrixError(`${at}: unknown key '${k}' for source '${src}'; allowed: ${[...COMMON_KEYS, ...KNOWN_KEYS[src]].join(', ')}`);
    }
  }
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined || v === null) {
      if (required) throw new MatrixError(`${at}: source '${src}' needs '${k}:'`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') throw new MatrixError(`${at}: '${k}' must be a non-empty string`);
    return v;
  };
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
  switch (src) {
    case 'host':
      if (common.append || common.lsm) throw new MatrixError(`${at}: append/lsm need a guest; a 'host' entry runs on the running kernel as booted`);
      if (common.root) throw new MatrixError(`${at}: root: needs a guest (it is the root a guest boots); the host runs on its own root, or use a container cell for another userspace`);
      return { ...common, source: 'host' };
    case 'container': {
      if (common.append || common.lsm) throw new MatrixError(`${at}: append/lsm need a guest; a 'container' entry shares the running kernel as booted`);
      if (common.root) throw new MatrixError(`${at}: root: is a guest's root; a container's userspace is 'userspace:'`);
      const userspace = str('userspace', true)!;
      if (!/^[a-z][a-z0-9-]*$/.test(userspace)) throw new MatrixError(`${at}: userspace '${userspace}' is not a Debian suite name (bullseye, bookworm, trixie)`);
      const seccomp = str('seccomp', false) ?? 'default';
      const profile = seccomp === 'default' || seccomp === 'unconfined' ? seccomp : isAbsolute(seccomp) ? seccomp : resolve(baseDir, seccomp);
      if (profile !== seccomp || isAbsolute(seccomp)) {
        let text: string;
        try {
          text = readFileSync(profile, 'utf8');
        } catch {
          throw new MatrixError(`${at}: seccomp '${seccomp}' is neither 'default', 'unconfined' nor a readable profile file (${profile}); paths are relative to this matrix file`);
        }
        try {
          JSON.parse(text);
        } catch (e) {
          throw new MatrixError(`${at}: seccomp profile ${profile} is not valid JSON (${(e as Error).message}); see Docker's seccomp profile format`);
        }
      }
      const runtime = str('runtime', false) ?? 'runc';
      if (!(CONTAINER_RUNTIMES as readonly string[]).includes(runtime)) throw new MatrixError(`${at}: runtime '${runtime}' is not one of: ${CONTAINER_RUNTIMES.join(', ')}`);
      return { ...common, source: 'container', userspace, seccomp: profile, runtime: runtime as ContainerRuntime };
    }
    case 'debian': {
      const suite = str('suite', true)!;
      const pkg = str('package', true)!;
      if (!/^[a-z0-9][a-z0-9.+-]*$/.test(suite)) throw new MatrixError(`${at}: suite '${suite}' is not a Debian suite name (bookworm, trixie, sid, ...)`);
      if (!/^linux-image-[a-z0-9.+-]+$/.test(pkg)) throw new MatrixError(`${at}: package '${pkg}' should be a linux-image-* package, e.g. linux-image-amd64`);
      // version: pins the exact upload (reproducible runs); without it, the suite's current one.
      const version = o.version === undefined ? undefined : String(o.version);
      if (version !== undefined && !/^[0-9][A-Za-z0-9.+~:-]*$/.test(version)) throw new MatrixError(`${at}: version '${version}' is not a Debian package version (e.g. 6.1.176-1, as 'kernels list' shows)`);
      return { ...common, source: 'debian', suite, package: pkg, ...(version ? { version } : {}) };
    }
    case 'path': {
      const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
      const kernel = abs(str('kernel', true)!);
      const modules = str('modules', false);
      return { ...common, source: 'path', kernel, ...(modules ? { modules: abs(modules) } : {}) };
    }
    case 'url': {
      const url = str('url', true)!;
      if (!/^(https?|file):\/\//.test(url)) throw new MatrixError(`${at}: url '${url}' must be http://, https:// or file://`);
      const sha256 = str('sha256', true)!.toLowerCase();
      if (!SHA256_RE.test(sha256)) throw new MatrixError(`${at}: sha256 must be 64 hex digits (sha256sum of the file)`);
      return { ...common, source: 'url', url, sha256 };
    }
    case 'build': {
      const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
      const tree = str('tree', false);
      const pkg = str('package', false);
      if (!tree === !pkg) throw new MatrixError(`${at}: source 'build' needs exactly one of 'tree:' (a kernel source dir) or 'package:' (Debian's linux-source-X.Y)`);
      if (pkg && !/^linux-source(-[0-9.]+)?$/.test(pkg)) throw new MatrixError(`${at}: package '${pkg}' should be Debian's kernel source package, e.g. linux-source-6.1`);
      const suite = str('suite', false);
      if (suite && !pkg) throw new MatrixError(`${at}: 'suite:' goes with 'package:' (the Debian suite to fetch linux-source-X.Y from)`);
      const raw = o.config;
      const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
      if (!list.every((f) => typeof f === 'string' && f.trim())) throw new MatrixError(`${at}: 'config' must be a fragment path or a list of them (merged after kernels/configs/pidfd-minimal.config)`);
      return {
        ...common, source: 'build',
        ...(tree ? { tree: abs(tree) } : { package: pkg!, suite: suite ?? 'bookworm' }),
        ...(list.length ? { config: (list as string[]).map(abs) } : {}),
      };
    }
  }
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
