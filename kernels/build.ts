// Builds a bootable kernel from a source tree, kunit_tool style: a BuildRequest goes through
// phases (identify -> config -> build -> collect) and ends in a BuildOutcome, either a cached
// image (x86_64 bzImage, arm64 Image: kernels/build-arch.ts) or a BuildFailure with the log tail.
// Builds run out of tree (O=), so the user's tree stays clean, and are cached by source
// identity, config hash, compiler version and architecture, so a second run builds nothing.
import { $ } from 'zx/core';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, closeSync, createWriteStream, existsSync, lstatSync, openSync, readFileSync, readSync, readdirSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse as parseYaml } from 'yaml';
import { buildAtomically, cacheRoot, holdKernelCache, lockCacheEntry } from './cache.js';
import { arm64ImageMagicOk, bzImageRelease } from './layout.js';
import { damage, fingerprint, truncatedBzImage, type Integrity } from './integrity.js';
import { isGitTop, sourceIdentity, type SourceIdentity } from './source-identity.js';
import { treeIdentity, type KernelIdentity } from './identity.js';
import { OriginClaimError, PROVENANCE_FILE, readProvenanceFile, type OriginClaim } from './origin-claim.js';
import { REPO_ROOT } from '../suites/lib/paths.js';
import { buildArchSpec, compilerOf, missingCrossCompiler, type BuildArch, type BuildArchSpec } from './build-arch.js';

/** Bump when the recipe below changes what a build produces: old cache entries stop matching. */
const RECIPE = 'tinyconfig+merge_config-m+drop-CONFIG_LSM+olddefconfig+bzImage/v1';
export const DEFAULT_FRAGMENT = join(REPO_ROOT, 'kernels/configs/pidfd-minimal.config');
const WORKAROUNDS_FILE = join(REPO_ROOT, 'kernels/configs/workarounds.yaml');

export const buildsDir = (root = cacheRoot()) => join(root, 'builds');

export interface BuildRequest {
  /** The kernel source tree (never written to, except exec bits of a snapshot's scripts). */
  tree: string;
  /** Extra config fragments merged after the shipped ones (pidfd-minimal.config, then arch/<arch>.config). */
  fragments?: string[];
  /** Replace the shipped common fragment (null: tinyconfig plus only the user's fragments, no arch fragment). */
  baseFragment?: string | null;
  /** The architecture to build for (default x86_64; arm64 cross-compiles with aarch64-linux-gnu-). */
  arch?: BuildArch;
  /** Known identity (a Debian source package version) instead of hashing the tree. */
  identity?: SourceIdentity;
  /** What proves where the tree came from (a Debian source package's .deb from the signed index). */
  known?: Partial<KernelIdentity> & { kind: 'debian' | 'tarball' };
  /** Where a tree with no .git came from, as the user says (--origin; else the tree's PROVENANCE file). */
  claim?: OriginClaim;
  /** Prefix of progress lines (a matrix id). */
  label?: string;
  jobs?: number;
  /** Run make under `nice -n 19` (default), so guests and tests preempt the build. */
  nice?: boolean;
  cache?: string;
  progress?: (line: string) => void;
  progressEveryMs?: number;
  /** Build again even when a cached build matches. */
  force?: boolean;
  /** The make binary (tests use a fake tree with its own Makefile; default 'make'). */
  make?: string;
}

export interface BuildRecord {
  key: string;
  kimg: string;          // <dir>/boot/vmlinuz-<release>
  release: string;
  dir: string;
  config: string;        // the final .config
  log: string;
  buildSeconds: number;  // how long the build that produced this entry took
  builtAt: string;
  tree: string;
  identity: SourceIdentity;
  version: string;       // from the tree's Makefile
  configHash: string;
  fragments: string[];
  workarounds: string[];
  compiler: string;
  /** Options the fragments ask for that this kernel's config does not have (absent symbols). */
  missingOptions: string[];
  /** The image as built (kernels/integrity.ts), checked before each use of the cached build. */
  integrity?: Integrity;
  /** Where the source came from as far as it is proven, its Makefile version and pidfd source hashes. */
  kernelIdentity?: KernelIdentity;
  /** The architecture built for (records written before `--arch` existed are x86_64). */
  arch?: BuildArch;
}
export type BuiltKernel = BuildRecord & { ok: true; cached: boolean };
export interface BuildFailure {
  ok: false;
  phase: 'config' | 'build' | 'collect';
  /** One line, starting with "build failed". */
  reason: string;
  logPath: string;
  logTail: string;
  seconds: number;
  tree: string;
  identity: SourceIdentity;
}
export type BuildOutcome = BuiltKernel | BuildFailure;

