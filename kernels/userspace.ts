// Distro userspaces: a Debian suite's minimal root (debootstrap --variant=minbase from the
// mirror this machine's apt uses), cached under <cache>/userspaces/<suite>/, and the same tree
// imported into Docker as pidfd-matrix/userspace:<suite> (no registry is reachable, so nothing
// is pulled). Container cells run the suite on that image; a guest can boot the root itself
// (vng --root). Both callers share the cache and its flock(1) locks.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAtomically, cacheRoot, locksDir, safeName } from './cache.js';
import { systemDebianMirror } from './apt.js';
import { withLock } from './lock.js';

const run = promisify(execFile);

/** Debian suite names a userspace may be built from (what debootstrap knows by name). */
export const USERSPACE_RE = /^[a-z][a-z0-9-]*$/;
export const IMAGE_REPO = 'pidfd-matrix/userspace';
/** Bump when the recipe below changes: cached roots and images of an older recipe are rebuilt. */
const RECIPE = 1;
/** Packages whose exact versions every cell records (the libc a probe calls, node's C++ runtime). */
export const RECORDED_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'];

export class UserspaceError extends Error {}

export type Progress = (line: string) => void;

/** What <cache>/userspaces/<suite>/userspace.json says about a built root. */
export interface UserspaceMeta {
  recipe: number;
  suite: string;
  mirror: string;
  variant: 'minbase';
  /** The builder and its version: debootstrap, or mmdebstrap for a root of another architecture. */
  debootstrap: string;
  builtAt: string;
  seconds: number;
  /** Every installed package and its exact version (from the root's dpkg status file). */
  packages: Record<string, string>;
  /** Packages added to minbase (--include) for a flavour of the root, e.g. a bootable guest root. */
  include?: string[];
  /** Debian architecture of a foreign root (`arm64`); absent: this machine's (amd64). */
  arch?: string;
}

/**
 * A flavour of a suite's root, cached beside the plain one (<suite>-<name>): minbase plus
 * `include` (debootstrap --include). vm/guest-root.ts boots one: virtme-init needs udev (the
 * virtio-serial port names), kmod and poweroff, which a container root does without.
 */
export interface RootFlavor { name: string; include: string[] }

/** This machine's Debian architecture: a root of another one is built through qemu-user-static. */
export const HOST_DEB_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';
/** The qemu-user binfmt_misc entry that runs a foreign root's binaries (its maintainer scripts, in a chroot). */
const QEMU_BINFMT: Record<string, string> = { arm64: 'qemu-aarch64' };

/** Cache name of a root: <suite>[-<arch> when foreign][-<flavour>]. */
export function rootName(suite: string, o: { flavor?: RootFlavor; arch?: string } = {}): string {
  const arch = o.arch && o.arch !== HOST_DEB_ARCH ? `-${o.arch}` : '';
  return `${suite}${arch}${o.flavor ? `-${o.flavor.name}` : ''}`;
}

/**
 * Why this machine cannot run a foreign root's binaries, or null when it can: the packages are
 * configured inside the root (chroot), which needs qemu-user-static registered with binfmt_misc
 * (flag F: the interpreter is opened at registration, so the chroot needs no copy of it).
 */
export function foreignArchProblem(arch: string, binfmtDir = '/proc/sys/fs/binfmt_misc'): string | null {
  const entry = QEMU_BINFMT[arch];
  const fix = 'apt-get install qemu-user-static binfmt-support; mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable';
  if (!entry) return `no foreign root for Debian architecture '${arch}' (known: ${Object.keys(QEMU_BINFMT).join(', ')})`;
  const f = join(binfmtDir, entry);
  if (!existsSync(f)) return `${f} is missing, so an ${arch} root's programs cannot run here: ${fix} ${entry}`;
  const text = readFileSync(f, 'utf8');
  if (!/^enabled$/m.test(text)) return `${f} is disabled: update-binfmts --enable ${entry}`;
  if (!/^flags:.*F/m.test(text)) return `${f} lacks flag F (fix-binary), so a chroot cannot find its interpreter: reinstall qemu-user-static (Debian registers it with F)`;
  return null;
}

