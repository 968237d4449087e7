// The checkout root is found the same way by probes and harness: suites/lib/paths.ts.
export { REPO_ROOT, repoPath } from '../suites/lib/paths.js';
