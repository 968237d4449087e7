// suites/catalog/upstream.yaml: every selftest function and LTP test of issue 20 is a row with one
// status, `no` rows carry a reason, ids exist in the catalog; the README table is its output.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from './catalog.js';
import { catalogCommand } from '../commands/catalog.js';
import { UsageError } from '../commands/types.js';
import { capture } from '../fixtures/capture.js';
import { repoPath } from '../../suites/lib/paths.js';
import { coverageMarkdown, loadCoverage, parseCoverage, UpstreamError } from './upstream.js';

const features = loadCatalog(repoPath('suites/catalog'));
const doc = (test: string) => `selftests:\n  - file: x.c\n    revision: abc\n    tests:\n${test}\nltp: []\n`;

describe('upstream coverage map', () => {
  it('the real upstream.yaml loads against the real catalog and names every upstream file of issue 20', () => {
    const c = loadCoverage(features);
    const files = new Set(c.rows.map((r) => r.file));
    for (const f of ['pidfd_fdinfo_test.c', 'pidfd_setns_test.c', 'pidfd_info_test.c', 'pidfd_file_handle_test.c', 'pidfd_test.c',
      'pidfd_wait.c', 'pidfd_poll_test.c', 'pidfd_getfd_test.c', 'pidfd_xattr_test.c', 'pidfd_autoreap_test.c', 'pidfd_open_test.c',
      'pidfd_bind_mount.c', 'pidfd_setattr_test.c']) expect(files, f).toContain(f);
    const ltp = new Set(c.rows.filter((r) => r.suite === 'ltp').map((r) => r.test));
    for (const t of ['pidfd_open01', 'pidfd_open04', 'pidfd_send_signal01', 'pidfd_send_signal03', 'pidfd_getfd02', 'clone301', 'clone304',
      'ioctl_pidfd01', 'ioctl_pidfd06', 'fanotify20', 'fanotify21']) expect(ltp, t).toContain(t);
    for (const r of c.rows.filter((x) => x.status !== 'yes')) expect(r.reason, `${r.file} ${r.test}`).not.toBe('');
    // must-show (issue 20): every `no` row of the real file carries a reason, none a placeholder
    for (const r of c.rows.filter((x) => x.status === 'no'))
      expect(r.reason, `${r.file} ${r.test}`).not.toMatch(/not (probed|checked) yet|todo/i);
  });

  it('an id the catalog does not have is a load error that names it', () => {
    expect(() => parseCoverage(doc('      - test: t1\n        covered: [pidfd_open/self, pidfd_open/no_such_case]'), 'u.yaml', features))
      .toThrow(/unknown case id.*\n.*x\.c t1: 'pidfd_open\/no_such_case'/);
    // A feature id stands for its cases.
    expect(parseCoverage(doc('      - test: t1\n        covered: [pidfd_open]'), 'u.yaml', features).rows[0].status).toBe('yes');
  });

  it('a no without a reason, a partly without missing, or two statuses are load errors', () => {
    expect(() => parseCoverage(doc('      - test: t1\n        no: ""'), 'u.yaml', features)).toThrow(/'no' without a reason/);
    expect(() => parseCoverage(doc('      - test: t1\n        no:'), 'u.yaml', features)).toThrow(/'no' without a reason/);
    // a placeholder says that nothing checks it, not why
    const placeholders = ['not probed yet: the zombie case (issue 20)', 'TODO', 'Not checked yet', 'later', 'n/a', 'too short'];
    for (const placeholder of placeholders)
      expect(() => parseCoverage(doc(`      - test: t1\n        no: "${placeholder}"`), 'u.yaml', features), placeholder)
        .toThrow(/says that it is not checked, not why/);
    const reasoned = doc('      - test: t1\n        no: "setns through /proc/<pid>/ns files has no pidfd in it"');
    expect(parseCoverage(reasoned, 'u.yaml', features).rows[0].reason).toMatch(/no pidfd/);
    expect(() => parseCoverage(doc('      - test: t1\n        partly: [pidfd_open/self]'), 'u.yaml', features)).toThrow(/must say what is 'missing:'/);
    expect(() => parseCoverage(doc('      - test: t1\n        covered: [pidfd_open/self]\n        no: "x"'), 'u.yaml', features)).toThrow(/exactly one of/);
    expect(() => parseCoverage(doc('      - test: t1'), 'u.yaml', features)).toThrow(/exactly one of .* \(found none\)/);
    expect(() => parseCoverage('selftests:\n  - file: x.c\n    tests: []\nltp: []\n', 'u.yaml', features)).toThrow(/'revision:'/);
  });

  it('catalog --coverage lists every row with totals; --markdown is the README table', async () => {
    const io = capture();
    expect(await catalogCommand.run(['--coverage'])).toBe(0);
    const c = loadCoverage(features);
    expect(io.out()).toMatch(new RegExp(`^all: ${c.rows.length} tests, \\d+ covered, \\d+ partly, \\d+ not$`, 'm'));
    expect(io.out()).toMatch(/^ {2}no {5}nsfd_incremental_setns\n {9}why: /m); // a row that stays `no`
    const md = capture();
    expect(await catalogCommand.run(['--coverage', '--markdown'])).toBe(0);
    expect(md.out().trim()).toBe(coverageMarkdown(c));
    const readme = readFileSync(repoPath('README.md'), 'utf8');
    const block = /<!-- coverage-table:[^\n]*-->\n([\s\S]*?)\n<!-- \/coverage-table -->/.exec(readme)?.[1];
    expect(block, 'README.md coverage table: regenerate with npx pidfd-matrix catalog --coverage --markdown').toBe(coverageMarkdown(c));
    await expect(catalogCommand.run(['--markdown'])).rejects.toThrow(UsageError);
  });

  it('an unreadable upstream.yaml names its path', () => {
    expect(() => loadCoverage(features, '/nonexistent/upstream.yaml')).toThrow(UpstreamError);
  });
});
