// The build pipeline (identify -> config -> build -> collect) against a fake kernel tree whose
// Makefile answers tinyconfig/olddefconfig/bzImage the way Kbuild does (O= object dir, quiet
// "  CC  file" lines), so the phases, the cache, the progress lines and a build failure are
// exercised for real in seconds. Real kernels are built by `pidfd-matrix kernels build`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applicableWorkarounds, fragmentRequests, buildKernel, DamagedBuildError, describeBuild, dropLsmLine, firstError, inRange, kbuildStep, loadWorkarounds, makefileVersion,
  missingOptions, planBuild, rebuildCommand,
} from './build.js';
import { contentHash, sourceIdentity } from './source-identity.js';
import { unpackSourceTarball } from './tarball-source.js';
import { OriginClaimError, parseOriginOption } from './origin-claim.js';
import { describeIdentity, hasMachinePath, identityConflict, treeIdentity } from './identity.js';
import { fakeBzImage } from '../vm/fixtures/fake-bzimage.js';
import { BUILD_ARCH_SPECS } from './build-arch.js';

const RELEASE = '6.1.999-fake';


// Kbuild's contract as far as build.ts relies on it. olddefconfig fails if CONFIG_LSM= is still
// there (build.ts must delete it) and records the merged fragment; bzImage fails when BREAK exists.
const MAKEFILE = `VERSION = 6
PATCHLEVEL = 1
SUBLEVEL = 999
tinyconfig:
\t@mkdir -p $(O) && printf 'CONFIG_64BIT=y\\nCONFIG_LSM="landlock,lockdown"\\n' > $(O)/.config && echo tinyconfig >> $(O)/calls
olddefconfig:
\t@sed -i '/ABSENT/d' $(O)/.config
\t@if grep -q '^CONFIG_LSM=' $(O)/.config; then echo '*** CONFIG_LSM was not dropped'; exit 1; fi
\t@echo olddefconfig >> $(O)/calls
bzImage:
\t@echo bzImage >> $(O)/calls
\t@echo "  CC      kernel/fork.o"
\t@sleep 0.4
\t@if [ -e $(CURDIR)/BREAK ]; then echo "kernel/fork.c:12:1: error: expected ‘;’ before ‘}’ token"; echo "make[2]: *** [scripts/Makefile.build:250: kernel/fork.o] Error 1"; exit 2; fi
\t@mkdir -p $(O)/arch/x86/boot && cp $(CURDIR)/fake-bzImage $(O)/arch/x86/boot/bzImage
Image:
\t@echo "Image ARCH=$(ARCH) CROSS_COMPILE=$(CROSS_COMPILE)" >> $(O)/calls
\t@echo "  CC      kernel/fork.o"
\t@mkdir -p $(O)/arch/arm64/boot $(O)/include/config && cp $(CURDIR)/fake-Image $(O)/arch/arm64/boot/Image
\t@echo ${RELEASE} > $(O)/include/config/kernel.release
`;
// merge_config.sh -m -O OBJ BASE FRAGMENTS...: append the fragments (enough for the contract).
const MERGE = `#!/bin/sh
shift; shift; out=$1; shift; base=$1; shift
cat "$@" >> "$base"
`;

let work: string;
let tree: string;
let cache: string;
let fragment: string;
const git = (...args: string[]) => execFileSync('git', ['-C', tree, ...args], { encoding: 'utf8' }).trim();

function makeTree(dir: string) {
  mkdirSync(join(dir, 'scripts/kconfig'), { recursive: true });
  mkdirSync(join(dir, 'kernel'), { recursive: true });
  writeFileSync(join(dir, 'Makefile'), MAKEFILE);
  writeFileSync(join(dir, 'scripts/kconfig/merge_config.sh'), MERGE, { mode: 0o755 });
  writeFileSync(join(dir, 'kernel/fork.c'), 'int fork;\n');
  writeFileSync(join(dir, 'fake-bzImage'), fakeBzImage(RELEASE, '(builder@ci) #1 SMP'));
  writeFileSync(join(dir, 'fake-Image'), fakeArm64Image());
}