export const userspacesDir = (root = cacheRoot()) => join(root, 'userspaces');
export const userspaceDir = (suite: string, root = cacheRoot()) => join(userspacesDir(root), safeName(suite));
export const imageTag = (suite: string) => `${IMAGE_REPO}:${suite}`;

/** Installed packages and versions from a dpkg status file (only those dpkg calls installed). */
export function parseDpkgStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package'), version = field('Version'), status = field('Status');
    if (name && version && status?.endsWith(' installed')) out[name] = version;
  }
  return out;
}

/** The recorded subset: libc6's exact version and its neighbours, for facts and JUnit properties. */
export function recordedPackages(meta: Pick<UserspaceMeta, 'packages'>): Record<string, string> {
  return Object.fromEntries(RECORDED_PACKAGES.flatMap((p) => (meta.packages[p] ? [[p, meta.packages[p]]] : [])));
}

function checkSuite(suite: string): void {
  if (!USERSPACE_RE.test(suite)) throw new UserspaceError(`userspace '${suite}' is not a Debian suite name (bullseye, bookworm, trixie, sid)`);
}

/** The metadata of a cached root, or null when there is none (or of an older recipe). */
export function readUserspace(suite: string, root = cacheRoot()): UserspaceMeta | null {
  const f = join(userspaceDir(suite, root), 'userspace.json');
  if (!existsSync(f) || !existsSync(join(userspaceDir(suite, root), 'rootfs', 'usr'))) return null;
  try {
    const m = JSON.parse(readFileSync(f, 'utf8')) as UserspaceMeta;
    return m.recipe === RECIPE ? m : null;
  } catch {
    return null;
  }
}

async function debootstrapVersion(): Promise<string> {
  try {
    return (await run('debootstrap', ['--version'])).stdout.trim();
  } catch {
    throw new UserspaceError('debootstrap is not installed: run `make deps` (harness/userspace-setup.sh installs it) or `apt-get install debootstrap`');
  }
}

/**
 * The fix for a failed debootstrap/mmdebstrap, from its last lines. mmdebstrap needs arch-test to
 * build a foreign root (a fresh machine without it stopped with "install arch-test for foreign
 * architecture support"); anything else is most often the mirror or the suite name.
 */
export function bootstrapFix(tail: string[]): string {
  if (tail.some((l) => /install arch-test/.test(l))) return 'run `make deps` (scripts/setup/arm64.sh installs arch-test) or `apt-get install arch-test`';
  return 'check that the mirror answers (apt-get update) and that the suite exists there';
}

/** Runs debootstrap (or mmdebstrap) with its output in `log`, one progress line every 20 s with the step it is on. */
function debootstrap(args: string[], log: string, say: Progress, label: string, cmd = 'debootstrap'): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(log);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = '', tail: string[] = [];
    const take = (d: Buffer) => {
      out.write(d);
      for (const l of d.toString().split('\n').filter((x) => x.trim())) {
        if (l.startsWith('I: ')) last = l.slice(3);
        tail = [...tail, l].slice(-15);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const t0 = Date.now();
    const timer = setInterval(() => say(`${label}: ${cmd} ${Math.round((Date.now() - t0) / 1000)}s: ${last || 'starting'}`), 20_000);
    child.on('error', (e) => { clearInterval(timer); reject(new UserspaceError(`cannot run ${cmd}: ${e.message}`)); });
    child.on('close', (code) => {
      clearInterval(timer);
      out.end();
      if (code === 0) resolve();
      else reject(new UserspaceError(`${cmd} ${args.join(' ')} failed (exit ${code}); log: ${log}\n${tail.join('\n')}\n  fix: ${bootstrapFix(tail)}`));
    });
  });
}

