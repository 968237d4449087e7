// apt-get/apt-cache against a PRIVATE sources list, lists dir and cache dir: fetching a
// trixie or sid kernel never touches the system's apt state and never installs anything.
// The archive is verified with Debian's keyring (signed-by), never trusted=yes.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { $ } from 'zx/core';
import { aptDir, locksDir, safeName } from './cache.js';
import { withLock } from './lock.js';

/** Tries of a network call (apt-get update, download) before its error is final. */
const NET_TRIES = 3;
/**
 * zx's retry and spinner come from its full entry, which takes ~250 ms to import: loaded only
 * when apt goes to the network, so every other command starts as fast as before.
 */
async function network<T>(title: string, call: () => Promise<T>): Promise<T> {
  const { retry, spinner } = await import('zx');
  const tried = () => retry(NET_TRIES, '3s', call);
  // A spinner only on a terminal: a CI log would fill with its \r frames.
  return process.stderr.isTTY ? spinner(title, tried) : tried();
}
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Lists younger than this are reused without `apt-get update` (a second run fetches nothing). */
const LISTS_MAX_AGE_MS = Number(process.env.PIDFD_MATRIX_APT_MAX_AGE_H ?? 24) * 3600_000;

export class AptError extends Error {}
/** The archive has no such suite (no Release file): a companion suite the release does not have. */
export class AptNoSuiteError extends AptError {}

/** URIs of the Debian archive named in apt sources text (.list or deb822 .sources). */
export function debianUrisFromSources(text: string): string[] {
  return allUris(text).filter((u) => /\/debian\/?$/.test(u) && !/security/.test(u)).map((u) => u.replace(/\/$/, ''));
}

/** URIs of the Debian security archive (…/debian-security) named in apt sources text. */
export function debianSecurityUrisFromSources(text: string): string[] {
  return allUris(text).filter((u) => /\/debian-security\/?$/.test(u)).map((u) => u.replace(/\/$/, ''));
}

function allUris(text: string): string[] {
  const uris: string[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    let m = /^deb(?:\s+\[[^\]]*\])?\s+(\S+)/.exec(l);
    if (m) uris.push(m[1]);
    m = /^URIs:\s*(.+)$/i.exec(l);
    if (m) uris.push(...m[1].split(/\s+/));
  }
  return uris;
}

function firstSystemUri(etc: string, pick: (text: string) => string[]): string | null {
  const files = [join(etc, 'sources.list')];
  const d = join(etc, 'sources.list.d');
  if (existsSync(d)) for (const f of readdirSync(d).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(d, f));
  for (const f of files) {
    if (!existsSync(f)) continue;
    const uris = pick(readFileSync(f, 'utf8'));
    if (uris.length) return uris[0];
  }
  return null;
}

/** The Debian mirror this machine already uses (first one in /etc/apt/sources.list*). */
export function systemDebianMirror(etc = '/etc/apt'): string {
  const uri = firstSystemUri(etc, debianUrisFromSources);
  if (uri) return uri;
  throw new AptError(`no Debian mirror in ${etc}/sources.list*; the 'debian' kernel source needs one (add a 'deb <mirror>/debian bookworm main' line)`);
}

/** The Debian security archive this machine already uses (e.g. http://deb.debian.org/debian-security). */
export function systemDebianSecurityMirror(etc = '/etc/apt'): string {
  const uri = firstSystemUri(etc, debianSecurityUrisFromSources);
  if (uri) return uri;
  throw new AptError(`no Debian security archive in ${etc}/sources.list*; a 'debian' entry takes the newest upload of <suite>, <suite>-updates and <suite>-security, so it needs one (add a 'deb http://deb.debian.org/debian-security bookworm-security main' line)`);
}

/**
 * The suites whose uploads a Debian release ships to its users besides <suite> itself: point
 * release updates and security fixes (the kernel moves there between point releases). Only for
 * a release codename: sid and experimental have none, and bookworm-backports is its own suite.
 */
export function companionSuites(suite: string): string[] {
  if (!/^[a-z]+$/.test(suite) || ['sid', 'unstable', 'experimental', 'rc-buggy'].includes(suite)) return [];
  return [`${suite}-updates`, `${suite}-security`];
}

export interface PackageInfo {
  package: string;
  version: string;
  /** Its Architecture field (amd64, arm64, all); '' when the stanza has none. */
  architecture: string;
  depends: string;
  filename: string;
  sha256: string;
  size: number;
}

