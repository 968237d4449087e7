// Loads and validates the feature catalog (suites/catalog/*.yaml, one file per area): the data a user
// edits to change what is probed and what each kernel is expected to answer.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseVersion, type Version } from './version.js';
import type { Observation } from './results.js';
import { repoPath } from './paths.js';

/** One YAML file per area; a user edits them without touching TypeScript. */
export const CATALOG_PATH = repoPath('suites/catalog');

/** Facts a case can require; anything else is a catalog error. */
export const NEEDS = ['root', 'unprivileged', 'x86_64', 'selinux', 'not-container'] as const;
export type Need = (typeof NEEDS)[number];

export interface BrokenRange { from: Version; to: Version; reason: string; ref?: string }

/**
 * feature: a kernel before `introduced` lacks it, so its `without` answer is a skip ("absent as
 * expected"). change: the answer changed at `introduced` (anon_inode -> pidfs, EBADF -> ESRCH);
 * both answers are defined behaviour, so an older kernel giving `without` is a pass.
 */
export const KINDS = ['feature', 'change'] as const;
export type Kind = (typeof KINDS)[number];

export interface Expectation {
  kind: Kind;
  introduced: Version;        // first mainline release with the feature (or fix)
  backports: Version[];       // stable releases that carry it earlier ("6.18.14")
  broken: BrokenRange[];      // [from, to) releases known to give the `without` answer
  needs: Need[];
}

export interface CatalogCase extends Expectation {
  feature: string;
  id: string;                 // `<feature>/<case>`
  case: string;
  area: string;
  title: string;
  probe: string;              // what the probe does, for humans
  with: Answer;               // answer of a kernel that has the feature
  without: Answer | null;     // answer of a kernel that lacks it (null: none is defined)
  ref: string;
}

export interface CatalogFeature {
  id: string;
  title: string;
  area: string;
  ref: string;
  changes: string[];
  cases: CatalogCase[];
}

/** Expected observation keys and values; a list of maps means "any of these answers". */
export type Answer = Observation | Observation[];

export class CatalogError extends Error {}

const ID = /^[a-z0-9][a-z0-9_]*$/;

function fail(where: string, msg: string): never {
  throw new CatalogError(`${where}: ${msg}`);
}

function version(where: string, field: string, v: unknown): Version {
  const parsed = typeof v === 'string' || typeof v === 'number' ? parseVersion(String(v)) : null;
  if (!parsed) fail(where, `'${field}' must be a kernel version like "5.3" or "6.18.14" (quote it), got ${JSON.stringify(v)}`);
  return parsed;
}

/** An answer is a map of observation keys to values, or a list of such maps (any of them). */
function answer(where: string, field: string, v: unknown): Answer {
  const isMap = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0;
  if (Array.isArray(v) ? v.length === 0 || !v.every(isMap) : !isMap(v))
    fail(where, `'${field}' must be a non-empty map of observation keys to expected values, e.g. { errno: ENOSYS }, or a list of such maps`);
  return v as Answer;
}

function str(where: string, field: string, v: unknown, optional = false): string {
  if (v === undefined && optional) return '';
  if (typeof v !== 'string' || !v.trim()) fail(where, `'${field}' must be a non-empty string`);
  return v;
}