/**
 * A foreign root is built with mmdebstrap, not debootstrap: both configure the packages inside
 * the root under qemu-user, but debootstrap's second stage resolves each package with perl over
 * the Packages file there, emulated (measured 2026-12-06, trixie arm64 minbase + nodejs, load
 * 13-15: the required set took 20 min, then 1 of the 36 others in 15 min, not finished after
 * 60 min); mmdebstrap resolves and downloads with the host's apt and installs in batches.
 */
async function mmdebstrapVersion(): Promise<string> {
  try {
    return (await run('mmdebstrap', ['--version'])).stdout.trim();
  } catch {
    throw new UserspaceError('mmdebstrap is not installed (a root of another architecture is built with it): apt-get install mmdebstrap arch-test');
  }
}

/**
 * The root directory of `suite`'s minimal userspace, built once (65-121 s and about 170 MB per
 * suite here) and served from the cache afterwards. Needs root (debootstrap chroots).
 */
export async function ensureRootfs(suite: string, o: { progress?: Progress; cache?: string; mirror?: string; flavor?: RootFlavor; arch?: string } = {}): Promise<string> {
  checkSuite(suite);
  if (o.flavor && (!USERSPACE_RE.test(o.flavor.name) || o.flavor.include.some((p) => !/^[a-z0-9][a-z0-9.+-]*$/.test(p))))
    throw new UserspaceError(`root flavour ${JSON.stringify(o.flavor)}: a lowercase name and Debian package names`);
  const foreign = o.arch && o.arch !== HOST_DEB_ARCH ? o.arch : null;
  const name = rootName(suite, o);
  const root = o.cache ?? cacheRoot();
  const say = o.progress ?? (() => {});
  const dir = userspaceDir(name, root);
  return withLock(join(locksDir(root), `userspace-${safeName(name)}.lock`), async () => {
    if (readUserspace(name, root)) return join(dir, 'rootfs');
    if (process.getuid?.() !== 0) throw new UserspaceError(`building the ${suite} userspace needs root (debootstrap chroots): run as root, or build it once with \`sudo npx pidfd-matrix matrix ...\``);
    const problem = foreign && foreignArchProblem(foreign);
    if (problem) throw new UserspaceError(`building the ${foreign} root of ${suite}: ${problem}`);
    const version = foreign ? await mmdebstrapVersion() : await debootstrapVersion();
    const tool = foreign ? 'mmdebstrap' : 'debootstrap';
    const mirror = o.mirror ?? systemDebianMirror();
    const include = o.flavor?.include.length ? [`--include=${o.flavor.include.join(',')}`] : [];
    const archArgs = foreign ? ['--mode=root', `--arch=${foreign}`] : [];
    say(`userspace ${name}: ${tool} --variant=minbase ${[...archArgs, ...include].join(' ')} from ${mirror} into ${dir} (once; cached afterwards)`);
    // An unfinished earlier attempt (a dir without userspace.json) is replaced atomically.
    if (existsSync(dir)) await run('rm', ['-rf', '--one-file-system', dir]);
    const t0 = Date.now();
    await buildAtomically(dir, async (tmp) => {
      const rootfs = join(tmp, 'rootfs');
      await debootstrap(['--variant=minbase', ...archArgs, ...include, suite, rootfs, mirror], join(tmp, `${tool}.log`), say, `userspace ${name}`, tool);
      // The .debs debootstrap leaves behind are 80 MB nobody reads again.
      if (existsSync(join(rootfs, 'var/cache/apt/archives'))) await run('find', [join(rootfs, 'var/cache/apt/archives'), '-name', '*.deb', '-delete']);
      const packages = parseDpkgStatus(await readFile(join(rootfs, 'var/lib/dpkg/status'), 'utf8'));
      if (!packages.libc6) throw new UserspaceError(`${tool} of ${suite} finished but the root has no libc6 (log: ${join(tmp, `${tool}.log`)})`);
      const meta: UserspaceMeta = { recipe: RECIPE, suite, mirror, variant: 'minbase', debootstrap: version, builtAt: new Date().toISOString(), seconds: Math.round((Date.now() - t0) / 1000), packages, ...(o.flavor ? { include: o.flavor.include } : {}), ...(foreign ? { arch: foreign } : {}) };
      await writeFile(join(tmp, 'userspace.json'), JSON.stringify(meta, null, 1) + '\n');
    });
    const meta = readUserspace(name, root)!;
    say(`userspace ${name}: built in ${meta.seconds}s (libc6 ${meta.packages.libc6})`);
    return join(dir, 'rootfs');
  });
}

