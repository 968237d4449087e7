// A kernel source kind is one module plus one registration line (issue 21): the demo kind of
// kernels/fixtures/demo-kind.ts, registered here, is parsed, fetched, listed and run as a real
// matrix cell by code that has never heard of it; and nothing outside kernels/sources/ asks
// which kind an entry is.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../../suites/lib/paths.js';
import { loadMatrix, parseMatrix, MatrixError } from '../matrix.js';
import { fetchKernel } from '../fetch.js';
import { bootTarget, registerSourceKind, sourceKind, sourceKindNames } from './index.js';
import { demo } from '../fixtures/demo-kind.js';
import { kernelsCommand } from '../../harness/commands/kernels.js';
import { runMatrix } from '../../harness/run/run-matrix.js';

const work = mkdtempSync(join(tmpdir(), 'pm-kinds-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const demoYaml = 'kernels:\n  - id: mine\n    source: demo\n    label: hello\n';

describe('a new source kind is one file plus one registration line', () => {
  it('before it is registered, source: demo is refused, naming the kinds there are', () => {
    expect(() => parseMatrix(demoYaml, 'm.yaml')).toThrow(/source "demo" is not one of: host, debian, path, url, build, container, mainline, kernel\.org/);
  });

  it('registered, it is parsed, fetched, listed and run as a matrix cell on the host', async () => {
    const unregister = registerSourceKind(demo); // the one line
    try {
      expect(sourceKindNames()).toContain('demo');
      // Parsing: the kind's own keys and errors; the common keys as for any kind.
      const [e] = parseMatrix(demoYaml, 'm.yaml').kernels;
      expect(e).toEqual({ id: 'mine', source: 'demo', label: 'hello' });
      expect(() => parseMatrix('kernels:\n  - id: x\n    source: demo\n', 'm.yaml')).toThrow(/source 'demo' needs 'label:'/);
      expect(() => parseMatrix('kernels:\n  - id: x\n    source: demo\n    label: hi\n    url: u\n', 'm.yaml'))
        .toThrow(/unknown key 'url' for source 'demo'; allowed: id, source, .*, label$/);
      expect(() => parseMatrix('kernels:\n  - id: x\n    source: demo\n    label: Hi\n', 'm.yaml')).toThrow(MatrixError);
      // Fetching and the system under test come from the kind.
      expect(bootTarget(e)).toEqual({ sut: 'host' });
      const k = await fetchKernel(e);
      expect(k.description).toBe("demo kernel 'hello' (the running one)");
      expect(sourceKind(e).describe(e)).toBe('demo hello');
      // kernels list, through the CLI command.
      const file = join(work, 'demo.yaml');
      writeFileSync(file, demoYaml);
      expect(loadMatrix(file).kernels[0].source).toBe('demo');
      const out: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      try {
        expect(await kernelsCommand.run(['list', '--matrix', file, '--offline'])).toBe(0);
      } finally {
        log.mockRestore();
      }
      expect(out.join('\n')).toMatch(/^mine\s+demo hello\s+nothing to cache for hello$/m);
      // A real matrix cell: the harness picks the host SUT from the kind's boot target.
      const outDir = join(work, 'reports');
      const run = await runMatrix({ kernels: [e], outDir, jobs: 1, timeoutSec: 120, accel: 'tcg', tests: ['pidfd_open'], command: 'kinds.test' });
      const [cell] = run.cells;
      expect(cell.error).toBeNull();
      expect(cell.mode).toBe('host');
      expect(cell.provenance.kernelSource).toBe("demo kernel 'hello' (the running one)");
      expect(cell.cases.filter((c) => c.id.startsWith('pidfd_open/')).length).toBeGreaterThan(0);
    } finally {
      unregister();
    }
    expect(() => parseMatrix(demoYaml, 'm.yaml')).toThrow(/is not one of/);
  }, 120_000);

  it('a name already taken is refused', () => {
    expect(() => registerSourceKind({ ...demo, name: 'debian' })).toThrow(/'debian' is already registered/);
  });
});

/** Non-test TypeScript sources under dir. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' || n === 'fixtures' ? [] : sources(p);
    return /(?<!\.test)\.ts$/.test(n) ? [p] : [];
  });
}

describe('nothing outside kernels/sources/ switches on source', () => {
  // What asking "which kind is it" looks like: a comparison or switch on `.source`, or a type
  // narrowed to one kind. Kinds are asked through kernels/sources/index.ts instead.
  const ASKS = [/\.source\s*[!=]==?\s*['"`]/, /switch\s*\(\s*[\w.]*\.source\s*\)/, /Extract<KernelEntry,\s*\{\s*source:/];
  it('no comparison of .source with a kind name, no switch on it, no type narrowed to a kind', () => {
    const files = ['harness', 'kernels', 'vm'].flatMap((d) => sources(join(REPO_ROOT, d)))
      .filter((f) => !relative(REPO_ROOT, f).startsWith('kernels/sources/'));
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').flatMap((line, i) =>
      ASKS.some((re) => re.test(line)) ? [`${relative(REPO_ROOT, f)}:${i + 1}: ${line.trim()}`] : []));
    expect(found).toEqual([]);
  });

  it('the check finds what it looks for', () => {
    for (const line of ["if (e.source === 'host') {", "switch (entry.source) {", "e: Extract<KernelEntry, { source: 'debian' }>", "k.source !== 'container'"])
      expect(ASKS.some((re) => re.test(line))).toBe(true);
    expect(ASKS.some((re) => re.test('const s = verified.source ?? x;'))).toBe(false);
  });
});