/** Bad input or a missing tool: the build never started. Names the fix. */
export class BuildSetupError extends Error {}

/** A cached build whose image no longer matches what was built: named with the command that rebuilds it. */
export class DamagedBuildError extends BuildSetupError {}

// ---------------------------------------------------------------------------------------
// Pure helpers (unit-tested)

/** VERSION.PATCHLEVEL.SUBLEVEL of a kernel Makefile. */
export function makefileVersion(text: string): [number, number, number] | null {
  const v = (k: string) => new RegExp(`^${k}\\s*=[ \\t]*(\\d*)`, 'm').exec(text)?.[1];
  const [a, b, c] = [v('VERSION'), v('PATCHLEVEL'), v('SUBLEVEL')];
  if (!a || b === undefined) return null;
  return [Number(a), Number(b || 0), Number(c || 0)];
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** ">=5.1 <5.2" style ranges: every clause must hold. */
export function inRange(v: number[], range: string): boolean {
  return range.trim().split(/\s+/).every((clause) => {
    const m = /^(>=|<=|>|<|=)?(\d+(?:\.\d+)*)$/.exec(clause);
    if (!m) throw new BuildSetupError(`${WORKAROUNDS_FILE}: bad version clause '${clause}' (use e.g. ">=5.1 <5.2")`);
    const c = cmp(v, m[2].split('.').map(Number));
    switch (m[1] ?? '=') {
      case '>=': return c >= 0;
      case '<=': return c <= 0;
      case '>': return c > 0;
      case '<': return c < 0;
      default: return c === 0;
    }
  });
}

export interface Workaround { id: string; versions: string; gcc?: string; fragment: string; why: string }

export function loadWorkarounds(file = WORKAROUNDS_FILE): Workaround[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { workarounds?: Workaround[] };
  return (doc.workarounds ?? []).map((w) => ({ ...w, fragment: resolve(dirname(file), w.fragment) }));
}

export function applicableWorkarounds(all: Workaround[], version: number[], gccMajor: number): Workaround[] {
  return all.filter((w) => inRange(version, w.versions) && (!w.gcc || inRange([gccMajor], w.gcc)));
}

/** The CONFIG_X=y / "# CONFIG_X is not set" requests of a fragment. */
export function fragmentRequests(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    let m = /^(CONFIG_\w+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1], m[2]);
    m = /^# (CONFIG_\w+) is not set$/.exec(line.trim());
    if (m) out.set(m[1], 'n');
  }
  return out;
}

/** Requested options the final .config does not honour (symbols this version lacks, or deps). */
export function missingOptions(fragmentTexts: string[], finalConfig: string): string[] {
  const have = fragmentRequests(finalConfig);
  const missing: string[] = [];
  for (const text of fragmentTexts) {
    for (const [k, v] of fragmentRequests(text)) {
      const got = have.get(k) ?? 'n';
      if (got !== v && !missing.includes(k)) missing.push(k);
    }
  }
  return missing;
}

/** kunit_tool's idea: the config phase edits .config text; tinyconfig's CONFIG_LSM list lacks selinux. */
export function dropLsmLine(config: string): string {
  return config.split('\n').filter((l) => !l.startsWith('CONFIG_LSM=')).join('\n');
}

/** "  CC      kernel/fork.o" -> "CC kernel/fork.o" (kbuild's quiet output), else null. */
export function kbuildStep(line: string): string | null {
  const m = /^\s+([A-Z][A-Z0-9_]*(?: \[[A-Z]\])?)\s+(\S+)\s*$/.exec(line);
  return m ? `${m[1]} ${m[2]}` : null;
}