/** The Debian architecture this machine's kernels are fetched for unless told otherwise. */
export const DEFAULT_DEB_ARCH = 'amd64';
/** Debian architectures whose kernels a private apt may fetch (the guests qemu can boot). */
export const DEB_ARCHES = ['amd64', 'arm64'] as const;

/** The lists dir name: the suite's for amd64 (as before), `<suite>_<arch>` for another arch. */
export const aptListsName = (suite: string, arch: string = DEFAULT_DEB_ARCH): string => (arch === DEFAULT_DEB_ARCH ? suite : `${suite}_${arch}`);

export class PrivateApt {
  readonly dir: string;
  /** One apt call at a time on these lists, across runs (apt's own lock would fail, not wait). */
  readonly lockFile: string;
  constructor(readonly suite: string, readonly mirror = systemDebianMirror(), cacheRootDir?: string, readonly arch: string = DEFAULT_DEB_ARCH) {
    if (!(DEB_ARCHES as readonly string[]).includes(arch)) throw new AptError(`Debian architecture '${arch}' is not one of ${DEB_ARCHES.join(', ')}`);
    const name = aptListsName(suite, arch);
    this.dir = cacheRootDir ? join(cacheRootDir, 'apt', name) : aptDir(name);
    this.lockFile = join(cacheRootDir ? locksDir(cacheRootDir) : locksDir(), `apt-${safeName(name)}.lock`);
  }

  private opts(): string[] {
    const d = this.dir;
    return [
      '-q',
      '-o', `Dir::Etc::sourcelist=${join(d, 'sources.list')}`,
      '-o', 'Dir::Etc::sourceparts=-',
      '-o', `Dir::Etc::preferencesparts=${join(d, 'prefs.d')}`,
      '-o', `Dir::State::Lists=${join(d, 'lists')}`,
      '-o', `Dir::Cache=${join(d, 'cache')}`,
      '-o', 'APT::Sandbox::User=root', // the private dirs are not readable by _apt
      // Only this architecture's index (the system's dpkg may list foreign ones, e.g. i386).
      '-o', `APT::Architecture=${this.arch}`,
      '-o', `APT::Architectures=${this.arch}`,
    ];
  }

  private listsFresh(): boolean {
    const lists = join(this.dir, 'lists');
    if (!existsSync(lists)) return false;
    const rel = readdirSync(lists).find((f) => f.endsWith('InRelease') || f.endsWith('_Release'));
    return rel !== undefined && Date.now() - statSync(join(lists, rel)).mtimeMs < LISTS_MAX_AGE_MS;
  }

  /** `apt-get update` on the private lists, unless they are fresh (or `force`). */
  async update(force = false): Promise<boolean> {
    return withLock(this.lockFile, () => this.updateLocked(force));
  }

  private async updateLocked(force: boolean): Promise<boolean> {
    // Checked under the lock: a run that waited for another's update finds fresh lists.
    if (!force && this.listsFresh()) return false;
    for (const sub of ['lists/partial', 'cache/archives/partial', 'prefs.d']) await mkdir(join(this.dir, sub), { recursive: true });
    await writeFile(join(this.dir, 'sources.list'), `deb [signed-by=${DEBIAN_KEYRING} arch=${this.arch}] ${this.mirror} ${this.suite} main\n`);
    try {
      await network(`apt-get update (Debian ${this.suite})`, () => $({ quiet: true })`apt-get ${this.opts()} update`);
    } catch (e) {
      if (/does not have a Release file|404\s+Not Found/i.test(stderrOf(e))) throw new AptNoSuiteError(`${this.mirror} has no suite '${this.suite}': ${stderrOf(e)}`);
      throw new AptError(`apt-get update for Debian '${this.suite}' from ${this.mirror} failed (${NET_TRIES} tries): ${stderrOf(e)}\n  check the suite name and that ${DEBIAN_KEYRING} exists (apt-get install debian-archive-keyring)`);
    }
    return true;
  }

  /** The candidate version of a package, or null when the suite does not have it. */
  async show(pkg: string): Promise<PackageInfo | null> {
    const out = await withLock(this.lockFile, () => $({ quiet: true, nothrow: true })`apt-cache ${this.opts()} show --no-all-versions ${pkg}`);
    return out.ok ? parseControl(out.stdout) : null;
  }

