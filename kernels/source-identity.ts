// What a kernel source tree *is*, for the build cache: the same content must hit the same
// cached build, and anything else (another commit, uncommitted edits, a changed snapshot) must
// not. A git tree is named by the tree object of its content; a plain directory by a hash of
// every file. Nothing is written into the user's tree or its .git.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

import { PROVENANCE_FILE } from './origin-claim.js';

const run = promisify(execFile);

export interface SourceIdentity {
  /** Cache-key material: 'git-tree:<sha>' or 'content:<sha256>' or what the caller gave. */
  id: string;
  /** For people: 'git 1a2b3c4d5e6f (clean)', 'git 1a2b3c4d5e6f + uncommitted changes', 'content sha256 ...'. */
  description: string;
  commit: string | null;
  dirty: boolean;
}

async function git(tree: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run('git', ['-C', tree, ...args], { maxBuffer: 256 << 20, env: env ? { ...process.env, ...env } : process.env });
  return stdout.trim();
}

/** True when `tree` is the top of a git work tree (not a folder inside some other repository). */
export async function isGitTop(tree: string): Promise<boolean> {
  try {
    return realpathSync(await git(tree, ['rev-parse', '--show-toplevel'])) === realpathSync(tree);
  } catch {
    return false;
  }
}

export async function sourceIdentity(tree: string): Promise<SourceIdentity> {
  const dir = resolve(tree);
  if (await isGitTop(dir)) return gitIdentity(dir);
  const sum = contentHash(dir);
  return { id: `content:${sum}`, description: `content sha256 ${sum.slice(0, 16)} (not a git tree)`, commit: null, dirty: false };
}

async function gitIdentity(tree: string): Promise<SourceIdentity> {
  const commit = await git(tree, ['rev-parse', 'HEAD']);
  // PROVENANCE names the origin and is no source: adding it later must not rebuild.
  const status = await git(tree, ['status', '--porcelain', '--untracked-files=normal', '--', '.', `:(exclude,top)${PROVENANCE_FILE}`]);
  if (!status) {
    const t = await git(tree, ['rev-parse', 'HEAD^{tree}']);
    return { id: `git-tree:${t}`, description: `git ${commit.slice(0, 12)} (clean)`, commit, dirty: false };
  }
  // Uncommitted edits or new files: the tree object of the working content, written through a
  // throwaway index and object directory (the repository's objects are only read).
  const scratch = mkdtempSync(join(tmpdir(), 'pidfd-matrix-ident-'));
  try {
    const index = resolve(tree, await git(tree, ['rev-parse', '--git-path', 'index']));
    const objects = resolve(tree, await git(tree, ['rev-parse', '--git-path', 'objects']));
    if (existsSync(index)) copyFileSync(index, join(scratch, 'index'));
    mkdirSync(join(scratch, 'objects'));
    const env = { GIT_INDEX_FILE: join(scratch, 'index'), GIT_OBJECT_DIRECTORY: join(scratch, 'objects'), GIT_ALTERNATE_OBJECT_DIRECTORIES: objects };
    await git(tree, ['add', '-A', '--', '.', `:(exclude,top)${PROVENANCE_FILE}`], env);
    const t = await git(tree, ['write-tree'], env);
    return { id: `git-tree:${t}`, description: `git ${commit.slice(0, 12)} + uncommitted changes (content tree ${t.slice(0, 12)})`, commit, dirty: true };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** sha256 over every path, its executable bit, symlink target and bytes, in sorted order (no .git, no PROVENANCE). */
export function contentHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    const abs = join(dir, rel);
    for (const name of readdirSync(abs).sort()) {
      // .git is history; PROVENANCE (kernels/origin-claim.ts) names the origin and is no source.
      if (rel === '' && (name === '.git' || name === PROVENANCE_FILE)) continue;
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, p));
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) h.update(`l ${p}\0${readlinkSync(join(dir, p))}\0`);
      else if (st.isFile()) {
        h.update(`f ${p} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\0`);
        h.update(readFileSync(join(dir, p)));
      }
    }
  };
  walk('');
  return h.digest('hex');
}
