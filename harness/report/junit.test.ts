import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { escAttr, escText, junitClassname, junitXml } from './junit.js';
import { fixtureCell, fixtureCells, useFixtureCatalog } from '../fixtures/load.js';

const XSD = fileURLToPath(new URL('./schema/junit.xsd', import.meta.url));

beforeAll(useFixtureCatalog);

/** Validate with xmllint against harness/report/schema/junit.xsd; returns xmllint's complaint or ''. */
function xsdErrors(xml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-junit-'));
  const file = join(dir, 'junit.xml');
  writeFileSync(file, xml);
  try {
    execFileSync('xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
    return '';
  } catch (e) {
    return String((e as { stderr?: Buffer }).stderr ?? e);
  }
}

const attr = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];
const testcases = (xml: string) => [...xml.matchAll(/<testcase [^>]*>[\s\S]*?<\/testcase>/g)].map((m) => m[0]);

describe('junitXml on the fixture run (every status, one cell error)', () => {
  const xml = () => junitXml(fixtureCells());

  it('validates against the JUnit XSD with xmllint', () => {
    expect(xsdErrors(xml())).toBe('');
  });

  it('the schema rejects what vitest writes (skipped without message, missing counts)', () => {
    const bad = '<?xml version="1.0"?><testsuites tests="1" failures="0" errors="0" time="0"><testsuite name="x" tests="1" failures="0" errors="0" skipped="1" time="0" timestamp="2026-01-01T00:00:00" hostname="h"><testcase classname="a.b" name="t" time="0"><skipped/></testcase></testsuite></testsuites>';
    expect(xsdErrors(bad)).toMatch(/skipped|message/);
  });

  it('testsuites totals count every testcase by outcome', () => {
    const doc = xml();
    const root = /<testsuites [^>]*>/.exec(doc)![0];
    // host 5 + trixie 5 + bookworm 5 (cell error: one error per catalog case)
    expect(attr(root, 'tests')).toBe('15');
    expect(attr(root, 'failures')).toBe('1');
    expect(attr(root, 'errors')).toBe(String(1 + 5));
    expect(attr(root, 'skipped')).toBe('3'); // host skip + host xfail + trixie xfail
    expect(Number(attr(root, 'time'))).toBeCloseTo((1834 + 41250 + 180000) / 1000, 3);
    expect(testcases(doc)).toHaveLength(15);
    expect(doc.match(/<failure /g)).toHaveLength(1);
    expect(doc.match(/<error /g)).toHaveLength(6);
    expect(doc.match(/<skipped /g)).toHaveLength(3);
  });

  it('one testsuite per kernel with timestamp, hostname, time and provenance properties', () => {
    const doc = xml();
    const suites = [...doc.matchAll(/<testsuite [^>]*>/g)].map((m) => m[0]);
    expect(suites.map((s) => attr(s, 'name'))).toEqual(['host', 'trixie', 'bookworm']);
    for (const s of suites) {
      expect(attr(s, 'timestamp')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
      expect(attr(s, 'hostname')).toBe('ci-runner-3');
      expect(attr(s, 'time')).toMatch(/^\d+\.\d{3}$/);
    }
    for (const p of ['kernel.release" value="6.12.57+deb13-amd64', 'kernel.source" value="debian trixie', 'accel" value="tcg',
      'lsm" value="selinux', 'qemu.version', 'virtme_ng.version" value="1.35', 'harness.rev" value="v0.1.0-12-gd9ddae9', 'kernel.config_hash" value="sha256:3f1c0d9e'])
      expect(doc).toContain(`<property name="${p}`);
    // unknown values are left out, not written as "null"
    expect(doc).not.toMatch(/value="null"/);
  });

  it('every (classname, name) pair is unique and classnames are <kernel-id without dots>.<area>', () => {
    const pairs = testcases(xml()).map((t) => `${attr(t, 'classname')} ${attr(t, 'name')}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const t of testcases(xml())) {
      const cls = attr(t, 'classname')!;
      expect(cls.split('.')).toHaveLength(2);
      expect(attr(t, 'name')).toMatch(/^[a-z0-9_]+\/[a-z0-9_]+$/);
    }
    expect(junitClassname('6.1.lts', 'core')).toBe('6_1_lts.core');
  });

  it('throws on duplicate (kernel, test) pairs instead of writing a misleading file', () => {
    expect(() => junitXml([fixtureCell('host'), fixtureCell('host')])).toThrow(/duplicate \(kernel, test\) pair host pidfd_open\/basic/);
  });

  it('skip and xfail carry a message; xfail is prefixed "xfail: "; xpass passes and says why in system-out', () => {
    const doc = xml();
    const skipped = [...doc.matchAll(/<skipped message="([^"]*)"\/>/g)].map((m) => m[1]);
    expect(skipped).toHaveLength(3);
    for (const m of skipped) expect(m.length).toBeGreaterThan(5);
    expect(skipped.filter((m) => m.startsWith('xfail: '))).toHaveLength(2);
    const xpass = testcases(doc).find((t) => t.includes('classname="host.ioctl" name="pidfd_info/cgroupid"'))!;
    expect(xpass).not.toMatch(/<failure|<error|<skipped/);
    expect(xpass).toContain('xpass: pidfd_info/cgroupid: works although');
  });

  it('a failure names expected and observed; system-out has observations, expected answer, reason, rerun and log', () => {
    const doc = xml();
    const fail = testcases(doc).find((t) => t.includes('<failure'))!;
    expect(fail).toContain('classname="trixie.ioctl" name="pidfd_info/exit_status"');
    expect(fail).toMatch(/<failure message="pidfd_info\/exit_status: kernel [^"]*" type="fail">expected \(with\): \{ exit_code: 7 \}/);
    expect(fail).toContain('observed: {');
    expect(fail).toContain('rerun: pidfd-matrix matrix --kernel trixie --test pidfd_info/exit_status');
    const withLog = testcases(doc).find((t) => t.includes('name="pidfd_getfd/basic"') && t.includes('trixie'))!;
    expect(withLog).toContain('log:\ntype=AVC');
    expect(withLog).toContain('&quot;same_inode&quot;: true'.replace(/&quot;/g, '"'));
  });

  it('a cell error becomes one <error> per catalog case with the console excerpt and the cell rerun', () => {
    const rows = testcases(xml()).filter((t) => t.includes('classname="bookworm.'));
    expect(rows.map((t) => attr(t, 'name'))).toEqual(['pidfd_open/basic', 'pidfd_open/nonblock', 'pidfd_getfd/basic', 'pidfd_info/exit_status', 'pidfd_info/cgroupid']);
    for (const t of rows) {
      expect(t).toMatch(/<error message="kernel bookworm did not run the suite: timeout: [^"]*" type="cell-error">/);
      expect(t).toContain('Kernel panic - not syncing');
      expect(t).toContain('rerun: pidfd-matrix matrix --kernel bookworm');
    }
  });

  it('escapes markup and replaces characters XML forbids', () => {
    expect(escText('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
    expect(escAttr(`"x"\n'y'\t`)).toBe('&quot;x&quot;&#10;&apos;y&apos;&#9;');
    expect(escText('nul\u0000 bell\u0007 esc\u001b ok\ttab')).toBe('nul\\x00 bell\\x07 esc\\x1b ok\ttab');
    expect(escText('lone \ud800 pair \ud83d\ude00')).toBe('lone \\xd800 pair \ud83d\ude00');
    const doc = xml();
    expect(doc).not.toMatch(/[\x00-\x08\x0B\x0C\x0E-\x1F]/);
    expect(doc).toContain('\\x1b[31m');
    expect(doc).toContain('&lt;/system-out&gt;');
  });

  it('a single-cell document (probe on the host) also validates', () => {
    expect(xsdErrors(junitXml([fixtureCell('host')]))).toBe('');
    expect(xsdErrors(junitXml([]))).toBe('');
  });
});

describe('a cell that panicked mid-run (error set, some cases recorded)', () => {
  beforeAll(useFixtureCatalog);
  it('keeps the recorded cases and marks only the missing ones as cell errors', () => {
    const cell = fixtureCell('trixie');
    cell.cases = cell.cases.slice(0, 2);
    cell.error = { reason: 'kernel panic during pidfd_getfd/basic', consoleExcerpt: 'Kernel panic' };
    const doc = junitXml([cell]);
    expect(xsdErrors(doc)).toBe('');
    const rows = testcases(doc);
    expect(rows).toHaveLength(5);
    expect(rows.filter((t) => t.includes('type="cell-error"')).map((t) => attr(t, 'name'))).toEqual(['pidfd_getfd/basic', 'pidfd_info/exit_status', 'pidfd_info/cgroupid']);
    expect(rows[0]).not.toContain('<error');
  });
});

// A JUnit consumer reads the file back: Debian's python3-junitparser (installed by
// scripts/setup/reports.sh), run with the system python so a pyenv/venv python does not hide it.
describe('read back by a JUnit consumer (python3-junitparser)', () => {
  beforeAll(useFixtureCatalog);
  it('shows one distinct row per (kernel, test) with the right outcome', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-jp-'));
    const file = join(dir, 'junit.xml');
    writeFileSync(file, junitXml(fixtureCells()));
    const script = `
import json, sys
from junitparser import JUnitXml
x = JUnitXml.fromfile(sys.argv[1])
rows = []
for s in x:
    for c in s:
        rows.append([s.name, c.classname, c.name, [type(r).__name__ for r in c.result]])
print(json.dumps({"tests": x.tests, "failures": x.failures, "errors": x.errors, "rows": rows}))`;
    const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }));
    expect(out).toMatchObject({ tests: 15, failures: 1, errors: 6 });
    const keys = out.rows.map((r: string[]) => `${r[1]} ${r[2]}`);
    expect(new Set(keys).size).toBe(15);
    const outcome = (cls: string, name: string) => out.rows.find((r: unknown[]) => r[1] === cls && r[2] === name)[3];
    expect(outcome('host.core', 'pidfd_open/basic')).toEqual([]);
    expect(outcome('host.fd', 'pidfd_getfd/basic')).toEqual(['Skipped']);
    expect(outcome('host.ioctl', 'pidfd_info/exit_status')).toEqual(['Skipped']);
    expect(outcome('host.ioctl', 'pidfd_info/cgroupid')).toEqual([]);
    expect(outcome('trixie.ioctl', 'pidfd_info/exit_status')).toEqual(['Failure']);
    expect(outcome('bookworm.core', 'pidfd_open/basic')).toEqual(['Error']);
  });
});