/** The first line of a log that says what broke. */
export function firstError(lines: string[]): string | null {
  return lines.find((l) => /(^|\s)(fatal )?error:|\*\*\* |Error \d+|undefined reference/.test(l) && !/^make(\[\d+\])?: \*\*\* \[/.test(l)) ??
    lines.find((l) => /\*\*\*|Error \d+/.test(l)) ?? null;
}

export function formatSeconds(s: number): string {
  s = Math.round(s);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

// ---------------------------------------------------------------------------------------
// Phases

/** Host tools a kernel build needs (and the cross compiler of another arch), and the script that installs them. */
export function checkBuildTools(spec: BuildArchSpec = buildArchSpec(undefined)): void {
  const need: [string, string][] = [['make', '/usr/bin/make'], ['gcc', '/usr/bin/gcc'], ['flex', '/usr/bin/flex'], ['bison', '/usr/bin/bison'], ['bc', '/usr/bin/bc'], ['libelf-dev', '/usr/include/libelf.h'], ['libssl-dev', '/usr/include/openssl/opensslv.h']];
  const missing = need.filter(([, p]) => !existsSync(p)).map(([n]) => n);
  if (missing.length) throw new BuildSetupError(`building a kernel needs ${missing.join(', ')}; install them with: bash scripts/setup/kernel-build.sh (or make build-deps)`);
  const cross = missingCrossCompiler(spec);
  if (cross) throw new BuildSetupError(cross);
}

async function compilerVersion(spec: BuildArchSpec): Promise<{ text: string; major: number; ccache: boolean }> {
  // No gcc (a machine that never builds): the key still says so, and checkBuildTools stops real builds.
  const q = $({ quiet: true, nothrow: true });
  const first = async (cmd: string, args: string[]) => {
    const out = await q`${cmd} ${args}`;
    return out.ok ? out.stdout.split('\n')[0].trim() : `${cmd}: not installed`;
  };
  // The compiler that makes the kernel: the cross one for another arch (the host's gcc only builds Kbuild's tools).
  const cc = compilerOf(spec);
  const gcc = await first(cc.gcc, ['--version']);
  const ld = await first(cc.ld, ['--version']);
  const major = Number((await first(cc.gcc, ['-dumpversion'])).split('.')[0]) || 0;
  const ccache = (await q`ccache --version`).ok;
  return { text: `${gcc}; ${ld}`, major, ccache };
}

/** A snapshot extracted without modes: give '#!' scripts their executable bit back. */
function restoreExecBits(tree: string): number {
  let fixed = 0;
  const walk = (dir: string) => {
    for (const ent of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, ent.name);
      if (ent.isDirectory()) { if (ent.name !== '.git') walk(p); continue; }
      if (!ent.isFile()) continue;
      const mode = lstatSync(p).mode;
      if (mode & 0o100) continue;
      const fd = openSync(p, 'r');
      const head = Buffer.alloc(2);
      const n = readSync(fd, head, 0, 2, 0);
      closeSync(fd);
      if (n === 2 && head.toString('latin1') === '#!') { chmodSync(p, mode | 0o111); fixed++; }
    }
  };
  for (const sub of ['scripts', 'tools', 'arch']) if (existsSync(join(tree, sub))) walk(join(tree, sub));
  return fixed;
}

interface MakeRun { code: number | null; lastStep: string | null }

// make runs in its own process group, killed as a whole when we exit (^C, SIGTERM handlers
// that call process.exit), so an interrupted build leaves no compiler running.
const liveMakes = new Set<number>();
let exitHooked = false;
function trackGroup(pid: number | undefined): () => void {
  if (!pid) return () => {};
  liveMakes.add(pid);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => liveMakes.forEach((p) => { try { process.kill(-p, 'SIGKILL'); } catch { /* gone */ } }));
  }
  return () => liveMakes.delete(pid);
}

