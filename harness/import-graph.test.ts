// The import-graph check of issue 21, on the real tree and on small planted trees (so it can fail).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkImports, importGraph } from './import-graph.js';
import { REPO_ROOT } from '../suites/lib/paths.js';

const trees: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pm-imports-'));
  trees.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
afterEach(() => {
  for (const t of trees.splice(0)) rmSync(t, { recursive: true, force: true });
});

describe('import graph', () => {
  it('the real tree has no import circle and no upward import', () => {
    const problems = checkImports(REPO_ROOT);
    expect(problems, `\n${problems.join('\n')}\n(fix: move the shared code down a layer; rules: harness/import-graph.ts)`).toEqual([]);
  });

  it('reads static, type-only, re-export and dynamic imports, not comments or packages', () => {
    const root = tree({
      'harness/a.ts': [
        "import { b } from './b.js';",
        "import type { C } from './c.js';",
        "export { d } from './d.js';",
        "const e = await import('./e.js');",
        "// import { f } from './f.js';",
        "import { readFile } from 'node:fs';",
      ].join('\n'),
      'harness/b.ts': '', 'harness/c.ts': '', 'harness/d.ts': '', 'harness/e.ts': '', 'harness/f.ts': '',
    });
    expect(importGraph(root).get('harness/a.ts')).toEqual(['harness/b.ts', 'harness/c.ts', 'harness/d.ts', 'harness/e.ts']);
  });

  it('names a planted circle whole and every planted upward edge', () => {
    const root = tree({
      'harness/reports.ts': "import { x } from './junit.js';\nexport const r = 1;",
      'harness/junit.ts': "import { y } from './util.js';\nexport const x = 1;",
      'harness/util.ts': "import type { r } from './reports.js';\nexport const y = 1;",
      'suites/lib/probe.ts': "import { judge } from '../../harness/judge.js';",
      'harness/judge.ts': 'export const judge = 1;',
      'vm/boot.ts': "import { judge } from '../harness/judge.js';",
      'harness/results.ts': "import type { Info } from '../vm/boot.js';",
    });
    const problems = checkImports(root);
    expect(problems).toContain('import circle: harness/junit.ts → harness/util.ts → harness/reports.ts → harness/junit.ts');
    expect(problems.filter((p) => p.startsWith('upward import: ')).map((p) => p.replace(/ \(.*\)$/, ''))).toEqual([
      'upward import: harness/results.ts → vm/boot.ts',
      'upward import: suites/lib/probe.ts → harness/judge.ts',
      'upward import: vm/boot.ts → harness/judge.ts',
    ]);
    expect(problems).toHaveLength(4);
  });

  it('names every file of a knot of several circles', () => {
    const root = tree({
      'harness/reports.ts': "import { a } from './html.js';\nimport { b } from './junit.js';",
      'harness/html.ts': "import { w } from './reports.js';",
      'harness/junit.ts': "import { w } from './reports.js';",
    });
    expect(checkImports(root)).toEqual([
      'import circle: harness/html.ts → harness/reports.ts → harness/html.ts',
      'import circles join 3 files: harness/html.ts, harness/junit.ts, harness/reports.ts',
    ]);
  });

  it('keeps the stage folders of harness/ in order: judge < report < run < commands', () => {
    const root = tree({
      'harness/judge/judge.ts': "import { w } from '../report/junit.js';\nimport { t } from '../report/report-text.js';",
      'harness/report/junit.ts': "import { m } from '../run/run-matrix.js';",
      'harness/report/report-text.ts': '',
      'harness/run/run-matrix.ts': "import { c } from '../commands/matrix.js';",
      'harness/commands/matrix.ts': "import { m } from '../run/run-matrix.js';",
    });
    expect(checkImports(root).map((p) => p.replace(/ \(.*\)$/, ''))).toEqual([
      'import circle: harness/commands/matrix.ts → harness/run/run-matrix.ts → harness/commands/matrix.ts',
      'upward import: harness/judge/judge.ts → harness/report/junit.ts',
      'upward import: harness/report/junit.ts → harness/run/run-matrix.ts',
      'upward import: harness/run/run-matrix.ts → harness/commands/matrix.ts',
    ]);
  });

  it('finds nothing in a clean tree', () => {
    const root = tree({ 'harness/a.ts': "import { b } from '../suites/b.js';", 'suites/b.ts': 'export const b = 1;' });
    expect(checkImports(root)).toEqual([]);
  });
});