/** Identity of a root: its suite, recipe and exact package set. The image carries it as a label. */
export function userspaceId(meta: UserspaceMeta): string {
  const list = Object.entries(meta.packages).sort(([a], [b]) => a.localeCompare(b)).map(([p, v]) => `${p}=${v}`).join('\n');
  return createHash('sha256').update(`recipe ${meta.recipe}\n${meta.suite}\n${list}`).digest('hex').slice(0, 16);
}

const ID_LABEL = 'pidfd-matrix.userspace.id';

async function docker(args: string[]): Promise<string> {
  try {
    return (await run('docker', args, { maxBuffer: 16 << 20 })).stdout.trim();
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT') throw new UserspaceError('no docker client: run `make deps` (harness/docker-setup.sh installs docker.io and starts dockerd)');
    const why = (err.stderr || err.message).trim().split('\n').slice(-3).join(' ');
    if (/Cannot connect to the Docker daemon/i.test(why)) throw new UserspaceError(`dockerd is not running: ${why}; run \`make deps\` (harness/docker-setup.sh starts it)`);
    throw new UserspaceError(`docker ${args[0]} failed: ${why}`);
  }
}

/** The userspace identity an image was imported from, or null when there is no such image. */
async function imageUserspaceId(tag: string): Promise<string | null> {
  try {
    return (await run('docker', ['image', 'inspect', '-f', `{{index .Config.Labels "${ID_LABEL}"}}`, tag])).stdout.trim() || null;
  } catch {
    return null;
  }
}

/** `suite`'s root as a local Docker image (pidfd-matrix/userspace:<suite>), imported once per root. */
export async function ensureImage(suite: string, o: { progress?: Progress; cache?: string; mirror?: string } = {}): Promise<string> {
  const root = o.cache ?? cacheRoot();
  const say = o.progress ?? (() => {});
  const rootfs = await ensureRootfs(suite, o);
  const meta = readUserspace(suite, root)!;
  const id = userspaceId(meta);
  const tag = imageTag(suite);
  return withLock(join(locksDir(root), `userspace-${safeName(suite)}.lock`), async () => {
    if ((await imageUserspaceId(tag)) === id) return tag;
    await docker(['version', '--format', '{{.Server.Version}}']);
    say(`userspace ${suite}: docker import ${rootfs} as ${tag}`);
    await new Promise<void>((resolve, reject) => {
      const tar = spawn('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const imp = spawn('docker', ['import', '--change', `LABEL ${ID_LABEL}=${id}`, '--change', `LABEL pidfd-matrix.userspace.libc6=${meta.packages.libc6}`,
        '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-', tag], { stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      tar.stderr.on('data', (d) => (err += d));
      imp.stderr.on('data', (d) => (err += d));
      tar.stdout.pipe(imp.stdin);
      imp.on('error', (e) => reject(new UserspaceError(`cannot run docker import: ${e.message}; run \`make deps\``)));
      imp.on('close', (code) => (code === 0 ? resolve() : reject(new UserspaceError(`docker import of ${rootfs} as ${tag} failed (exit ${code}): ${err.trim().slice(-500)}`))));
    });
    say(`userspace ${suite}: image ${tag} ready (libc6 ${meta.packages.libc6})`);
    return tag;
  });
}

/** Built userspaces and what they hold (for `kernels list`-style listings and cells' facts). */
export function userspaceInfo(suite: string, root = cacheRoot()): (UserspaceMeta & { id: string; rootfs: string; image: string }) | null {
  const meta = readUserspace(suite, root);
  if (!meta) return null;
  return { ...meta, id: userspaceId(meta), rootfs: join(userspaceDir(suite, root), 'rootfs'), image: imageTag(suite) };
}
