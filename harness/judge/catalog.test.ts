// The catalog is user-edited data: bad input must fail with a message naming the fix.
import { describe, expect, it } from 'vitest';
import { allCases, CatalogError, loadCatalog, parseCatalog } from './catalog.js';

const ok = `features:
  - id: f
    title: t
    area: a
    introduced: "5.3"
    without: { errno: ENOSYS }
    cases:
      - id: c
        probe: call
        with: { result: 0 }
`;

describe('catalog', () => {
  it('parses and inherits the feature-level without-answer and versions', () => {
    const [f] = parseCatalog(ok);
    expect(f.cases[0]).toMatchObject({ id: 'f/c', introduced: [5, 3, 0], without: { errno: 'ENOSYS' }, area: 'a' });
  });

  it('a deadline: on the feature or the case (seconds), null when neither sets one', () => {
    expect(parseCatalog(ok)[0].cases[0].deadline).toBeNull();
    expect(parseCatalog(ok.replace('    without', '    deadline: 60\n    without'))[0].cases[0].deadline).toBe(60);
    expect(parseCatalog(ok.replace('        probe: call', '        probe: call\n        deadline: 5'))[0].cases[0].deadline).toBe(5);
  });

  it.each([
    ['not yaml', 'features: [', /not valid YAML/],
    ['bad deadline', ok.replace('    without', '    deadline: soon\n    without'), /'deadline' must be a number of seconds between 1 and 3600/],
    ['no list', 'foo: 1', /'features:' list/],
    ['bad version', ok.replace('"5.3"', 'soon'), /'introduced' must be a kernel version/],
    ['dotted id', ok.replace('id: f', 'id: f.x'), /must match/],
    ['missing with', ok.replace('with: { result: 0 }', 'title: x'), /'with' is missing/],
    ['duplicate case', ok + `      - id: c\n        probe: p\n        with: { result: 1 }\n`, /duplicate case id 'c'/],
    ['unknown need', ok.replace('    without', '    needs: [wizard]\n    without'), /'needs' must be a list of/],
    ['unknown required feature', ok.replace('    without', '    requires: [pidfd_opne]\n    without'), /requires unknown feature 'pidfd_opne'/],
    ['requires not a list', ok.replace('    without', '    requires: pidfd_open\n    without'), /'requires' must be a list of feature ids/],
    ['requires cycle', ok.replace('    without', '    requires: [f]\n    without'), /cycle: f -> f/],
    ['unknown kind', ok.replace('    without', '    kind: regression\n    without'), /'kind' must be one of feature, change/],
  ])('rejects %s', (_name, text, msg) => {
    expect(() => parseCatalog(text, 'x.yaml')).toThrow(CatalogError);
    expect(() => parseCatalog(text, 'x.yaml')).toThrow(msg);
  });

  it('every requires id of the shipped catalog names a feature; cases newer than their feature require it', () => {
    const features = loadCatalog();
    const ids = new Set(features.map((f) => f.id));
    for (const c of allCases(features)) for (const r of c.requires) expect(ids.has(r.feature), `${c.id} requires ${r.feature}`).toBe(true);
    const zombie = allCases(features).find((c) => c.id === 'pidfd_getfd/esrch_zombie')!;
    expect(zombie.requires.map((r) => r.feature)).toEqual(['pidfd_open', 'pidfd_getfd']);
  });

  it('the shipped catalog loads, ids are unique and every case names its probe', () => {
    const cases = allCases(loadCatalog());
    expect(cases.length).toBeGreaterThan(10);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    for (const c of cases) expect(c.probe.length).toBeGreaterThan(0);
  });
});
