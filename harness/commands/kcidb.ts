// `pidfd-matrix kcidb versions [--update]`: checks, and with --update raises, the recorded KCIDB
// issue versions (kernels/kcidb-issue-versions.yaml) against the issues `report --kcidb` writes.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseOptions } from './args.js';
import { catalogCommits, CatalogError, loadCatalog } from '../judge/catalog.js';
import { issueContents } from '../report/kcidb-issues.js';
import {
  bumpVersions, formatIssueVersions, ISSUE_VERSIONS_PATH, IssueVersionsError, loadIssueVersions, staleIssues,
  staleIssuesMessage, UPDATE_COMMAND,
} from '../report/kcidb-versions.js';
import { KnownIssuesError, loadKnownIssues, KNOWN_ISSUES_PATH } from '../judge/known-issues.js';
import { writeFileAtomic } from '../report/report-text.js';
import { UsageError, type Command } from './types.js';

const usage = `Usage: pidfd-matrix kcidb versions [--update] [--versions FILE] [--known-issues FILE] [--catalog PATH]

KCIDB triages an issue by its highest-numbered version, so an edited issue must get a higher
version. FILE (default kernels/kcidb-issue-versions.yaml) records, per issue id without the
origin, the current version and the hash of the content it stands for; \`report --kcidb\` takes
the versions from it and refuses an issue whose content no longer matches (exit 2).

This computes every issue \`report --kcidb\` would write (each known-issues entry, each catalog
broken range) and lists each one that changed since its version was recorded or has none.
Exit status: 0 when every version is current, 1 when some are stale, 2 for bad input.

With --update, FILE is rewritten instead: a changed issue gets its version + 1, a new one
version 1, and every other entry stays as it was (an issue no longer written keeps its entry,
so if it comes back its version only grows). Commit the file with the edit that caused it.

Options:
  --update             write the new versions (default: only check)
  --versions FILE      the versions file (default: kernels/kcidb-issue-versions.yaml); give the
                       same FILE to report --kcidb-versions
  --known-issues FILE  the known-issues file report applies (default: kernels/known-issues.yaml)
  --catalog PATH       the catalog whose broken ranges are issues (default: suites/catalog/)
  -h, --help           this text`;

/** The command that updates exactly these files (what an error about them should name). */
export function updateCommand(opts: { versions?: string; knownIssues?: string; catalog?: string }): string {
  const extra = [
    opts.versions ? ` --versions ${opts.versions}` : '',
    opts.knownIssues ? ` --known-issues ${opts.knownIssues}` : '',
    opts.catalog ? ` --catalog ${opts.catalog}` : '',
  ];
  return `${UPDATE_COMMAND}${extra.join('')}`;
}

export const kcidbCommand: Command = {
  name: 'kcidb',
  summary: 'check or raise the recorded KCIDB issue versions (kcidb versions [--update])',
  usage,
  async run(argv) {
    const { values, positionals } = parseOptions(argv, {
      update: { type: 'boolean' }, versions: { type: 'string' }, 'known-issues': { type: 'string' },
      catalog: { type: 'string' },
    }, usage);
    if (positionals.length !== 1 || positionals[0] !== 'versions') {
      const got = positionals.length ? `, not '${positionals.join(' ')}'` : '';
      throw new UsageError(`kcidb has one subcommand, 'versions'${got}\n\n${usage}`);
    }
    const file = values.versions ? resolve(values.versions) : ISSUE_VERSIONS_PATH;
    const catalogPath = values.catalog ? resolve(values.catalog) : undefined;
    if (catalogPath && !existsSync(catalogPath))
      throw new UsageError(`--catalog ${values.catalog}: no such file or directory`);
    const kiPath = values['known-issues'] ? resolve(values['known-issues']) : KNOWN_ISSUES_PATH;
    if (!existsSync(kiPath)) throw new UsageError(`--known-issues ${kiPath}: no such file`);
    let issues, recorded;
    try {
      issues = issueContents({
        knownIssues: loadKnownIssues(kiPath), catalog: loadCatalog(catalogPath), commits: catalogCommits(catalogPath),
      });
      recorded = loadIssueVersions(file);
    } catch (e) {
      if (e instanceof KnownIssuesError || e instanceof CatalogError || e instanceof IssueVersionsError)
        throw new UsageError(e.message);
      throw e;
    }
    const stale = staleIssues(recorded, issues);
    if (!stale.length) {
      console.log(`${file}: all ${issues.length} issue versions current`);
      return 0;
    }
    if (!values.update) {
      console.log(staleIssuesMessage(stale, file, updateCommand({
        versions: values.versions, knownIssues: values['known-issues'], catalog: values.catalog,
      })));
      return 1;
    }
    const next = bumpVersions(recorded, issues);
    for (const s of stale) console.log(`${s.key}: ${s.recorded ?? 'new'} -> ${next[s.key].version}`);
    await writeFileAtomic(file, formatIssueVersions(next));
    console.log(`${file}: ${stale.length} of ${issues.length} issue versions raised; commit it`);
    return 0;
  },
};
