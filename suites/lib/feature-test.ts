// How a probe file declares its probes: `featureSuite(featureId, { caseId: probe }, opts)` puts
// them in a registry that the runner (suites/lib/runner.ts) reads. Nothing here judges: the
// runner streams each observation out, and the host compares it with the catalog.
import type { Observation, ObservedFacts } from './observation.js';

export type Probe = (facts: ObservedFacts) => Observation | Promise<Observation>;

/** Optional per-case hook: text captured around the probe (e.g. AVC lines) for JUnit system-out. */
export interface SuiteOptions { takeLog?: () => string }

export interface RegisteredSuite { featureId: string; probes: Record<string, Probe>; opts: SuiteOptions; file?: string }

const registry = new Map<string, RegisteredSuite>();
let loadingFile: string | undefined;

/** The runner names the file it imports, so a duplicate registration says where both are. */
export function loadingSuiteFile(file: string | undefined): void {
  loadingFile = file;
}

export function featureSuite(featureId: string, probes: Record<string, Probe>, opts: SuiteOptions = {}): void {
  const earlier = registry.get(featureId);
  if (earlier) throw new Error(`feature '${featureId}' is registered twice (${earlier.file ?? '?'} and ${loadingFile ?? '?'})`);
  registry.set(featureId, { featureId, probes, opts, file: loadingFile });
}

export function registeredSuites(): ReadonlyMap<string, RegisteredSuite> {
  return registry;
}
