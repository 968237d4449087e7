// What every report writer shares: escaping for XML, HTML and Markdown, the display label of a
// seccomp profile, and the atomic file write. Its own module so the writers import it, never
// each other (reports.ts -> junit/html/markdown/policy -> reports.ts was a circle; issue 21).
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Characters XML 1.0 forbids even escaped: C0 controls except tab/LF/CR, lone surrogates, U+FFFE/F. */
const ILLEGAL_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Make arbitrary text legal XML: illegal characters become visible `\x1b`-style escapes. */
export function xmlSafe(s: string): string {
  return s.replace(ILLEGAL_XML, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function escHtml(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Terminal colour/cursor sequences (CSI) from console output: noise in a CI log summary. */
export const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, '');

/** Text safe inside a table cell: one line, pipes escaped, control characters made visible. */
export function mdCell(s: string): string {
  return xmlSafe(stripAnsi(s)).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/</g, '&lt;');
}

/** An inline code span that survives backticks inside the text. */
export function mdCode(s: string): string {
  const one = xmlSafe(s).replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(one.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${/^`|`$/.test(one) ? ` ${one} ` : one}${fence}`;
}

/** How a report names a seccomp profile: the built-in ones by name, a profile file by its file name. */
export function seccompLabel(seccomp: string): string {
  return seccomp === 'default' || seccomp === 'unconfined' ? seccomp : basename(seccomp);
}

export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