/** Runs make with output appended to the log, a progress line every `every` ms. */
async function runMake(make: string, args: string[], o: { log: string; nice: boolean; phase: string; say: (l: string) => void; every: number; t0: number; env?: NodeJS.ProcessEnv }): Promise<MakeRun> {
  const log = createWriteStream(o.log, { flags: 'a' });
  log.write(`\n$ ${make} ${args.join(' ')}\n`);
  const argv = o.nice ? ['nice', '-n', '19', make, ...args] : [make, ...args];
  const p = $({ env: { ...process.env, ...o.env }, detached: true, nothrow: true, quiet: true, stdio: ['ignore', 'pipe', 'pipe'] })`${argv}`;
  const untrack = trackGroup(p.pid);
  let lastStep: string | null = null;
  let partial = '';
  // gcc quotes names with UTF-8 ‘’: decode across chunk boundaries, not byte by byte.
  const utf8 = new StringDecoder('utf8');
  // Read as it comes (zx's line iterator would take stdout from the log): the progress line
  // names the file being compiled now.
  const onData = (b: Buffer) => {
    log.write(b);
    const lines = (partial + utf8.write(b)).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) lastStep = kbuildStep(l) ?? lastStep;
  };
  p.stdout.on('data', onData);
  p.stderr.on('data', onData);
  const tick = setInterval(() => o.say(`${o.phase}, ${formatSeconds((Date.now() - o.t0) / 1000)} elapsed${lastStep ? `, last: ${lastStep}` : ''}`), o.every);
  const out = await p;
  clearInterval(tick);
  untrack();
  if (out.cause) log.write(`\n${make}: ${out.cause.message}\n`);
  await new Promise<void>((res) => log.end(res));
  return { code: out.cause ? 127 : out.exitCode, lastStep };
}

async function tailOf(file: string, n = 25): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.replace(/\r/g, '').split('\n').filter((l) => l.trim()).slice(-n);
}

/** A cached build's identity, read again from the tree when the record has none or an origin is named now. */
async function cachedIdentity(recorded: KernelIdentity | undefined, tree: string, req: BuildRequest): Promise<KernelIdentity> {
  if (recorded && !req.claim && !existsSync(join(tree, PROVENANCE_FILE))) return recorded;
  return treeIdentity(tree, req.known, req.claim);
}

/** The cache entry a request maps to, without building (identify + config hash). */
export async function planBuild(req: BuildRequest) {
  const tree = resolve(req.tree);
  if (!existsSync(join(tree, 'Makefile')) || !existsSync(join(tree, 'scripts/kconfig'))) {
    throw new BuildSetupError(`${tree} is not a kernel source tree (no Makefile and scripts/kconfig/); give the top of a Linux tree`);
  }
  // Kbuild refuses O= builds of a tree configured in place; say so before anything runs.
  if (existsSync(join(tree, '.config')) || existsSync(join(tree, 'include/config'))) {
    throw new BuildSetupError(`${tree} has an in-tree configuration (.config or include/config/); out-of-tree builds need a clean source tree: run 'make mrproper' in it (it deletes the in-tree build)`);
  }
  // A PROVENANCE file that names no usable origin stops here, before an hour of building.
  try {
    readProvenanceFile(tree);
  } catch (e) {
    if (e instanceof OriginClaimError) throw new BuildSetupError(e.message);
    throw e;
  }
  const version = makefileVersion(readFileSync(join(tree, 'Makefile'), 'utf8'));
  if (!version) throw new BuildSetupError(`${tree}/Makefile has no VERSION/PATCHLEVEL lines; is this a Linux tree?`);
  const spec = buildArchSpec(req.arch);
  const compiler = await compilerVersion(spec);
  const base = req.baseFragment === undefined ? DEFAULT_FRAGMENT : req.baseFragment;
  // The shipped fragments: the common one, then the one of the machine vng boots for this arch.
  const shipped = base ? [base, spec.fragment] : [];
  const user = (req.fragments ?? []).map((f) => resolve(f));
  for (const f of [...shipped, ...user]) if (!existsSync(f)) throw new BuildSetupError(`config fragment ${f} does not exist`);
  const workarounds = applicableWorkarounds(loadWorkarounds(), version, compiler.major);
  const fragments = [...shipped, ...user, ...workarounds.map((w) => w.fragment)];
  const texts = fragments.map((f) => readFileSync(f, 'utf8'));
  const configHash = createHash('sha256').update(RECIPE).update(texts.join('\0---\0')).digest('hex').slice(0, 16);
  const identity = req.identity ?? (await sourceIdentity(tree));
  const key = createHash('sha256').update(`${identity.id}\0${configHash}\0${compiler.text}\0ARCH=${spec.kbuild}`).digest('hex').slice(0, 20);
  return { tree, version, compiler, fragments, texts, workarounds, configHash, identity, key, spec };
}

