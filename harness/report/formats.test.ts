// The report formats are a list: a new writer is one new file (here, the demo writer below)
// plus one registration line, and `--reports` selects it like the built-in ones.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_REPORTS, registerWriter, ReportsError, selectWriters, writerNames, writersHelp } from './formats.js';
import { writeCellReports, writeMatrixReports } from './reports.js';
import type { ReportWriter } from './writer.js';
import { fixtureCell, fixtureCells } from '../fixtures/load.js';
import { effectiveCases } from './table.js';

// The "new file": a writer of one CSV line per kernel and test.
const csvWriter: ReportWriter = {
  name: 'csv',
  description: 'results.csv: kernel,test,status',
  run: (cells, ctx) => [{
    path: 'results.csv',
    content: ['kernel,test,status', ...cells.flatMap((c) => effectiveCases(c, ctx.rows).map((k) => `${c.kernelId},${k.id},${k.status}`))].join('\n') + '\n',
  }],
};

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'pm-formats-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('report formats', () => {
  it('a new writer is one registration line, then selectable by name', async () => {
    expect(writerNames()).not.toContain('csv');
    registerWriter(csvWriter); // the "one registration line"
    expect(writerNames()).toContain('csv');
    expect(writersHelp()).toMatch(/csv +results\.csv: kernel,test,status/);
    const out = tmp();
    await writeMatrixReports(fixtureCells(), out, { writers: selectWriters('csv,html') });
    expect(readdirSync(out).sort()).toEqual(['index.html', 'results.csv']);
    const lines = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('kernel,test,status');
    expect(lines).toContain('host,pidfd_open/basic,pass');
    expect(() => registerWriter(csvWriter)).toThrow(/exists already/);
  });

  it('selects by name, results.json always; an unknown name is an error that lists the formats', () => {
    expect(selectWriters(DEFAULT_REPORTS.run).map((w) => w.name)).toEqual(['results', 'junit', 'ktap', 'html', 'summary', 'policy']);
    expect(selectWriters('kcidb').map((w) => w.name)).toEqual(['results', 'kcidb']);
    expect(() => selectWriters('junit,xml')).toThrow(ReportsError);
    expect(() => selectWriters('junit,xml')).toThrow(/unknown report format\(s\): xml \(there are: junit, ktap, html, summary, policy, kcidb/);
  });

  it('per-cell files follow the selection', async () => {
    const dir = tmp();
    await writeCellReports(fixtureCell('host'), dir, selectWriters('ktap'));
    expect(readdirSync(dir).sort()).toEqual(['results.json', 'results.ktap']);
  });

  it('kcidb is a writer like the others: kcidb.json, validated', async () => {
    const out = tmp();
    await writeMatrixReports(fixtureCells(), out, { writers: selectWriters('kcidb'), context: { kcidb: { origin: 'demo_lab' } } });
    expect(readdirSync(out)).toEqual(['kcidb.json']);
    const doc = JSON.parse(readFileSync(join(out, 'kcidb.json'), 'utf8'));
    expect(doc.version).toMatchObject({ major: 5 });
    expect(doc.tests.length).toBeGreaterThan(5);
    expect(doc.tests.every((t: { origin: string }) => t.origin === 'demo_lab')).toBe(true);
  });
});
