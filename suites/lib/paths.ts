// The checkout's root, whether this module runs from source (vitest) or from dist/ (the CLI).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let d = start; d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'suites'))) return d;
  }
  throw new Error(`pidfd-matrix: cannot find the checkout root above ${start}`);
}

export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);
