// The import-graph check (issue 21): no import circle and no upward import between the
// top-level folders. It reads the TypeScript sources with the compiler's own import scanner
// (static, `export ... from`, type-only and dynamic `import('...')`), so a comment that merely
// mentions an import does not count. Tests (*.test.ts) are left out: nothing imports them,
// and they may reach across layers to build fixtures.
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** The folders whose sources form the graph, lowest layer first. */
export const ROOTS = ['suites', 'kernels', 'vm', 'harness'] as const;

/** A rule: files matching `from` must not import files matching any of `never`. Prefixes are repo-relative. */
export interface LayerRule {
  from: string[];
  never: string[];
  /** Files under `never` that are still allowed. */
  unless?: string[];
  why: string;
}

/** The results schema: the one harness/ module kernels/ and vm/ may import (types they record into). */
const SCHEMA = ['harness/results.ts'];

/** The report writers (harness/report/) and the results schema: pure functions of results, so they stay below kernels/ and vm/. */
export const REPORT_FILES = ['harness/results.ts', 'harness/status.ts', 'harness/report/'];

/** The stages of harness/, lowest first: judge, then report, run and bisect; commands/ and cli.ts on top. */
const STAGES_ABOVE_JUDGE = ['harness/run/', 'harness/report/', 'harness/bisect/', 'harness/commands/', 'harness/cli.ts'];
const COMMANDS = ['harness/commands/', 'harness/cli.ts'];

/**
 * The layers, as data. suites/ is the bottom: probes observe, and run in guests without the
 * host side. kernels/ (fetch, build) and vm/ (boot) sit above it; the harness/ orchestration
 * above them may call both (a matrix run boots guests; judge/health.ts reads a console with
 * vm/console.ts). One harness file is below kernels/ and vm/: the results schema
 * (harness/results.ts), the vocabulary they record a kernel's identity and a container in. The
 * report writers and the schema describe results only, so they never import kernels/ or vm/.
 * Inside harness/ the stage folders are layers too: judge/ < report/ < run/ and bisect/ <
 * commands/ < cli.ts.
 */
export const LAYER_RULES: LayerRule[] = [
  { from: ['suites/'], never: ['harness/', 'kernels/', 'vm/'], why: 'probes observe; they run in a guest without the host side' },
  { from: ['vm/'], never: ['harness/'], unless: SCHEMA, why: 'booting a system under test knows nothing of judging or reports' },
  { from: ['kernels/'], never: ['harness/'], unless: SCHEMA, why: 'fetching and building kernels knows nothing of judging or reports' },
  { from: REPORT_FILES, never: ['kernels/', 'vm/'], why: 'the results schema and writers describe results, not how they were made' },
  {
    from: ['harness/judge/'], never: STAGES_ABOVE_JUDGE,
    // The shared display helpers (escaping, the seccomp profile's label) import nothing of the harness.
    unless: ['harness/report/report-text.ts'],
    why: 'judging is a function of observations and the catalog, not of how they are run or written',
  },
  { from: ['harness/report/'], never: ['harness/run/', 'harness/bisect/', ...COMMANDS], why: 'writers render results; they do not run anything' },
  { from: ['harness/run/', 'harness/bisect/'], never: COMMANDS, why: 'the CLI calls the stages, never the other way' },
  { from: ['harness/results.ts', 'harness/status.ts'], never: ['harness/run/', 'harness/judge/', 'harness/report/', 'harness/bisect/', ...COMMANDS], why: 'the results schema is the bottom of harness/' },
];

export type Graph = Map<string, string[]>;

function sources(root: string, dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(p).isDirectory()) sources(root, p, out);
    else if (/(?<!\.test|\.d)\.ts$/.test(name)) out.push(relative(root, p).split(sep).join('/'));
  }
}

/** './x.js' → 'dir/x.ts' (NodeNext spelling), './x' → x.ts or x/index.ts; null when not a TypeScript file. */
function resolveSpec(root: string, fromFile: string, spec: string): string | null {
  const base = resolve(root, dirname(fromFile), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  for (const c of candidates) if (c.endsWith('.ts') && existsSync(c) && statSync(c).isFile()) return relative(root, c).split(sep).join('/');
  return null;
}

/** Every relative import edge between the sources under `root`'s ROOTS folders. */
export function importGraph(root: string): Graph {
  const files: string[] = [];
  for (const r of ROOTS) sources(root, join(root, r), files);
  const graph: Graph = new Map();
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(join(root, f), 'utf8'), true, true);
    const targets = new Set<string>();
    for (const imp of info.importedFiles) {
      if (!imp.fileName.startsWith('.')) continue;
      const t = resolveSpec(root, f, imp.fileName);
      if (t && t !== f) targets.add(t);
    }
    graph.set(f, [...targets].sort());
  }
  return graph;
}

/** The knots of the graph: files that reach each other (Tarjan's strongly connected components). */
export function knots(graph: Graph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const comps: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) comps.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return comps.map((c) => c.sort());
}

/** One whole circle per knot, as the files in order with the first repeated at the end. */
export function findCycles(graph: Graph): string[][] {
  // The shortest path from the knot's first file back to itself.
  return knots(graph).map((comp) => {
    const inComp = new Set(comp);
    const start = [...comp].sort()[0]!;
    const prev = new Map<string, string>();
    const queue = [start];
    const seen = new Set([start]);
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of graph.get(v) ?? []) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
          return [...path, start];
        }
        if (!seen.has(w)) {
          seen.add(w);
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return [start, start];
  });
}

const matches = (file: string, prefixes: string[]): boolean => prefixes.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));

/** Every edge that breaks a layer rule, as "from → to (why)". */
export function upwardImports(graph: Graph, rules: LayerRule[] = LAYER_RULES): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    for (const rule of rules) {
      if (!matches(from, rule.from)) continue;
      for (const to of targets) if (matches(to, rule.never) && !matches(to, rule.unless ?? [])) out.push(`${from} → ${to} (${rule.why})`);
    }
  }
  return out.sort();
}

/** The whole check: one line per problem, empty when the tree is clean. */
export function checkImports(root: string, rules: LayerRule[] = LAYER_RULES): string[] {
  const graph = importGraph(root);
  const cycles = findCycles(graph);
  return [
    ...cycles.map((c) => `import circle: ${c.join(' → ')}`),
    // A knot of several circles: name every file in it, not only the one circle shown.
    ...knots(graph).filter((k, i) => k.length > cycles[i]!.length - 1).map((k) => `import circles join ${k.length} files: ${k.join(', ')}`),
    ...upwardImports(graph, rules).map((e) => `upward import: ${e}`),
  ];
}