  /** Downloads pkg=version into dir (apt checks it against the signed index). Returns the path. */
  async download(pkg: string, version: string, dir: string): Promise<string> {
    try {
      await withLock(this.lockFile, () => network(`apt-get download ${pkg}=${version}`, () => $({ cwd: dir, quiet: true })`apt-get ${this.opts()} download ${`${pkg}=${version}`}`));
    } catch (e) {
      throw new AptError(`apt-get download ${pkg}=${version} (Debian ${this.suite}) failed (${NET_TRIES} tries): ${stderrOf(e)}`);
    }
    const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    if (!deb) throw new AptError(`apt-get download ${pkg}=${version} left no .deb in ${dir}`);
    return join(dir, deb);
  }
}

/** A package as one suite of a release carries it: which suite's lists to download it with. */
export interface SuitePackage { apt: PrivateApt; info: PackageInfo }

/**
 * A Debian release as its users get it: <suite>, <suite>-updates and <suite>-security, each
 * through its own private lists (signature-checked like the main one). `show` answers the
 * newest upload across them and which suite carries it.
 */
export class DebianRelease {
  readonly apts: PrivateApt[];
  private absent = new Set<string>();
  constructor(readonly suite: string, cacheRootDir?: string, mirror = systemDebianMirror(), security?: string, readonly arch: string = DEFAULT_DEB_ARCH) {
    this.apts = [new PrivateApt(suite, mirror, cacheRootDir, arch)];
    for (const s of companionSuites(suite)) {
      const m = s.endsWith('-security') ? (security ?? systemDebianSecurityMirror()) : mirror;
      this.apts.push(new PrivateApt(s, m, cacheRootDir, arch));
    }
  }

  /** Updates every suite's lists (unless fresh); a companion suite the archive lacks is skipped. True when any list was refreshed. */
  async update(force = false, say: (m: string) => void = () => {}): Promise<boolean> {
    let any = false;
    for (const [i, apt] of this.apts.entries()) {
      try {
        any = (await apt.update(force)) || any;
      } catch (e) {
        if (i === 0 || !(e instanceof AptNoSuiteError)) throw e;
        if (!this.absent.has(apt.suite)) say(`Debian ${apt.suite}: not in the archive, skipped (${e.message.split('\n')[0]})`);
        this.absent.add(apt.suite);
      }
    }
    return any;
  }

  /** The newest version of pkg (or exactly pkg=version) across the suites; ties go to the earlier suite. */
  async show(pkg: string, newer: (a: string, b: string) => boolean): Promise<SuitePackage | null> {
    let best: SuitePackage | null = null;
    for (const apt of this.apts) {
      if (this.absent.has(apt.suite)) continue;
      const info = await apt.show(pkg);
      if (info && (!best || newer(info.version, best.info.version))) best = { apt, info };
    }
    return best;
  }
}

/** First stanza of `apt-cache show` output. */
export function parseControl(text: string): PackageInfo | null {
  const stanza = text.split(/\n\s*\n/)[0];
  const f: Record<string, string> = {};
  let last = '';
  for (const line of stanza.split('\n')) {
    const m = /^([A-Za-z0-9-]+):\s?(.*)$/.exec(line);
    if (m) f[(last = m[1])] = m[2];
    else if (last && /^\s/.test(line)) f[last] += '\n' + line.trim();
  }
  if (!f.Package || !f.Version) return null;
  return { package: f.Package, version: f.Version, architecture: f.Architecture ?? '', depends: f.Depends ?? '', filename: f.Filename ?? '', sha256: f.SHA256 ?? '', size: Number(f.Size ?? 0) };
}

/** The exact version a Depends field pins `name` to (`name (= 6.1.176-1)`), or null. */
export function pinnedDependency(depends: string, name: string): string | null {
  for (const alt of depends.split(',')) {
    const m = /^\s*([^\s(|]+)\s*\(\s*=\s*([^)\s]+)\s*\)/.exec(alt);
    if (m && m[1] === name) return m[2];
  }
  return null;
}

/** The versioned linux-image package a metapackage (linux-image-amd64) points at. */
export function imageDependency(depends: string): string | null {
  for (const alt of depends.split(',')) {
    const name = alt.trim().split(/[\s|(]/)[0];
    if (/^linux-image-\d/.test(name)) return name;
  }
  return null;
}

function stderrOf(e: unknown): string {
  const err = e as { stderr?: string; message: string };
  return (err.stderr || err.message).trim().split('\n').slice(-3).join(' | ');
}