function expectation(where: string, raw: Record<string, unknown>, inherit?: Expectation): Expectation {
  const needs = (raw.needs ?? inherit?.needs ?? []) as unknown;
  if (!Array.isArray(needs) || needs.some((n) => !NEEDS.includes(n as Need)))
    fail(where, `'needs' must be a list of ${NEEDS.join(', ')}`);
  const broken = (raw.broken ?? null) as unknown;
  if (broken !== null && !Array.isArray(broken)) fail(where, `'broken' must be a list of {from, to, reason}`);
  const backports = (raw.backports ?? null) as unknown;
  if (backports !== null && !Array.isArray(backports)) fail(where, `'backports' must be a list of versions`);
  if (raw.introduced === undefined && !inherit) fail(where, `'introduced' is missing (the first kernel version with the feature)`);
  const kind = (raw.kind ?? inherit?.kind ?? 'feature') as unknown;
  if (!KINDS.includes(kind as Kind)) fail(where, `'kind' must be one of ${KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  return {
    kind: kind as Kind,
    introduced: raw.introduced === undefined ? inherit!.introduced : version(where, 'introduced', raw.introduced),
    backports: backports === null ? inherit?.backports ?? [] : (backports as unknown[]).map((b) => version(where, 'backports', b)),
    broken: broken === null
      ? inherit?.broken ?? []
      : (broken as Record<string, unknown>[]).map((b, i) => ({
          from: version(`${where} broken[${i}]`, 'from', b.from),
          to: version(`${where} broken[${i}]`, 'to', b.to),
          reason: str(`${where} broken[${i}]`, 'reason', b.reason),
          ref: typeof b.ref === 'string' ? b.ref : undefined,
        })),
    needs: needs as Need[],
  };
}

export function parseCatalog(text: string, file = 'catalog.yaml'): CatalogFeature[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CatalogError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const list = (doc as { features?: unknown } | null)?.features;
  if (!Array.isArray(list)) fail(file, `top level must be a map with a 'features:' list`);
  const seen = new Set<string>();
  return list.map((rawF: Record<string, unknown>, i: number) => {
    const at = `${file} features[${i}]${typeof rawF?.id === 'string' ? ` (${rawF.id})` : ''}`;
    if (!rawF || typeof rawF !== 'object') fail(at, 'each feature must be a map');
    const id = str(at, 'id', rawF.id);
    if (!ID.test(id)) fail(at, `id '${id}' must match ${ID} (it becomes part of JUnit names)`);
    if (seen.has(id)) fail(at, `duplicate feature id '${id}'`);
    seen.add(id);
    const area = str(at, 'area', rawF.area);
    if (!ID.test(area)) fail(at, `area '${area}' must match ${ID}`);
    const base = expectation(at, rawF);
    const featWithout = rawF.without === undefined ? null : answer(at, 'without', rawF.without);
    if (!Array.isArray(rawF.cases) || rawF.cases.length === 0) fail(at, `'cases' must list at least one case`);
    const caseIds = new Set<string>();
    const cases = (rawF.cases as Record<string, unknown>[]).map((rawC, j) => {
      const cat = `${at} cases[${j}]${typeof rawC?.id === 'string' ? ` (${rawC.id})` : ''}`;
      const cid = str(cat, 'id', rawC.id);
      if (!ID.test(cid)) fail(cat, `case id '${cid}' must match ${ID}`);
      if (caseIds.has(cid)) fail(cat, `duplicate case id '${cid}'`);
      caseIds.add(cid);
      if (rawC.with === undefined) fail(cat, `'with' is missing (the answer of a kernel that has the feature)`);
      return {
        ...expectation(cat, rawC, base),
        feature: id,
        id: `${id}/${cid}`,
        case: cid,
        area,
        title: str(cat, 'title', rawC.title, true) || str(at, 'title', rawF.title),
        probe: str(cat, 'probe', rawC.probe),
        with: answer(cat, 'with', rawC.with),
        without: rawC.without === undefined ? featWithout : rawC.without === null ? null : answer(cat, 'without', rawC.without),
        ref: typeof rawC.ref === 'string' ? rawC.ref : typeof rawF.ref === 'string' ? rawF.ref : '',
      } satisfies CatalogCase;
    });
    const changes = rawF.changes ?? [];
    if (!Array.isArray(changes) || changes.some((c) => typeof c !== 'string')) fail(at, `'changes' must be a list of strings`);
    return { id, title: str(at, 'title', rawF.title), area, ref: typeof rawF.ref === 'string' ? rawF.ref : '', changes, cases };
  });
}

let cached: CatalogFeature[] | null = null;

/** Load a catalog file, or every *.yaml file of a catalog directory; feature ids must be unique. */
export function loadCatalog(path = process.env.PIDFD_MATRIX_CATALOG ?? CATALOG_PATH): CatalogFeature[] {
  if (path === CATALOG_PATH && cached) return cached;
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => f.endsWith('.yaml')).sort().map((f) => join(path, f))
    : [path];
  const features: CatalogFeature[] = [];
  const where = new Map<string, string>();
  for (const file of files) {
    for (const f of parseCatalog(readFileSync(file, 'utf8'), file)) {
      if (where.has(f.id)) throw new CatalogError(`${file}: feature id '${f.id}' is already defined in ${where.get(f.id)}`);
      where.set(f.id, file);
      features.push(f);
    }
  }
  if (path === CATALOG_PATH) cached = features;
  return features;
}

export function allCases(features: CatalogFeature[]): CatalogCase[] {
  return features.flatMap((f) => f.cases);
}
