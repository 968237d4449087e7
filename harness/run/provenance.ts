// Where a result came from: the harness revision is part of every cell's provenance.
import { execFileSync } from 'node:child_process';
import { REPO_ROOT as repo } from '../../suites/lib/paths.js';

export function harnessRevision(): string | null {
  try {
    return execFileSync('git', ['-C', repo, 'describe', '--always', '--dirty', '--abbrev=12'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}
