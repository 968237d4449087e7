// The one interface every kernel source kind implements (issue 21): a `source:` value of a
// matrix entry is one module under kernels/sources/, registered in kernels/sources/index.ts.
// Nothing outside that folder asks which kind an entry is; it asks the kind.
import type { KernelConfig } from '../config.js';
import type { KernelIdentity, KernelOrigin } from '../identity.js';
import type { BuildFailure } from '../build.js';

/** A bad matrix file or entry: the message names the file, the entry and the fix. */
export class MatrixError extends Error {}

/** A kernel that cannot be fetched (not there, checksum or signature wrong): bad input, exit 2. */
export class FetchError extends Error {}

/**
 * A download kind's mirror gave no HTTP answer (no network, a wrong host): not a bad entry, so
 * a matrix run makes that kernel an error cell, naming the mirror option, and runs the others.
 */
export class MirrorUnreachable extends FetchError {}

/** A kernel that did not build: its own outcome (an error cell), not bad input. */
export class BuildFailedError extends Error {
  constructor(readonly id: string, readonly failure: BuildFailure) {
    super(`${id}: ${failure.reason}\n  log: ${failure.logPath}`);
  }
}

export type Progress = (msg: string) => void;

/**
 * A matrix entry's architecture (`arch:`): the guest qemu emulates and the kernel image is for.
 * x86_64 (the host's, the default: absent) or arm64 (qemu-system-aarch64, TCG, on its own root).
 */
export const MATRIX_ARCHES = ['x86_64', 'arm64'] as const;
export type MatrixArch = (typeof MATRIX_ARCHES)[number];
/** An architecture other than the host's: what `arch:` holds when it is set. */
export type ForeignArch = Exclude<MatrixArch, 'x86_64'>;
/** Debian's name of each architecture (its kernel packages and roots). */
export const DEBIAN_ARCH: Record<MatrixArch, string> = { x86_64: 'amd64', arm64: 'arm64' };

/** The architecture an entry's guest (and kernel image) is: its `arch:`, else x86_64. */
export function entryArch(e: { arch?: ForeignArch }): MatrixArch {
  return e.arch ?? 'x86_64';
}

/** The keys every entry may have, whatever its source. */
export interface EntryCommon {
  id: string;
  description?: string;
  append?: string;      // extra kernel command line
  lsm?: string;         // LSM axis, e.g. 'selinux'
  timeout?: number;     // seconds, overrides --timeout
  ci?: boolean;         // part of the CI smoke set
  /** Boot the guest on this Debian suite's own root (kernels/userspace.ts) instead of the host's. */
  root?: string;
  /** Another architecture than x86_64 (absent: x86_64); needs `root:` (the host's binaries cannot run there). */
  arch?: ForeignArch;
}

/** An entry of some kind: the common keys, its `source:`, and the kind's own keys. */
export type AnyEntry = EntryCommon & { source: string };

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
  runtime: 'runc' | 'crun';
}

/**
 * The system under test that runs an entry's cells, as a tag the harness maps to a vm/
 * implementation (vm/sut.ts): the running kernel itself, a guest booting the fetched kernel,
 * or a container on the running kernel (with its axes).
 */
export type BootTarget = { sut: 'host' } | { sut: 'guest' } | { sut: 'container'; axes: ContainerAxes };
export type SutTag = BootTarget['sut'];

/** One .deb a kernel came from, as its signed index lists it, and the suite that carried it. */
export interface DebianPackage { package: string; version: string; sha256: string; suite?: string }

/** A kernel ready for `vng --run kimg` (or the running kernel, for entries that boot nothing). */
export interface FetchedKernel {
  id: string;
  source: string;
  kimg: string | null;         // null: the running kernel
  release: string;
  modulesDir: string | null;
  /** Human-readable provenance: debian bookworm linux-image-6.1.0-50-amd64=6.1.176-1, url+sha256, path. */
  description: string;
  cacheKey: string | null;
  /** True when this call downloaded something (false: served from the cache). */
  downloaded: boolean;
  /** `build` entries: the hash of the config recipe (fragments) and how long the (possibly cached) build took. */
  configHash?: string;
  build?: { seconds: number; cached: boolean; key: string; log: string };
  /** Packaged kernels: the exact .debs (version, sha256) the kernel was unpacked from. */
  packages?: DebianPackage[];
  /** The kernel's final build config and its sha256 (kernels/config.ts); null when it ships none. */
  config?: KernelConfig | null;
  /** Where it came from, as far as proven (kernels/identity.ts); absent: nothing is known beyond the image. */
  identity?: KernelIdentity;
  /** What the commit oracle may read: a git tree, a Debian changelog, or only the version. */
  origin?: KernelOrigin;
}

/** What a kind's parse() gets: the raw mapping, the common keys already checked, and helpers. */
export interface ParseContext {
  /** The raw YAML mapping of the entry. */
  o: Record<string, unknown>;
  /** "<file>: kernels[3] (id 'x')", the start of every error message. */
  at: string;
  common: EntryCommon;
  /** A string key: undefined when absent (an error naming the key when required), never empty. */
  str(key: string, required: boolean): string | undefined;
  /** A path relative to the matrix file, made absolute. */
  abs(path: string): string;
}

export interface FetchOptions {
  progress?: Progress;
  /** Re-read package lists or indexes even when fresh. */
  refresh?: boolean;
  /** The cache root (default cacheRoot()). */
  cache?: string;
}
export interface FetchContext { say: Progress; root: string; refresh: boolean }

/** For `kernels list`: what the cache holds for an entry. */
export interface StatusContext {
  /** --offline: the cache only, no network. */
  offline: boolean;
  root: string;
}

/**
 * A kernel source kind. Methods (not function properties) so that a kind typed on its own
 * entry fits the table of all kinds.
 */
export interface SourceKind<E extends AnyEntry = AnyEntry> {
  /** The `source:` value. */
  readonly name: string;
  /** The kind's own keys (besides EntryCommon's), for the "unknown key" error. */
  readonly keys: readonly string[];
  /** Checks and normalizes the kind's own keys; throws MatrixError naming the fix. */
  parse(c: ParseContext): E;
  /** Which system under test runs the entry's cells. */
  bootsOn(e: E): BootTarget;
  /** The kernel, from the cache or fetched (or built) into it. */
  fetch(e: E, c: FetchContext): Promise<FetchedKernel>;
  /** The build config of the fetched kernel, when it ships one. */
  config(e: E, k: FetchedKernel): KernelConfig | null;
  /** Where the entry's kernel comes from, in one phrase (`kernels list`). */
  describe(e: E): string;
  /** What the cache holds for the entry (`kernels list`): '-' for nothing, '' when there is nothing to cache. */
  cacheStatus(e: E, c: StatusContext): Promise<string>;
}