export async function readBuildRecord(dir: string): Promise<BuildRecord | null> {
  try {
    const r = JSON.parse(await readFile(join(dir, 'build.json'), 'utf8')) as BuildRecord;
    return existsSync(r.kimg) ? r : null;
  } catch {
    return null;
  }
}

export async function buildKernel(req: BuildRequest): Promise<BuildOutcome> {
  const label = req.label ?? 'build';
  const say = (l: string) => req.progress?.(`${label}: ${l}`);
  const root = req.cache ?? cacheRoot();
  if (!req.make) checkBuildTools(buildArchSpec(req.arch));
  // --- identify
  const plan = await planBuild(req);
  const { tree, version, compiler, fragments, texts, workarounds, configHash, identity, key } = plan;
  const dest = join(buildsDir(root), key);
  const cached = await usableRecord(req, plan, dest);
  if (cached) {
    say(`cached build ${key} of ${identity.description} (built in ${formatSeconds(cached.buildSeconds)} on ${cached.builtAt.slice(0, 16)}): nothing to build -> ${cached.kimg}`);
    // Entries built before identities were recorded: the same content, so the tree tells it now;
    // likewise an origin named after the build (the claim is no part of the content hash).
    return { ...cached, kernelIdentity: await cachedIdentity(cached.kernelIdentity, tree, req), ok: true, cached: true };
  }
  // Two runs never share an object dir at once, and `kernels clean` waits for us.
  const objKey = createHash('sha256').update(`${tree}\0${configHash}\0${compiler.text}\0${plan.spec.arch}`).digest('hex').slice(0, 16);
  const held = await holdKernelCache(root);
  const waiting = setTimeout(() => say(`waiting for another build of this tree and config (same object dir) to finish ...`), 2000);
  const objLock = await lockCacheEntry(`build-obj-${objKey}`, root).catch(async (e) => { await held.release(); throw e; }).finally(() => clearTimeout(waiting));
  try {
    const again = await usableRecord(req, plan, dest); // built by the run we waited for
    if (again) {
      say(`cached build ${key} (built meanwhile by another run): nothing to build -> ${again.kimg}`);
      return { ...again, kernelIdentity: await cachedIdentity(again.kernelIdentity, tree, req), ok: true, cached: true };
    }
    // --force over a damaged entry: out of the way, or the new build could not take its place.
    const old = await readBuildRecord(dest);
    if (req.force && old && (await buildDamage(old))) await rm(dest, { recursive: true, force: true });
    return await runPhases(req, plan, dest, join(buildsDir(root), 'obj', objKey), root, say);
  } finally {
    await objLock.release();
    await held.release();
  }
}

/** Why a cached build cannot be used as it is (its recorded fingerprint, or a truncated image); null: intact. */
export function buildDamage(r: BuildRecord): Promise<string | null> {
  return r.integrity ? damage(r.integrity, r.kimg, null) : Promise.resolve(truncatedBzImage(r.kimg));
}

/** The cached record unless --force; a damaged one stops the run, naming the file and the rebuild. */
async function usableRecord(req: BuildRequest, plan: Awaited<ReturnType<typeof planBuild>>, dest: string): Promise<BuildRecord | null> {
  if (req.force) return null;
  const r = await readBuildRecord(dest);
  const bad = r && (await buildDamage(r));
  if (!bad) return r;
  throw new DamagedBuildError(`the cached build ${plan.key} is damaged: ${bad}. Build it again: ${rebuildCommand(plan)}`);
}