/** The first bytes of an arm64 Image: the header's magic "ARM\x64" at 0x38, nothing else. */
function fakeArm64Image(): Buffer {
  const b = Buffer.alloc(0x400);
  b.write('ARM\x64', 0x38, 'latin1');
  return b;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-build-'));
  tree = join(work, 'linux');
  cache = join(work, 'cache');
  makeTree(tree);
  execFileSync('git', ['init', '-q', tree]);
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'add', '-A');
  git('-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'import');
  fragment = join(work, 'frag.config');
  writeFileSync(fragment, 'CONFIG_PIDFD_TEST=y\nCONFIG_ABSENT_IN_THIS_VERSION=y\n');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const request = (extra: Partial<Parameters<typeof buildKernel>[0]> = {}) => ({
  tree, cache, make: 'make', nice: false, jobs: 2, baseFragment: fragment, progressEveryMs: 100, ...extra,
});

describe('buildKernel on a fake Kbuild tree', () => {
  it('runs the phases out of tree, caches the kernel and reports progress', async () => {
    const lines: string[] = [];
    const b = await buildKernel(request({ progress: (l) => lines.push(l) }));
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    expect(b.cached).toBe(false);
    expect(b.release).toBe(RELEASE);
    expect(b.kimg).toBe(join(b.dir, 'boot', `vmlinuz-${RELEASE}`));
    expect(readFileSync(b.kimg)).toEqual(fakeBzImage(RELEASE, '(builder@ci) #1 SMP'));
    // The merged config kept the fragment, lost CONFIG_LSM, and says what it could not honour.
    const config = readFileSync(b.config, 'utf8');
    expect(config).toContain('CONFIG_PIDFD_TEST=y');
    expect(config).not.toContain('CONFIG_LSM=');
    expect(b.missingOptions).toEqual(['CONFIG_ABSENT_IN_THIS_VERSION']);
    expect(b.identity.description).toMatch(/\(clean\)$/);
    // Progress: phases, elapsed time, the last compiled file.
    expect(lines.some((l) => /configuring Linux 6\.1\.999/.test(l))).toBe(true);
    expect(lines.some((l) => /building bzImage, \d+s elapsed, last: CC kernel\/fork\.o/.test(l))).toBe(true);
    // The user's tree stays clean: every output went to O=.
    expect(git('status', '--porcelain', '--ignored')).toBe('');
    // build.json says where the source came from: a local git tree (no public remote) is recorded
    // with its commit but unproven, with the Makefile version and the pidfd sources it has.
    const rec = JSON.parse(readFileSync(join(b.dir, 'build.json'), 'utf8'));
    expect(rec.kernelIdentity).toMatchObject({ kind: 'unproven', commit: git('rev-parse', 'HEAD'), makefile: '6.1.999', proven: false });
    expect(Object.keys(rec.kernelIdentity.pidfd_sources)).toEqual(['kernel/fork.c']);
    expect(rec.kernelIdentity.pidfd_sources['kernel/fork.c']).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(rec.kernelIdentity)).not.toContain(work);
  });

  it('a source tarball is unpacked once into the cache and is the build\'s proven identity (name, sha256)', async () => {
    const tarball = join(work, 'linux-6.1.999.tar.gz');
    execFileSync('tar', ['-czf', tarball, '--exclude=.git', '-C', work, 'linux']);
    const said: string[] = [];
    const src = await unpackSourceTarball(tarball, (m) => said.push(m), cache);
    expect(src.unpacked).toBe(true);
    expect(said.join()).toMatch(/unpacking linux-6\.1\.999\.tar\.gz \(sha256 [0-9a-f]{12}\)/);
    expect((await unpackSourceTarball(tarball, () => {}, cache)).unpacked).toBe(false);
    const b = await buildKernel(request({ tree: src.tree, identity: src.identity, known: src.known }));
    expect(b.ok).toBe(true);
    if (!b.ok) return;
    const id = JSON.parse(readFileSync(join(b.dir, 'build.json'), 'utf8')).kernelIdentity;
    expect(id).toMatchObject({ kind: 'tarball', name: 'linux-6.1.999.tar.gz', sha256: src.known.sha256, makefile: '6.1.999', proven: true });
    expect(Object.keys(id.pidfd_sources)).toEqual(['kernel/fork.c']);
  });

  it('a git archive tree names its origin (PROVENANCE, or --origin): the repository and commit, the content\'s git tree id, hashed sources, unproven', async () => {
    const arch = join(work, 'archive');
    mkdirSync(arch);
    execFileSync('sh', ['-c', `git -C '${tree}' archive HEAD | tar -x -C '${arch}'`]);
    const commit = git('rev-parse', 'HEAD');
    // Built before anyone named its origin: unproven, and the message says how to name it.
    const plain = await buildKernel(request({ tree: arch }));
    expect(plain.ok && plain.cached).toBe(false);
    if (!plain.ok) return;
    expect(plain.kernelIdentity).toMatchObject({ kind: 'unproven', proven: false, why: expect.stringContaining('--origin owner/name@commit, or a PROVENANCE file') });
    expect(Object.keys(plain.kernelIdentity!.pidfd_sources!)).toEqual(['kernel/fork.c']);
    // The origin named afterwards: no rebuild (PROVENANCE is no source), the identity names it.
    writeFileSync(join(arch, 'PROVENANCE'), `repo: example/linux-6.1.y\ncommit: ${commit}\ndescribe: v6.1.999 import\n`);
    const named = await buildKernel(request({ tree: arch }));
    expect(named.ok && named.cached).toBe(true);
    if (!named.ok) return;
    expect(named.key).toBe(plain.key);
    const id = named.kernelIdentity!;
    expect(id).toMatchObject({ kind: 'git', repo: 'example/linux-6.1.y', commit, describe: 'v6.1.999 import', makefile: '6.1.999', proven: false });
    // The check anyone with a copy of the repository can make: the content is exactly that commit's tree.
    expect(id.tree).toBe(git('rev-parse', 'HEAD^{tree}'));
    expect(id.why).toContain(`git -C <copy of example/linux-6.1.y> rev-parse ${commit}^{tree}`);
    expect(id.pidfd_sources).toEqual(plain.kernelIdentity!.pidfd_sources);
    expect(id.why).toContain("as the tree's PROVENANCE file says");
    expect(hasMachinePath(JSON.stringify(id))).toBe(false);
    // An edited file is no longer that commit: the tree id says so (and the content hash rebuilds).
    writeFileSync(join(arch, 'kernel/fork.c'), 'int fork; /* local edit */\n');
    const edited = await buildKernel(request({ tree: arch, claim: parseOriginOption(`example/linux-6.1.y@${commit}`) }));
    expect(edited.ok && edited.cached).toBe(false);
    if (!edited.ok) return;
    expect(edited.kernelIdentity!.tree).not.toBe(id.tree);
    expect(edited.kernelIdentity!.why).toContain('as --origin says');
    // A PROVENANCE file that names no usable origin stops the build with the fix.
    writeFileSync(join(arch, 'PROVENANCE'), 'repo: /home/me/linux\ncommit: HEAD\n');
    await expect(buildKernel(request({ tree: arch }))).rejects.toThrow(/is no public repository name \(owner\/name\); give owner\/name@<40-hex commit>/);
    expect(() => parseOriginOption('example/linux@abc123')).toThrow(OriginClaimError);
    // A clone with no public remote: the origin names its repository when it names this HEAD, never another commit.
    expect(await treeIdentity(tree, undefined, parseOriginOption(`example/linux-6.1.y@${commit}`)))
      .toMatchObject({ kind: 'git', repo: 'example/linux-6.1.y', commit, proven: true, why: expect.stringContaining('named by --origin') });
    expect(await treeIdentity(tree, undefined, parseOriginOption(`example/linux-6.1.y@${'f'.repeat(40)}`)))
      .toMatchObject({ kind: 'unproven', proven: false, why: expect.stringContaining(`is example/linux-6.1.y@ffffffffffff, not this HEAD`) });
    expect(parseOriginOption(`daeroro/linux-5.1.15@${commit}:linux-5.1.15/`)).toMatchObject({ repo: 'daeroro/linux-5.1.15', commit, subdir: 'linux-5.1.15' });
  });

  it('builds nothing the second time and says so', async () => {
    const lines: string[] = [];
    const b = await buildKernel(request({ progress: (l) => lines.push(l) }));
    expect(b.ok && b.cached).toBe(true);
    expect(lines.join('\n')).toMatch(/cached build .* nothing to build/);
  });

  it('a cached build whose image was truncated stops the run, naming the file and the rebuild; --force replaces it', async () => {
    const b = await buildKernel(request());
    if (!b.ok) throw new Error(b.reason);
    expect(b.integrity?.kimg.size).toBe(statSync(b.kimg).size);
    truncateSync(b.kimg, 600);
    const err = await buildKernel(request()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DamagedBuildError);
    expect((err as Error).message).toBe(`the cached build ${b.key} is damaged: ${b.kimg} has 600 bytes, ${b.integrity!.kimg.size} were recorded. `
      + `Build it again: pidfd-matrix kernels build ${tree} --config ${fragment} --force`);
    const again = await buildKernel(request({ force: true }));
    expect(again.ok && !again.cached && again.kimg === b.kimg).toBe(true);
    expect(readFileSync(b.kimg)).toEqual(fakeBzImage(RELEASE, '(builder@ci) #1 SMP'));
    expect((await buildKernel(request())).ok).toBe(true);
  });

  it('does not reuse a clean build for a dirty tree, nor for another config', async () => {
    const clean = await planBuild(request());
    writeFileSync(join(tree, 'kernel/fork.c'), 'int fork = 1;\n');
    const dirty = await planBuild(request());
    expect(dirty.identity.dirty).toBe(true);
    expect(dirty.key).not.toBe(clean.key);
    const b = await buildKernel(request());
    expect(b.ok && b.cached).toBe(false);
    git('checkout', '--', 'kernel/fork.c');
    expect((await planBuild(request())).key).toBe(clean.key);
    const other = join(work, 'other.config');
    writeFileSync(other, 'CONFIG_FOO=y\n');
    expect((await planBuild(request({ fragments: [other] }))).key).not.toBe(clean.key);
  });

  it('turns a compile error into a build failure with the log tail and path', async () => {
    writeFileSync(join(tree, 'BREAK'), '');
    try {
      const b = await buildKernel(request());
      expect(b.ok).toBe(false);
      if (b.ok) return;
      expect(b.phase).toBe('build');
      // gcc's UTF-8 quotes come through intact (the log was once read as latin1: â\x80\x98;â\x80\x99).
      expect(b.reason).toMatch(/^build failed \(build: make bzImage exited 2\): kernel\/fork\.c:12:1: error: expected ‘;’ before ‘}’ token/);
      expect(b.logTail).toContain('Error 1');
      expect(existsSync(b.logPath)).toBe(true);
      expect(readFileSync(b.logPath, 'utf8')).toContain('error: expected');
    } finally {
      rmSync(join(tree, 'BREAK'));
    }
  });

  it('--arch arm64: ARCH=arm64 with the cross compiler, the arm64 fragment, the Image, its own cache entry', async () => {
    const x86 = await planBuild(request());
    const plan = await planBuild(request({ arch: 'arm64' }));
    expect(plan.key).not.toBe(x86.key);
    expect(plan.fragments).toEqual([fragment, BUILD_ARCH_SPECS.arm64.fragment]);
    expect(x86.fragments).toEqual([fragment, BUILD_ARCH_SPECS.x86_64.fragment]);
    expect(rebuildCommand(plan)).toBe(`pidfd-matrix kernels build ${tree} --arch arm64 --config ${fragment} --force`);
    const b = await buildKernel(request({ arch: 'arm64' }));
    if (!b.ok) throw new Error(b.reason);
    expect(b.cached).toBe(false);
    expect(b.arch).toBe('arm64');
    expect(b.release).toBe(RELEASE);
    expect(readFileSync(b.kimg)).toEqual(fakeArm64Image());
    expect(readFileSync(b.config, 'utf8')).toContain('CONFIG_SERIAL_AMBA_PL011_CONSOLE=y');
    expect(JSON.parse(readFileSync(join(b.dir, 'build.json'), 'utf8')).arch).toBe('arm64');
    expect(describeBuild(b)).toMatch(/ Linux 6\.1\.999 arm64 config frag\.config\+arm64\.config /);
    // make got the arch and the cross compiler's prefix (the log records each make command line).
    expect(readFileSync(b.log, 'utf8')).toMatch(/ ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- .*Image/);
    // The x86_64 entry is another one, and still there.
    const again = await buildKernel(request());
    expect(again.ok && again.cached && again.key === x86.key).toBe(true);
  });

  it('--arch arm64: an image without the arm64 header is a collect failure, not a kernel', async () => {
    writeFileSync(join(tree, 'fake-Image'), Buffer.alloc(0x400));
    try {
      const b = await buildKernel(request({ arch: 'arm64', force: true }));
      expect(b.ok).toBe(false);
      if (b.ok) return;
      expect(b.phase).toBe('collect');
      expect(b.reason).toMatch(/arch\/arm64\/boot\/Image is missing or not an arm64 Image/);
    } finally {
      git('checkout', '--', 'fake-Image');
    }
  });

  it('refuses a tree configured in place, naming the fix', async () => {
    writeFileSync(join(tree, '.config'), '');
    try {
      await expect(buildKernel(request())).rejects.toThrow(/make mrproper/);
    } finally {
      rmSync(join(tree, '.config'));
    }
  });
});

