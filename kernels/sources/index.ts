// The table of kernel source kinds: a matrix entry's `source:` names one of these. Adding a
// kind is one module implementing SourceKind (kernels/sources/types.ts) and one line below.
import type { AnyEntry, BootTarget, SourceKind } from './types.js';
import { host } from './host.js';
import { debian } from './debian.js';
import { path } from './path.js';
import { url } from './url.js';
import { build } from './build.js';
import { container } from './container.js';
import { mainline } from './mainline.js';
import { kernelOrg } from './kernel-org.js';

/** The kinds this checkout ships, in the order errors and help list them. */
const BUILTIN = [host, debian, path, url, build, container, mainline, kernelOrg] as const;

type EntryOf<K> = K extends SourceKind<infer E> ? E : never;
/** A parsed matrix entry: one of the shipped kinds' entries. */
export type KernelEntry = EntryOf<(typeof BUILTIN)[number]>;
export type KernelSource = KernelEntry['source'];

const KINDS = new Map<string, SourceKind>(BUILTIN.map((k) => [k.name, k as SourceKind]));

/** The kind named by `source:`, or undefined. */
export function findSourceKind(name: string): SourceKind | undefined {
  return KINDS.get(name);
}

/** Every registered `source:` value. */
export function sourceKindNames(): string[] {
  return [...KINDS.keys()];
}

/** The kind of a parsed entry (it was parsed by that kind, so it is registered). */
export function sourceKind(e: AnyEntry): SourceKind {
  const k = KINDS.get(e.source);
  if (!k) throw new Error(`no kernel source kind '${e.source}' is registered (kernels/sources/index.ts)`);
  return k;
}

/** Which system under test runs an entry's cells. */
export function bootTarget(e: AnyEntry): BootTarget {
  return sourceKind(e).bootsOn(e);
}

/** Boots a kernel of its own under virtme-ng (not the host, not a container on the host's kernel). */
export function isGuest(e: AnyEntry): boolean {
  return bootTarget(e).sut === 'guest';
}

/**
 * Adds a kind at run time (a plug-in, or a test's demo kind); returns the function that removes
 * it again. A name already taken is refused: kinds are found by name.
 */
export function registerSourceKind<E extends AnyEntry>(kind: SourceKind<E>): () => void {
  if (KINDS.has(kind.name)) throw new Error(`a kernel source kind '${kind.name}' is already registered`);
  KINDS.set(kind.name, kind as unknown as SourceKind);
  return () => void KINDS.delete(kind.name);
}
