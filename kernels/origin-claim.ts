// Where a tree with no .git came from, as its builder says: `kernels build --origin
// owner/name@commit[:subdir]` or a PROVENANCE file at the top of the tree. A `git archive` of a
// public snapshot loses its history, so nothing in the tree can show its commit; the claim names
// it, and the git tree id of the content (what `git rev-parse <commit>^{tree}` prints for the
// same content) lets anyone with a copy of the repository check it with one command.
// A point release made from a snapshot and the official incremental diffs (5.3.1 + the 5.3.2..5.3.11
// patches) names those diffs too (`patches:`), each as a file of a public repository at a commit,
// so anyone can apply the same series to the same commit and get the same tree id.
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);

/** The file a builder may put at the top of a tree; it is metadata, never part of the content hashes. */
export const PROVENANCE_FILE = 'PROVENANCE';

export interface OriginClaim {
  /** A public repository name, "owner/name" (never a path or a URL with credentials). */
  repo: string;
  /** The full commit id the tree was exported from. */
  commit: string;
  /** The folder of that commit the tree is (a snapshot that keeps linux-5.1.15/ inside). */
  subdir?: string;
  describe?: string;
  /** Patches applied in this order on top of the commit: `owner/name@<40-hex commit>:path` each. */
  patches?: string[];
  /** Where the claim was read: '--origin' or "the tree's PROVENANCE file" (never a path: it goes into records). */
  from: string;
}

export class OriginClaimError extends Error {}

const REPO = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const COMMIT = /^[0-9a-f]{40}$/;
const PATCH = /^([A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*)@([0-9a-f]{40}):([^\s]+)$/;

function checkPatches(list: unknown, from: string): string[] | undefined {
  if (list === undefined || list === null) return undefined;
  const example = 'GKernelCI/linux-patches@<40-hex commit>:1001_linux-5.3.2.patch';
  if (!Array.isArray(list)) throw new OriginClaimError(`${from}: patches must be a list of owner/name@<40-hex commit>:path, e.g. ${example}`);
  return list.map((p) => {
    const m = PATCH.exec(String(p).trim());
    if (!m || m[3].split('/').some((x) => x === '..' || x === '')) {
      throw new OriginClaimError(`${from}: patch '${String(p)}' is not owner/name@<40-hex commit>:path (a file of a public repository at a commit), e.g. ${example}`);
    }
    return String(p).trim();
  });
}

function check(c: Partial<OriginClaim>, from: string): OriginClaim {
  const example = 'owner/name@<40-hex commit>[:subdir], e.g. perishh/linux-6.14@16b95dcdf5854cf4ec57625ac3609b774ea0e1c5';
  if (!c.repo || !REPO.test(c.repo)) throw new OriginClaimError(`${from}: repo '${c.repo ?? ''}' is no public repository name (owner/name); give ${example}`);
  if (!c.commit || !COMMIT.test(c.commit)) throw new OriginClaimError(`${from}: commit '${c.commit ?? ''}' is not a full 40-hex commit id (git rev-parse <rev> prints it); give ${example}`);
  const subdir = c.subdir?.replace(/^\/+|\/+$/g, '') || undefined;
  if (subdir && subdir.split('/').some((p) => p === '..' || p === '')) throw new OriginClaimError(`${from}: subdir '${c.subdir}' must be a folder inside the commit`);
  const patches = checkPatches(c.patches, from);
  return { repo: c.repo, commit: c.commit, ...(subdir ? { subdir } : {}), ...(c.describe ? { describe: String(c.describe) } : {}), ...(patches?.length ? { patches } : {}), from };
}

/** `owner/name@commit[:subdir]` from the command line. */
export function parseOriginOption(text: string): OriginClaim {
  const m = /^([^@\s]+)@([0-9a-fA-F]+)(?::(.+))?$/.exec(text.trim());
  if (!m) throw new OriginClaimError(`--origin '${text}': expected owner/name@<40-hex commit>[:subdir]`);
  return check({ repo: m[1], commit: m[2].toLowerCase(), subdir: m[3] }, '--origin');
}

/** The tree's PROVENANCE file (repo:, commit:, optional subdir:, describe: and patches:), or null when there is none. */
export function readProvenanceFile(tree: string): OriginClaim | null {
  const p = join(tree, PROVENANCE_FILE);
  if (!existsSync(p)) return null;
  let doc: unknown;
  try {
    doc = parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new OriginClaimError(`${p}: not 'key: value' lines (${(e as Error).message.split('\n')[0]}); write repo: owner/name and commit: <40-hex>`);
  }
  if (!doc || typeof doc !== 'object') throw new OriginClaimError(`${p}: write repo: owner/name and commit: <40-hex> (optional subdir: and describe:)`);
  const d = doc as Record<string, unknown>;
  // Errors name the file's path (for the person fixing it); the claim names only the file, never a machine path.
  return { ...check({ repo: d.repo as string, commit: String(d.commit ?? '').toLowerCase(), subdir: d.subdir as string, describe: d.describe as string, patches: d.patches as string[] }, p), from: `the tree's ${PROVENANCE_FILE} file` };
}

/** Every file and symlink under dir (sorted), without .git and the PROVENANCE file at the top. */
function listContent(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      if (rel === '' && (name === '.git' || name === PROVENANCE_FILE)) continue;
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, p));
      if (st.isDirectory()) walk(p);
      else if (st.isFile() || st.isSymbolicLink()) out.push(p);
    }
  };
  walk('');
  return out;
}

/**
 * The git tree object id of dir's content, as `git write-tree` would give after adding every
 * file (modes, executable bits and symlinks included): for the untouched output of
 * `git archive C`, equal to `git rev-parse C^{tree}`. Objects are hashed, never written; nothing
 * is written into dir.
 */
export async function contentTreeId(dir: string): Promise<string> {
  const scratch = mkdtempSync(join(tmpdir(), 'pidfd-matrix-tree-'));
  try {
    const git = (args: string[], input?: string) => new Promise<string>((res, rej) => {
      const child = execFile('git', ['-c', 'core.autocrlf=false', '-c', 'core.safecrlf=false', `--git-dir=${join(scratch, 'g')}`, `--work-tree=${dir}`, ...args],
        { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, GIT_INDEX_FILE: join(scratch, 'index') } },
        (err, stdout) => (err ? rej(err) : res(stdout.trim())));
      if (input !== undefined) child.stdin!.end(input);
    });
    await run('git', ['init', '-q', '--bare', join(scratch, 'g')]);
    await git(['update-index', '--add', '--info-only', '-z', '--stdin'], listContent(dir).map((p) => `${p}\0`).join(''));
    return await git(['write-tree', '--missing-ok']);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The command that checks a claim in a copy of the repository: it prints the tree id when the claim holds. */
export function claimCheckCommand(c: OriginClaim): string {
  if (c.patches?.length) {
    const dir = c.subdir ? ` in ${c.subdir}` : '';
    return `git -C <copy of ${c.repo}> checkout ${c.commit}, then${dir} \`git apply\` each patch in order, then \`git add -A && git write-tree\``;
  }
  return `git -C <copy of ${c.repo}> rev-parse ${c.commit}${c.subdir ? `:${c.subdir}` : '^{tree}'}`;
}