describe('a snapshot plus patches, and commits made here', () => {
  it('a clone with a public remote is proven at a fetched commit, not at one committed here; PROVENANCE names the base and its patches', async () => {
    const clone = join(work, 'patched');
    const sh = (...args: string[]) => execFileSync('git', ['-C', clone, '-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { encoding: 'utf8' }).trim();
    execFileSync('git', ['clone', '-q', tree, clone]);
    sh('remote', 'set-url', 'origin', 'https://github.com/example/linux-5.3.1.git');
    const base = sh('rev-parse', 'HEAD');
    expect(await treeIdentity(clone)).toMatchObject({ kind: 'git', repo: 'example/linux-5.3.1', commit: base, proven: true });
    // The 5.3.2 diff applied and committed here: that commit is nobody's.
    writeFileSync(join(clone, 'kernel/fork.c'), 'int fork; /* 5.3.2 */\n');
    sh('commit', '-qam', 'linux-5.3.2');
    const local = await treeIdentity(clone);
    expect(local).toMatchObject({ kind: 'git', repo: 'example/linux-5.3.1', commit: sh('rev-parse', 'HEAD'), proven: false });
    expect(local.why).toContain('a commit on no branch or tag of the remote known here');
    expect(local.why).toContain('PROVENANCE file (repo:, commit:, patches:)');
    // A worktree of a mirror clone keeps the remote's branches as its own: a fetched commit is on them.
    const mirror = join(work, 'mirror.git');
    execFileSync('git', ['clone', '-q', '--mirror', 'https://github.com/example/linux-5.3.1.git', mirror], { env: { ...process.env, GIT_ALLOW_PROTOCOL: 'file', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'url.' + tree + '.insteadOf', GIT_CONFIG_VALUE_0: 'https://github.com/example/linux-5.3.1.git' } });
    execFileSync('git', ['-C', mirror, 'worktree', 'add', '-q', '--detach', join(work, 'mirror-wt'), base]);
    expect(await treeIdentity(join(work, 'mirror-wt'))).toMatchObject({ kind: 'git', repo: 'example/linux-5.3.1', commit: base, proven: true });
    // Named: the base commit and the series; the content's tree id is what anyone rebuilding it gets.
    const patch = `GKernelCI/linux-patches@${'a'.repeat(40)}:1001_linux-5.3.2.patch`;
    writeFileSync(join(clone, 'PROVENANCE'), `repo: example/linux-5.3.1\ncommit: ${base}\npatches:\n  - ${patch}\n`);
    const named = await treeIdentity(clone);
    expect(named).toMatchObject({ kind: 'git', repo: 'example/linux-5.3.1', commit: base, patches: [patch], tree: sh('rev-parse', 'HEAD^{tree}'), proven: false });
    expect(named.why).toContain(`plus 1 patches in order (${patch})`);
    expect(named.why).toContain('`git apply` each patch in order');
    expect(describeIdentity(named)).toContain('+ 1 patches');
    expect(hasMachinePath(JSON.stringify(named))).toBe(false);
    // PROVENANCE is no source: the build cache does not see it.
    expect((await sourceIdentity(clone)).dirty).toBe(false);
    // Another series on the same commit is another kernel; the same one is the same source.
    expect(identityConflict(named, { ...named, patches: [] })).toContain('0 patches on the commit, recorded 1');
    expect(identityConflict(named, { ...named })).toBeNull();
    writeFileSync(join(clone, 'PROVENANCE'), `repo: example/linux-5.3.1\ncommit: ${base}\npatches:\n  - /tmp/1001.patch\n`);
    await expect(treeIdentity(clone)).rejects.toThrow(/is not owner\/name@<40-hex commit>:path/);
  });
});

describe('source identity', () => {
  it('names a clean git tree by its tree object, a dirty one by its content, without writing objects', async () => {
    const before = git('count-objects');
    const clean = await sourceIdentity(tree);
    expect(clean.id).toBe(`git-tree:${git('rev-parse', 'HEAD^{tree}')}`);
    writeFileSync(join(tree, 'kernel/new.c'), 'int x;\n');
    const untracked = await sourceIdentity(tree);
    rmSync(join(tree, 'kernel/new.c'));
    expect(untracked.dirty).toBe(true);
    expect(untracked.id).not.toBe(clean.id);
    expect(git('count-objects')).toBe(before);
  });

  it('hashes a plain directory by content, modes included', () => {
    const d = join(work, 'snapshot');
    makeTree(d);
    const a = contentHash(d);
    expect(contentHash(d)).toBe(a);
    execFileSync('chmod', ['-x', join(d, 'scripts/kconfig/merge_config.sh')]);
    expect(contentHash(d)).not.toBe(a);
  });
});

describe('recipe helpers', () => {
  it('reads the version from a kernel Makefile', () => {
    expect(makefileVersion('# SPDX\nVERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 85\nEXTRAVERSION =\n')).toEqual([5, 15, 85]);
    expect(makefileVersion('all:\n')).toBeNull();
  });
  it('applies the objtool workaround to 5.0-5.16 trees built with gcc >= 12', () => {
    const all = loadWorkarounds();
    expect(applicableWorkarounds(all, [5, 1, 15], 12).map((w) => w.id)).toEqual(['objtool-gcc12']);
    expect(applicableWorkarounds(all, [5, 8, 18], 12).map((w) => w.id)).toEqual(['objtool-gcc12']);
    expect(applicableWorkarounds(all, [5, 0, 12], 12).map((w) => w.id)).toEqual(['objtool-gcc12']);
    expect(applicableWorkarounds(all, [5, 1, 15], 11)).toEqual([]);
    expect(applicableWorkarounds(all, [5, 17, 0], 12)).toEqual([]);
    expect(applicableWorkarounds(all, [6, 1, 0], 12)).toEqual([]);
    expect(existsSync(all[0].fragment)).toBe(true);
    expect(inRange([5, 4, 0], '>=5.1 <5.10')).toBe(true);
  });
  it('turns SELinux off for 5.0.y before 5.0.12 (genheaders and the host PF_MAX), whatever the gcc', () => {
    const all = loadWorkarounds();
    expect(applicableWorkarounds(all, [5, 0, 1], 12).map((w) => w.id)).toEqual(['objtool-gcc12', 'selinux-genheaders-af-max']);
    expect(applicableWorkarounds(all, [5, 0, 11], 10).map((w) => w.id)).toEqual(['selinux-genheaders-af-max']);
    expect(applicableWorkarounds(all, [5, 0, 12], 12).map((w) => w.id)).toEqual(['objtool-gcc12']);
    expect(applicableWorkarounds(all, [4, 19, 0], 12)).toEqual([]);
    expect(applicableWorkarounds(all, [5, 1, 15], 12).map((w) => w.id)).toEqual(['objtool-gcc12']);
    const w = all.find((x) => x.id === 'selinux-genheaders-af-max')!;
    expect(fragmentRequests(readFileSync(w.fragment, 'utf8')).get('CONFIG_SECURITY_SELINUX')).toBe('n');
  });
  it('drops the CONFIG_LSM line and lists options the config did not keep', () => {
    expect(dropLsmLine('A=y\nCONFIG_LSM="x"\nB=y')).toBe('A=y\nB=y');
    expect(missingOptions(['CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n'], 'CONFIG_A=y\nCONFIG_C=y\n')).toEqual(['CONFIG_B', 'CONFIG_C']);
  });
  it('reads Kbuild output: the compiled file and the first error', () => {
    expect(kbuildStep('  CC      kernel/pid.o')).toBe('CC kernel/pid.o');
    expect(kbuildStep('  LD [M]  fs/9p/9p.ko')).toBe('LD [M] fs/9p/9p.ko');
    expect(kbuildStep('make[1]: Entering directory')).toBeNull();
    expect(firstError(['  CC kernel/pid.o', 'kernel/pid.c:3:1: error: x', 'make[2]: *** [a] Error 1'])).toBe('kernel/pid.c:3:1: error: x');
  });
});
