// `--list`: the test ids a run would report, with their feature and area, one per line.
import { allCases, loadCatalog } from '../judge/catalog.js';

export function listTests(filter?: string[]): string {
  const cases = allCases(loadCatalog()).filter((c) => !filter?.length || filter.some((t) => t === c.id || t === c.feature));
  const w = Math.max(4, ...cases.map((c) => c.id.length));
  const fw = Math.max(7, ...cases.map((c) => c.feature.length));
  return [`${'test'.padEnd(w)}  ${'feature'.padEnd(fw)}  area`, ...cases.map((c) => `${c.id.padEnd(w)}  ${c.feature.padEnd(fw)}  ${c.area}`)].join('\n');
}
