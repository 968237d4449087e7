// docs/pidfd-reference.md is the document the probes and the catalog cite as "reference §N":
// every citation must name a section it has, and its text must stay the shared reference's.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath, REPO_ROOT } from '../suites/lib/paths.js';

const DOC = repoPath('docs/pidfd-reference.md');
const SHARED = join(REPO_ROOT, '..', 'shared', 'reference', 'pidfd-kernel-reference.md');
/** The note on top of the copy: one line and a blank line. */
const NOTE_LINES = 2;

function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') continue;
    if (statSync(p).isDirectory()) files(p, out);
    else if (/\.(ts|ya?ml|md|cil)$/.test(name)) out.push(p);
  }
  return out;
}

describe('docs/pidfd-reference.md', () => {
  it('has every section that "reference §N" cites', () => {
    const sections = new Set([...readFileSync(DOC, 'utf8').matchAll(/^#{2,3} (\d+(?:\.\d+)?)[. ]/gm)].map((m) => m[1]));
    const cited = new Map<string, string>();
    for (const f of [...['suites', 'harness', 'kernels', 'vm'].flatMap((d) => files(repoPath(d))), repoPath('README.md')]) {
      for (const m of readFileSync(f, 'utf8').matchAll(/reference §(\d+(?:\.\d+)?)/gi)) cited.set(m[1], relative(REPO_ROOT, f));
    }
    expect(cited.size).toBeGreaterThan(5);
    const missing = [...cited].filter(([n]) => !sections.has(n)).map(([n, f]) => `§${n} (cited in ${f})`);
    expect(missing).toEqual([]);
  });

  it.skipIf(!existsSync(SHARED))('is the shared reference, unchanged below its note', () => {
    const copy = readFileSync(DOC, 'utf8').split('\n').slice(NOTE_LINES).join('\n');
    expect(copy === readFileSync(SHARED, 'utf8'), `${DOC} differs from ${SHARED}: copy it again and date the note`).toBe(true);
  });
});
