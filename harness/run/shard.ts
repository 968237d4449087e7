// Deterministic shards of a matrix for CI engines that fan one job out over N runners
// (GitLab parallel:matrix, GitHub matrix, Kubernetes Indexed Jobs): shard K of N takes every
// N-th kernel starting at K-1, in matrix order, so each runner knows its cells without talking
// to the others and every kernel lands in exactly one shard.
export interface Shard { index: number; total: number }

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN, total = m ? Number(m[2]) : NaN;
  if (!m || total < 1 || index < 1 || index > total)
    throw new Error(`--shard wants K/N with 1 <= K <= N (e.g. 1/2, as GitLab's CI_NODE_INDEX/CI_NODE_TOTAL), got '${text}'`);
  return { index, total };
}

export function shardOf<T>(items: T[], s: Shard): T[] {
  return items.filter((_, i) => i % s.total === s.index - 1);
}
