// Turns an unpacked kernel package into the layout virtme-ng understands without help:
//   <root>/boot/vmlinuz-<release>  and  <root>/lib/modules/<release>/ (with modules.dep).
// vng derives the modules dir from the image path and the release from the image, so a tree
// in this shape boots with just `vng --run <root>/boot/vmlinuz-<release>`.
import { $ } from 'zx/core';
import { existsSync, lstatSync, openSync, readSync, closeSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, symlink } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';

/**
 * The release string (`uname -r`) of an x86 bzImage, read from its boot header: the word at
 * 0x20e points (+0x200) at "6.1.0-50-amd64 (builder@host) #1 SMP ...". Null if not a bzImage.
 */
export function bzImageRelease(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const hdr = Buffer.alloc(0x210);
    if (readSync(fd, hdr, 0, hdr.length, 0) < hdr.length || hdr.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
    const off = hdr.readUInt16LE(0x20e) + 0x200;
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, off);
    const s = buf.toString('latin1', 0, n).split('\0')[0];
    const rel = s.split(' ')[0];
    return /^\d+\.\d+/.test(rel) ? rel : null;
  } finally {
    closeSync(fd);
  }
}

/** An arm64 Image's header: "ARM\x64" at offset 0x38 (Documentation/arch/arm64/booting.rst). */
export function arm64ImageMagicOk(head: Buffer): boolean {
  return head.length >= 0x3c && head.readUInt32LE(0x38) === 0x644d5241;
}

/**
 * The release of an uncompressed arm64 Image (what `kernels build --arch arm64` keeps): its header
 * has no version field, so it is read from the kernel's banner, "Linux version 6.18.9 (user@host)
 * ...", in the image. Null if not an arm64 Image or no banner is found.
 */
export function arm64ImageRelease(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(0x40);
    if (readSync(fd, head, 0, head.length, 0) < head.length || !arm64ImageMagicOk(head)) return null;
    const chunk = Buffer.alloc(1 << 20);
    const needle = Buffer.from('Linux version ', 'latin1');
    let carry = Buffer.alloc(0);
    for (let pos = 0; ; ) {
      const n = readSync(fd, chunk, 0, chunk.length, pos);
      if (n <= 0) return null;
      pos += n;
      const buf = Buffer.concat([carry, chunk.subarray(0, n)]);
      for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, at + 1)) {
        const m = /^Linux version (\d+\.\d+\S*) \(/.exec(buf.toString('latin1', at, at + 200));
        if (m) return m[1];
      }
      carry = buf.subarray(Math.max(0, buf.length - 256));
    }
  } finally {
    closeSync(fd);
  }
}

/** Unpacks a .deb (dpkg -x: no maintainer scripts, no install) or a tarball into dest. */
export async function unpackArchive(file: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  if (file.endsWith('.deb')) await $({ quiet: true })`dpkg -x ${file} ${dest}`;
  else if (/\.(tar|tar\.gz|tgz|tar\.xz|txz|tar\.zst|tar\.bz2)$/.test(file)) await $({ quiet: true })`tar -xf ${file} -C ${dest}`;
  else throw new Error(`${basename(file)}: not a .deb or a tarball (.tar, .tar.gz, .tar.xz, .tar.zst)`);
}

export interface KernelTree {
  root: string;          // dir holding boot/ and lib/modules/
  kimg: string;          // <root>/boot/vmlinuz-<release>
  release: string;
  modulesDir: string | null;
}

function findFiles(dir: string, match: (name: string) => boolean, depth = 4): string[] {
  const out: string[] = [];
  if (depth < 0 || !existsSync(dir)) return out;
  for (const ent of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...findFiles(p, match, depth - 1));
    else if (ent.isFile() && match(ent.name)) out.push(p);
  }
  return out;
}

/**
 * Finds the kernel image and modules in an unpacked tree and fixes it up in place: a /usr/lib
 * only package gets a lib -> usr/lib link, an image outside boot/ is copied to
 * boot/vmlinuz-<release>, and modules.dep is generated (packages do not ship it).
 */
export async function normalizeTree(root: string, what: string): Promise<KernelTree> {
  const images = findFiles(root, (n) => /^(vmlinuz|bzImage)/.test(n) && !n.endsWith('.efi.signed')).sort();
  if (images.length === 0) throw new Error(`${what}: no kernel image (boot/vmlinuz-* or bzImage) inside`);
  const image = images.find((p) => relative(root, p).startsWith('boot/vmlinuz-')) ?? images[0];
  // Debian's 7.x arm64 packages ship a compressed usr/lib/modules/<release>/vmlinuz only: its dir names it.
  const release = bzImageRelease(image) ?? /vmlinuz-(.+)$/.exec(basename(image))?.[1]
    ?? /(?:^|\/)lib\/modules\/([^/]+)\/vmlinuz$/.exec(relative(root, image))?.[1];
  if (!release) throw new Error(`${what}: ${relative(root, image)} is not an x86 bzImage and its name has no release`);
  if (!existsSync(join(root, 'lib')) && existsSync(join(root, 'usr/lib/modules'))) await symlink('usr/lib', join(root, 'lib'));
  const kimg = join(root, 'boot', `vmlinuz-${release}`);
  if (image !== kimg) {
    await mkdir(join(root, 'boot'), { recursive: true });
    await copyFile(image, kimg);
  }
  const modulesDir = join(root, 'lib/modules', release);
  if (!existsSync(modulesDir)) return { root, kimg, release, modulesDir: null };
  await depmod(root, release);
  return { root, kimg, release, modulesDir };
}

/** Generates modules.dep & co, so vng does not have to write into the cache at boot time. */
export async function depmod(root: string, release: string): Promise<void> {
  if (existsSync(join(root, 'lib/modules', release, 'modules.dep'))) return;
  const bin = ['/usr/sbin/depmod', '/sbin/depmod'].find((p) => existsSync(p)) ?? 'depmod';
  try {
    await $({ quiet: true })`${bin} -a -b ${root} ${release}`;
  } catch (e) {
    throw new Error(`depmod for ${release} failed (${(e as Error).message.split('\n')[0]}); install kmod (bash vm/setup.sh does)`);
  }
}

/** For the `path` source: a tree of symlinks to a build's bzImage and modules dir. */
export async function linkTree(root: string, kernel: string, modules: string | undefined): Promise<KernelTree> {
  if (!existsSync(kernel)) throw new Error(`kernel image ${kernel} does not exist`);
  const release = bzImageRelease(kernel) ?? arm64ImageRelease(kernel) ?? (modules ? basename(modules) : null);
  if (!release) throw new Error(`${kernel} is not an x86 bzImage nor an arm64 Image; give 'modules:' (lib/modules/<release>) so the release is known`);
  await mkdir(join(root, 'boot'), { recursive: true });
  const kimg = join(root, 'boot', `vmlinuz-${release}`);
  await symlink(kernel, kimg);
  if (!modules) return { root, kimg, release, modulesDir: null };
  if (!existsSync(modules) || !lstatSync(modules).isDirectory()) throw new Error(`modules dir ${modules} does not exist`);
  await mkdir(join(root, 'lib/modules'), { recursive: true });
  const modulesDir = join(root, 'lib/modules', release);
  await symlink(modules, modulesDir);
  return { root, kimg, release, modulesDir };
}
