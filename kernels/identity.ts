// Where a kernel came from, as far as it can be proven: a Debian package (name, version, sha256),
// a tarball (name, sha256), a public git repository (name, commit, describe), or unproven. Also
// the Makefile version and the sha256 of each pidfd source file, so a second copy of the same
// source can be matched against a record. Written by `kernels build` (build.json), by the
// Debian fetch into a cell's facts, and copied by `catalog --record` into verified.yaml: never a
// machine path.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import type { KernelIdentity } from '../harness/results.js';
import { claimCheckCommand, contentTreeId, readProvenanceFile, type OriginClaim } from './origin-claim.js';
import { isGitTop } from './source-identity.js';
export { IDENTITY_KINDS, type IdentityKind, type KernelIdentity } from '../harness/results.js';

const run = promisify(execFile);


/** The files whose content decides what the pidfd probes see (those that exist in a tree). */
export const PIDFD_SOURCES = [
  'fs/pidfs.c', 'kernel/pid.c', 'kernel/fork.c', 'kernel/signal.c', 'kernel/exit.c', 'kernel/nsproxy.c',
  'include/uapi/linux/pidfd.h', 'include/linux/pidfs.h', 'include/linux/pid.h',
] as const;

export function pidfdSourceHashes(tree: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of PIDFD_SOURCES) {
    const p = join(tree, f);
    if (existsSync(p)) out[f] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

/**
 * A public repository's "owner/name" from a remote URL (https, ssh or git@ form on a known public
 * host), or null: a local path, a file:// URL or a private host proves nothing to anyone else.
 */
export function publicRepoName(url: string): string | null {
  const hosts = 'github\\.com|gitlab\\.com|git\\.kernel\\.org|codeberg\\.org|salsa\\.debian\\.org';
  const m = new RegExp(`^(?:https?://|git://|ssh://git@|git@)(${hosts})[/:](.+?)(?:\\.git)?/?$`).exec(url.trim());
  if (!m) return null;
  const path = m[2].replace(/^pub\/scm\//, '');
  return m[1] === 'github.com' || m[1] === 'gitlab.com' || m[1] === 'codeberg.org' ? path : `${m[1]}/${path}`;
}

async function git(tree: string, args: string[]): Promise<string | null> {
  try {
    return (await run('git', ['-C', tree, ...args], { maxBuffer: 64 << 20 })).stdout.trim();
  } catch {
    return null;
  }
}

/** "6.12.117" from a Makefile's VERSION/PATCHLEVEL/SUBLEVEL, or undefined. */
export function makefileOf(tree: string): string | undefined {
  const p = join(tree, 'Makefile');
  if (!existsSync(p)) return undefined;
  const text = readFileSync(p, 'utf8');
  const v = (k: string) => new RegExp(`^${k}\\s*=[ \\t]*(\\d*)`, 'm').exec(text)?.[1];
  return v('VERSION') && v('PATCHLEVEL') !== undefined ? `${v('VERSION')}.${v('PATCHLEVEL') || 0}.${v('SUBLEVEL') || 0}` : undefined;
}

/**
 * The identity of a source tree about to be built. `known` is what the caller already proved (a
 * Debian source package from the signed index); otherwise a git tree with a public remote is a
 * git identity (proven only when clean: uncommitted edits are nobody's commit). A tree with no
 * .git (a `git archive` of a snapshot) is named by its builder's claim (`--origin` or the
 * tree's PROVENANCE file, kernels/origin-claim.ts): recorded with the git tree id of its
 * content, unproven until a copy of the repository or of the pidfd sources matches. Anything
 * else is unproven. The pidfd sources are hashed in every case, so a second copy can match.
 */
export type KnownSource = Partial<KernelIdentity> & { kind: 'debian' | 'tarball' };

export async function treeIdentity(tree: string, known?: KnownSource, claim?: OriginClaim): Promise<KernelIdentity> {
  const base = { makefile: makefileOf(tree), pidfd_sources: pidfdSourceHashes(tree) };
  if (known) {
    const proven = !!known.sha256;
    return {
      ...known, ...base, proven,
      why: known.why ?? `${known.kind} ${known.package ?? known.name}${known.version ? `=${known.version}` : ''}${proven ? ' with its sha256' : ': no sha256 recorded'}`,
    } as KernelIdentity;
  }
  claim ??= readProvenanceFile(tree) ?? undefined;
  // A tree with no .git, or a snapshot plus patches (no commit of anybody's), is named by its claim and its content.
  const gitTop = await isGitTop(tree);
  if (claim && (claim.patches?.length || !gitTop)) return claimedIdentity(tree, claim, base);
  if (!gitTop) {
    return { kind: 'unproven', ...base, proven: false,
      why: 'a directory that is not a git tree, with no package, tarball or origin named (kernels build --origin owner/name@commit, or a PROVENANCE file)' };
  }
  const commit = (await git(tree, ['rev-parse', 'HEAD'])) ?? undefined;
  const describe = (await git(tree, ['describe', '--tags', '--always'])) ?? undefined;
  const dirty = !!(await git(tree, ['status', '--porcelain', '--untracked-files=no']));
  const remotes = ((await git(tree, ['remote', '-v'])) ?? '').split('\n').map((l) => l.split(/\s+/)[1]).filter(Boolean);
  // A clone with no public remote (a local copy of a snapshot) may be named by the claim, for its own HEAD only.
  const claimed = claim && claim.commit === commit && !claim.subdir ? claim.repo : undefined;
  const repo = remotes.map(publicRepoName).find((r) => r) ?? claimed;
  if (!repo) {
    const none = remotes.length ? 'remotes are local or private' : 'no remote';
    const other = claim ? `; the origin named (${claim.from}) is ${claim.repo}@${claim.commit.slice(0, 12)}${claim.subdir ? `:${claim.subdir}` : ''}, not this HEAD` : '';
    return { kind: 'unproven', commit, describe, ...base, proven: false, why: `git commit ${commit?.slice(0, 12)} with no public remote (${none}): nobody else can fetch it${other}` };
  }
  if (dirty) return { kind: 'git', repo, commit, describe, ...base, proven: false, why: `${repo} ${commit?.slice(0, 12)} with uncommitted changes` };
  // A commit made here (patches committed on top of a clone) is on none of the remote's refs this
  // clone knows: naming the remote would claim a commit nobody can fetch from it.
  if (!claimed && !(await git(tree, ['for-each-ref', '--count=1', `--contains=${commit}`, ...(await remoteRefs(tree))]))) {
    return { kind: 'git', repo, commit, describe, ...base, proven: false,
      why: `${repo} ${commit?.slice(0, 12)}: a commit on no branch or tag of the remote known here (made locally?), so nobody can fetch it; ` +
        `if it is a public commit plus patches, name them in a PROVENANCE file (repo:, commit:, patches:)` };
  }
  return { kind: 'git', repo, commit, describe, ...base, proven: true, why: `${repo} at ${commit?.slice(0, 12)} (${describe})${claimed && repo === claimed ? `, named by ${claim!.from}` : ''}` };
}

/** Where this clone keeps what its remotes advertised: remote-tracking refs and tags, and the branches of a mirror clone. */
async function remoteRefs(tree: string): Promise<string[]> {
  const config = (await git(tree, ['config', '--get-regexp', '^remote\\..*\\.(fetch|mirror)$'])) ?? '';
  const mirror = config.split('\n').some((l) => /\.mirror true$/.test(l) || /:refs\/heads\//.test(l));
  return ['refs/remotes', 'refs/tags', ...(mirror ? ['refs/heads'] : [])];
}

/** A tree named by a claim (PROVENANCE or --origin): the repository, commit, patches and the git tree id of the content. */
async function claimedIdentity(tree: string, claim: OriginClaim, base: Pick<KernelIdentity, 'makefile' | 'pidfd_sources'>): Promise<KernelIdentity> {
  const id = await contentTreeId(tree);
  const at = `${claim.repo}@${claim.commit.slice(0, 12)}${claim.subdir ? `:${claim.subdir}` : ''}`;
  const series = claim.patches?.length ? ` plus ${claim.patches.length} patches in order (${claim.patches.join(', ')})` : '';
  const shape = claim.patches?.length ? 'a tree' : 'a tree with no .git';
  return {
    kind: 'git', repo: claim.repo, commit: claim.commit, ...(claim.describe ? { describe: claim.describe } : {}),
    ...(claim.subdir ? { subdir: claim.subdir } : {}), ...(claim.patches?.length ? { patches: claim.patches } : {}), tree: id, ...base, proven: false,
    why: `${shape}, exported from ${at}${series} as ${claim.from} says (not checked here): its content is git tree ${id}; ` +
      `it is that when \`${claimCheckCommand(claim)}\` prints that id, or when its pidfd sources match a second copy`,
  };
}

/** The running kernel of this machine: nothing names its source. */
export const HOST_IDENTITY: KernelIdentity = { kind: 'unproven', proven: false, why: 'the running host kernel: no package, tarball or commit names its source' };

/** A Debian binary kernel: the image package's .deb as the signed index names it. */
export function debianIdentity(p: { package: string; version: string; sha256: string | null }, suite?: string): KernelIdentity {
  return {
    kind: 'debian', package: p.package, version: p.version, sha256: p.sha256, ...(suite ? { suite } : {}),
    // The archive never reuses a version for other content: the version alone names one upload.
    proven: true, why: p.sha256 ? `Debian ${p.package}=${p.version}, sha256 from the signed archive index` : `Debian ${p.package}=${p.version}: sha256 not recorded, proven only by the package version`,
  };
}

/** One line for people and for `catalog`. */
export function describeIdentity(i: KernelIdentity): string {
  switch (i.kind) {
    case 'debian': return `debian ${i.package}=${i.version}${i.sha256 ? ` sha256 ${i.sha256.slice(0, 12)}` : ''}`;
    case 'tarball': return `tarball ${i.name}${i.sha256 ? ` sha256 ${i.sha256.slice(0, 12)}` : ''}`;
    case 'git': return `git ${i.repo} ${i.commit?.slice(0, 12)}${i.subdir ? `:${i.subdir}` : ''}${i.describe ? ` (${i.describe})` : ''}` +
      (i.patches?.length ? ` + ${i.patches.length} patches [content tree ${i.tree?.slice(0, 12)}]` : i.tree ? ` [no .git; content tree ${i.tree.slice(0, 12)}]` : '');
    default: return `unproven (${i.why})`;
  }
}

/** Machine paths never belong in a record others read. */
export function hasMachinePath(text: string): boolean {
  return /(^|[\s"'=:])\/(work|home|root|tmp|var\/tmp)\//.test(text);
}

/**
 * What the commit oracle (harness/commit-oracle.ts) may read about a kernel: its git tree at a
 * revision, its Debian changelog, or nothing beyond its version.
 */
export type KernelOrigin =
  | { kind: 'git'; tree: string; rev: string }
  | { kind: 'debian'; changelog: string }
  | { kind: 'version' };

/** How much an identity says: proven, names a source (package, tarball, repository) unproven, or nothing. */
function strength(i: KernelIdentity): number {
  return i.proven ? 2 : i.kind !== 'unproven' || i.repo || i.commit ? 1 : 0;
}

function samePatches(a: KernelIdentity, b: KernelIdentity): boolean {
  return (a.patches ?? []).join('\n') === (b.patches ?? []).join('\n');
}

function sameSource(a: KernelIdentity, b: KernelIdentity): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'debian': return a.package === b.package && a.version === b.version;
    case 'tarball': return a.sha256 && b.sha256 ? a.sha256 === b.sha256 : a.name === b.name;
    case 'git': return a.repo === b.repo && a.commit === b.commit && samePatches(a, b);
    default: return a.commit === b.commit && a.makefile === b.makefile;
  }
}

/** What in `fresh` shows it is another kernel than `old`: a differing source hash, commit or Makefile version. */
export function identityConflict(old: KernelIdentity, fresh: KernelIdentity): string | null {
  for (const [f, h] of Object.entries(fresh.pidfd_sources ?? {})) {
    const was = old.pidfd_sources?.[f];
    if (was && was !== h) return `${f} sha256 ${h.slice(0, 12)}, recorded ${was.slice(0, 12)}`;
  }
  if (old.commit && fresh.commit && old.commit !== fresh.commit) return `commit ${fresh.commit.slice(0, 12)}, recorded ${old.commit.slice(0, 12)}`;
  if (old.makefile && fresh.makefile && old.makefile !== fresh.makefile) return `Makefile ${fresh.makefile}, recorded ${old.makefile}`;
  if (old.kind === 'git' && fresh.kind === 'git' && !samePatches(old, fresh)) return `${fresh.patches?.length ?? 0} patches on the commit, recorded ${old.patches?.length ?? 0}`;
  if (old.kind === 'debian' && fresh.kind === 'debian' && !sameSource(old, fresh)) return `${fresh.package}=${fresh.version}, recorded ${old.package}=${old.version}`;
  return null;
}

/**
 * The identity of a re-recorded kernel (same version and release). A run rarely knows more than
 * the record: the host, a path image or a tree with no .git say "unproven", while the record may
 * hold a proof made by hand against a second copy. So the stronger identity stays, never a
 * downgrade, unless the new run's own facts (source hashes, commit, Makefile, package) show
 * another kernel; at equal strength, the record's text stays for the same source (fields it
 * lacks are filled from the run) and the run's identity replaces another one.
 */
export function mergeIdentity(old: KernelIdentity | undefined, fresh: KernelIdentity): { identity: KernelIdentity; note: string | null } {
  if (!old) return { identity: fresh, note: null };
  const conflict = identityConflict(old, fresh);
  if (conflict) {
    const lost = strength(old) > strength(fresh) ? `; the record's ${old.proven ? 'proof' : 'identity'} (${describeIdentity(old)}) does not carry over` : '';
    return { identity: fresh, note: `another kernel than the record's: ${conflict}${lost}` };
  }
  const keep = strength(old) > strength(fresh) || (strength(old) === strength(fresh) && sameSource(old, fresh));
  if (!keep) return { identity: fresh, note: null };
  const filled: KernelIdentity = { ...fresh, ...old, pidfd_sources: { ...fresh.pidfd_sources, ...old.pidfd_sources } };
  if (!Object.keys(filled.pidfd_sources!).length) delete filled.pidfd_sources;
  const note = strength(old) > strength(fresh)
    ? `kept the record's ${old.proven ? 'proven ' : ''}identity (${describeIdentity(old)}): the run named ${fresh.proven ? 'a weaker one' : `none stronger (${fresh.why})`}`
    : null;
  return { identity: filled, note };
}