/** The `kernels build` command line that makes the same cache entry, with --force. */
export function rebuildCommand(plan: { tree: string; identity: SourceIdentity; fragments: string[]; workarounds: Pick<Workaround, 'fragment'>[]; spec: BuildArchSpec }): string {
  const deb = /^debian (\S+) (\S+)=/.exec(plan.identity.id.startsWith('debian:') ? plan.identity.description : '');
  const src = deb ? `--package ${deb[2]} --suite ${deb[1]}` : plan.tree;
  // The shipped fragments and the workarounds come by themselves; only the user's are options.
  const implicit = new Set([DEFAULT_FRAGMENT, plan.spec.fragment, ...plan.workarounds.map((w) => w.fragment)]);
  const user = plan.fragments.filter((f) => !implicit.has(f));
  const arch = plan.spec.arch === 'x86_64' ? '' : ` --arch ${plan.spec.arch}`;
  return `pidfd-matrix kernels build ${src}${arch}${user.map((f) => ` --config ${f}`).join('')} --force`;
}

async function runPhases(req: BuildRequest, plan: Awaited<ReturnType<typeof planBuild>>, dest: string, obj: string, root: string, say: (l: string) => void): Promise<BuildOutcome> {
  const { tree, version, compiler, fragments, texts, workarounds, configHash, identity, key, spec } = plan;
  const vtext = version.join('.');
  // The object dir is kept per tree and config, so the next revision of the same tree (a
  // bisect step) rebuilds only what changed; the finished kernel is copied into the cache.
  const logDir = join(buildsDir(root), 'logs');
  await mkdir(obj, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const log = join(logDir, `${key}.log`);
  writeFileSync(log, `# pidfd-matrix kernels build: ${tree} (${identity.description}), Linux ${vtext}, ${spec.arch}\n# fragments: ${fragments.join(' ')}\n# compiler: ${compiler.text}\n`);
  // Only a snapshot whose scripts lost their modes (link-vmlinux.sh is run directly by Kbuild).
  const sentinel = join(tree, 'scripts/link-vmlinux.sh');
  if (!(await isGitTop(tree)) && existsSync(sentinel) && !(lstatSync(sentinel).mode & 0o100)) {
    const n = restoreExecBits(tree);
    if (n) say(`gave ${n} '#!' scripts their executable bit back (the snapshot lost its file modes)`);
  }
  for (const w of workarounds) say(`workaround ${w.id}: ${w.why}`);
  const make = req.make ?? 'make';
  const jobs = req.jobs ?? availableParallelism();
  const nice = req.nice ?? true;
  // ARCH and CROSS_COMPILE always given: a snapshot's Makefile may default to another architecture.
  const cc = compilerOf(spec).gcc;
  const makeArgs = ['-C', tree, `O=${obj}`, `ARCH=${spec.kbuild}`, `CROSS_COMPILE=${spec.crossCompile}`, ...(compiler.ccache && !req.make ? [`CC=ccache ${cc}`] : [])];
  const every = req.progressEveryMs ?? 30_000;
  const t0 = Date.now();
  const failure = async (phase: BuildFailure['phase'], what: string): Promise<BuildFailure> => {
    const lines = await tailOf(log);
    const cause = firstError(lines);
    const seconds = (Date.now() - t0) / 1000;
    say(`build failed in the ${phase} phase after ${formatSeconds(seconds)}; log: ${log}`);
    return { ok: false, phase, reason: `build failed (${phase}: ${what})${cause ? `: ${cause.trim()}` : ''}`, logPath: log, logTail: lines.join('\n'), seconds, tree, identity };
  };
  const step = (phase: string, args: string[]) => runMake(make, [...makeArgs, ...args], { log, nice, phase, say, every, t0 });

  // --- config: tinyconfig, merge the fragments, drop CONFIG_LSM, olddefconfig
  say(`configuring Linux ${vtext} (${identity.description}) for ${spec.arch} in ${obj}: tinyconfig + ${fragments.map((f) => basename(f)).join(' + ')}`);
  let r = await step('config', ['tinyconfig']);
  if (r.code !== 0) return failure('config', `make tinyconfig exited ${r.code}`);
  const mergeOut = await $({ cwd: obj, nothrow: true, quiet: true })`bash ${join(tree, 'scripts/kconfig/merge_config.sh')} -m -O ${obj} ${join(obj, '.config')} ${fragments}`;
  appendFileSync(log, `\n$ merge_config.sh -m -O ${obj} ${obj}/.config ${fragments.join(' ')}\n${mergeOut.stdall}`);
  const merge = mergeOut.cause ? 127 : mergeOut.exitCode;
  if (merge !== 0) return failure('config', `merge_config.sh exited ${merge}`);
  await writeFile(join(obj, '.config'), dropLsmLine(await readFile(join(obj, '.config'), 'utf8')));
  r = await step('config', ['olddefconfig']);
  if (r.code !== 0) return failure('config', `make olddefconfig exited ${r.code}`);
  const finalConfig = await readFile(join(obj, '.config'), 'utf8');
  const missing = missingOptions(texts, finalConfig);
  if (missing.length) say(`not in this kernel's config (symbols this version lacks, or unmet dependencies): ${missing.join(' ')}`);

  // --- build
  const cross = spec.crossCompile ? `, ${cc}` : '';
  say(`building ${spec.target} (make -j${jobs}${nice ? ' under nice -n 19' : ''}${compiler.ccache && !req.make ? ', ccache' : ''}${cross}); log: ${log}`);
  r = await step(`building ${spec.target}`, [`-j${jobs}`, spec.target]);
  if (r.code !== 0) return failure('build', `make ${spec.target} exited ${r.code}`);
  const seconds = (Date.now() - t0) / 1000;

  // --- collect
  const bz = join(obj, spec.image);
  const release = existsSync(bz) ? imageRelease(spec, bz, obj) : null;
  if (!release) return failure('collect', `${bz} is missing or not an ${spec.arch} ${spec.target}`);
  const kernelIdentity = await treeIdentity(tree, req.known, req.claim);
  let record!: BuildRecord;
  await buildAtomically(dest, async (tmp) => {
    await mkdir(join(tmp, 'boot'), { recursive: true });
    await copyFile(bz, join(tmp, 'boot', `vmlinuz-${release}`));
    await copyFile(join(obj, '.config'), join(tmp, 'config'));
    await copyFile(log, join(tmp, 'build.log'));
    record = {
      key, kimg: join(dest, 'boot', `vmlinuz-${release}`), release, dir: dest, config: join(dest, 'config'), log: join(dest, 'build.log'),
      buildSeconds: Math.round(seconds), builtAt: new Date().toISOString(), tree, identity, version: vtext, configHash, fragments,
      workarounds: workarounds.map((w) => w.id), compiler: compiler.text, missingOptions: missing, kernelIdentity,
      integrity: await fingerprint(join(tmp, 'boot', `vmlinuz-${release}`), null), arch: spec.arch,
    };
    await writeFile(join(tmp, 'build.json'), JSON.stringify(record, null, 2) + '\n');
  });
  say(`built ${release} in ${formatSeconds(seconds)} -> ${record.kimg}`);
  return { ...record, ok: true, cached: false };
}

/**
 * The release of a built image: an x86 bzImage says it in its boot header; an arm64 Image does
 * not, so it is Kbuild's include/config/kernel.release, once the image's own header is checked.
 */
function imageRelease(spec: BuildArchSpec, image: string, obj: string): string | null {
  if (spec.arch === 'x86_64') return bzImageRelease(image);
  const fd = openSync(image, 'r');
  const head = Buffer.alloc(0x40);
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const file = join(obj, 'include/config/kernel.release');
  const release = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return arm64ImageMagicOk(head) && /^\d+\.\d+/.test(release) ? release : null;
}

/** One line for provenance: what was built from what (and for which arch, when not x86_64). */
export function describeBuild(b: BuildRecord): string {
  const frags = b.fragments.map((f) => basename(f)).join('+');
  const arch = b.arch && b.arch !== 'x86_64' ? ` ${b.arch}` : '';
  return `build ${b.tree} ${b.identity.description} Linux ${b.version}${arch} config ${frags} (${b.configHash}) ${b.compiler.split(';')[0]}${b.workarounds.length ? ` workarounds ${b.workarounds.join(',')}` : ''}`;
}
