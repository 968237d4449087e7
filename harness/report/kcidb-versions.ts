// The versions of the KCIDB issues (kcidb-issues.ts), kept as data: kernels/kcidb-issue-versions.yaml.
//
// Why a file and not a hash: KCIDB triages an issue by its highest-numbered version, so an edited
// issue must get a higher version than before. A hash of the content does not grow; a recorded
// counter does. Each entry maps an issue id (without the origin, so any --kcidb-origin shares it)
// to its current version and the hash of the content that version stands for. The writer takes
// the version from here and refuses an issue whose content no longer matches its hash;
// `pidfd-matrix kcidb versions --update` gives a changed issue its version + 1 and a new one 1.
// An entry is never removed or lowered: an issue that goes and comes back continues upwards.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { repoPath } from '../../suites/lib/paths.js';

export const ISSUE_VERSIONS_PATH = repoPath('kernels/kcidb-issue-versions.yaml');

/** The command that brings the default file up to date (named by every error about it). */
export const UPDATE_COMMAND = 'npx pidfd-matrix kcidb versions --update';

/** An issue as its sources state it: its id without the origin, and what is submitted beside id and version. */
export interface IssueContent { key: string; content: Record<string, unknown> }

/** What one version of an issue stands for. */
export interface RecordedVersion { version: number; hash: string }

/** Issue id (without the origin) -> its current version. */
export type IssueVersions = Record<string, RecordedVersion>;

/** An issue whose content is not the one its recorded version stands for (or has no version). */
export interface StaleIssue { key: string; recorded?: number }

export class IssueVersionsError extends Error {}

/** The writer met a stale issue: `stale` says which, the message names the fix. */
export class StaleIssueVersions extends Error {
  constructor(readonly stale: StaleIssue[], file = ISSUE_VERSIONS_PATH, command = UPDATE_COMMAND) {
    super(staleIssuesMessage(stale, file, command));
  }
}

/** JSON with sorted keys, so the hash does not follow the order fields were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)}}`;
  }
  return JSON.stringify(v);
}

/** The first 64 bits of sha256 over the content, as hex: enough to tell two contents apart. */
export function contentHash(content: Record<string, unknown>): string {
  return createHash('sha256').update(canonical(content)).digest('hex').slice(0, 16);
}

/** Each issue whose hash differs from the recorded one, or that has no entry, in the order given. */
export function staleIssues(recorded: IssueVersions, issues: IssueContent[]): StaleIssue[] {
  return issues
    .filter((i) => recorded[i.key]?.hash !== contentHash(i.content))
    .map((i) => (recorded[i.key] ? { key: i.key, recorded: recorded[i.key].version } : { key: i.key }));
}

/** The record after an update: changed issues at version + 1, new ones at 1, every other entry as it was. */
export function bumpVersions(recorded: IssueVersions, issues: IssueContent[]): IssueVersions {
  const next = { ...recorded };
  for (const i of issues) {
    const hash = contentHash(i.content);
    const old = recorded[i.key];
    if (old?.hash !== hash) next[i.key] = { version: (old?.version ?? 0) + 1, hash };
  }
  return next;
}

export function staleIssuesMessage(stale: StaleIssue[], file = ISSUE_VERSIONS_PATH, command = UPDATE_COMMAND): string {
  const lines = stale.map((s) => `  ${s.key}: ${s.recorded === undefined
    ? 'no version recorded'
    : `changed since version ${s.recorded} was recorded`}`);
  return `${file} does not hold the current version of ${stale.length} KCIDB issue(s):\n${lines.join('\n')}\n`
    + `Run \`${command}\` (a changed issue gets its version + 1, a new one 1) and commit the file.`;
}

const HEADER = `# KCIDB issue versions: written by \`${UPDATE_COMMAND}\`, read by \`report --kcidb\`.
# KCIDB triages an issue by its highest version, so an edited known-issues entry or catalog
# broken range must get a higher one. Per issue id (without the origin): the current version and
# the hash of the content it stands for. \`make test\` fails when an issue's content no longer
# matches its hash; the update then gives it version + 1. Entries are never removed or lowered.
`;

/** The file's text: ids sorted, one line each, so the same record always gives the same bytes. */
export function formatIssueVersions(versions: IssueVersions): string {
  const keys = Object.keys(versions).sort();
  if (!keys.length) return `${HEADER}issues: {}\n`;
  const line = (k: string) => `  ${JSON.stringify(k)}: { version: ${versions[k].version}, hash: "${versions[k].hash}" }`;
  const lines = keys.map(line);
  return `${HEADER}issues:\n${lines.join('\n')}\n`;
}

export function parseIssueVersions(text: string, file = ISSUE_VERSIONS_PATH): IssueVersions {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new IssueVersionsError(`${file}: not YAML (${(e as Error).message}); restore it from git`);
  }
  const issues = (doc as { issues?: unknown } | null)?.issues;
  if (!issues || typeof issues !== 'object' || Array.isArray(issues))
    throw new IssueVersionsError(`${file}: wants a map 'issues:' of issue id -> { version, hash }`);
  const out: IssueVersions = {};
  for (const [key, v] of Object.entries(issues as Record<string, unknown>)) {
    const { version, hash } = (v ?? {}) as Partial<RecordedVersion>;
    const versionOk = Number.isInteger(version) && (version as number) >= 1;
    if (!versionOk || typeof hash !== 'string' || !/^[0-9a-f]{16}$/.test(hash))
      throw new IssueVersionsError(`${file}: '${key}' wants { version: <integer >= 1>, hash: "<16 hex digits>" }`);
    out[key] = { version: version as number, hash };
  }
  return out;
}

/** The recorded versions; a missing file is an empty record (every issue then wants an update). */
export function loadIssueVersions(file = ISSUE_VERSIONS_PATH): IssueVersions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new IssueVersionsError(`${file}: ${(e as Error).message}`);
  }
  return parseIssueVersions(text, file);
}
