// A guest that boots a distro's own root (matrix `root: trixie`) instead of the host's: the
// Debian suite's debootstrapped root (kernels/userspace.ts) through `vng --root DIR`, so a
// trixie kernel runs with trixie's glibc, as trixie ships. The root has no node and not this
// checkout, so the guest reads them from the host: the checkout (and node_modules' real dir)
// at their own paths, the host's node binary under /opt (one of vng's tmpfs overlays on a
// read-only root); node then runs on the root's own libc.so.6, which is what facts.libc records.
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ensureRootfs, rootName, userspaceInfo, type Progress, type RootFlavor } from '../kernels/userspace.js';
import { ensureKoffiNative } from '../kernels/koffi-native.js';
import { ARM64_BUSYBOX, ensureDebianTool, type DebianTool } from '../kernels/debian-tool.js';
import type { GuestArch } from './vng.js';

/**
 * What virtme-init needs from a root beyond minbase: udev (it waits for the virtio-serial port
 * names under /dev/virtio-ports, or refuses to run the command), kmod (the kernel's modules,
 * virtio_console among them) and poweroff (systemd-sysv), without which init exits and panics.
 */
export const GUEST_FLAVOR: RootFlavor = { name: 'guest', include: ['udev', 'kmod', 'systemd-sysv', 'iproute2'] };

/**
 * A root of another architecture runs its own node (Debian's nodejs: the host's node binary is
 * x86_64), so it carries it; koffi's native module of that arch comes through NODE_PATH.
 */
export const GUEST_NODE_FLAVOR: RootFlavor = { name: 'guest-node', include: [...GUEST_FLAVOR.include, 'nodejs'] };
/** Where a foreign root's own node is. */
export const ROOT_NODE = '/usr/bin/node';
/** Debian's name of each guest architecture. */
const DEB_ARCH: Record<GuestArch, string> = { arm64: 'arm64' };
/** The static busybox vng puts in the initramfs of a guest of each architecture. */
const BUSYBOX: Record<GuestArch, DebianTool> = { arm64: ARM64_BUSYBOX };

/**
 * The dirs vng lays a tmpfs overlay on when the root is read-only (virtme_ng/run.py): a mount
 * point under them is made in the guest; anywhere else it must already exist in the root.
 */
export const VNG_OVERLAYS = ['/etc', '/lib', '/home', '/opt', '/srv', '/usr', '/var', '/tmp'];
const underOverlay = (p: string) => VNG_OVERLAYS.some((d) => !relative(d, p).startsWith('..'));

/** Where the guest finds the host's node: under an overlay, so nothing is written into the root for it. */
export const GUEST_NODE_DIR = '/opt/pidfd-matrix-node';

export interface GuestRoot {
  suite: string;
  /** The root dir vng boots (--root). */
  root: string;
  /** [guest path, host path] pairs for vng --rodir. */
  rodirs: [string, string][];
  /** The node binary's path inside the guest. */
  node: string;
  /** What the root is: its identity and exact libc6 (provenance). */
  userspaceId: string | null;
  libc6: string | null;
  /** A root of another architecture: vng's --arch, the static busybox of its initramfs, the command's environment. */
  arch?: GuestArch;
  busybox?: string;
  env?: Record<string, string>;
}

/** The host dirs a guest on another root must see, same path inside. */
/** `node: null`: the root runs its own (ROOT_NODE), nothing of the host's is mounted for it. */
export function guestRootMounts(repo: string, node: string | null, modulesDir: string | null = null, extra: string[] = []): { rodirs: [string, string][]; node: string } {
  // The checkout, and host dirs outside it that the suite reads (the cached musl binary).
  const rodirs: [string, string][] = [[repo, repo], ...extra.map((d): [string, string] => [d, d])];
  // With --root vng takes the modules from the root's /lib/modules (virtme_root_mods), where a
  // debootstrapped root has none of this kernel's: they go there (under vng's /lib overlay).
  if (modulesDir) rodirs.push([`/lib/modules/${basename(modulesDir)}`, modulesDir]);
  const nm = join(repo, 'node_modules');
  // A worktree's node_modules may be a symlink: its target must resolve inside the guest too.
  if (lstatSync(nm, { throwIfNoEntry: false })?.isSymbolicLink()) {
    const real = realpathSync(nm);
    rodirs.push([real, real]);
  }
  if (node === null) return { rodirs, node: ROOT_NODE };
  const bin = realpathSync(node);
  rodirs.push([GUEST_NODE_DIR, dirname(bin)]);
  return { rodirs, node: join(GUEST_NODE_DIR, basename(bin)) };
}

/**
 * Build (once, cached) the suite's root and make the mount points virtme-init needs outside
 * vng's overlays: it mkdirs each --rodir/--rwdir path, which fails on a read-only root ("mkdir:
 * cannot create directory '/work': Read-only file system", then init exits and the kernel
 * panics). Only empty directories are added to the root; its packages (its identity) do not change.
 */
export async function prepareGuestRoot(suite: string, o: { repo: string; rwdirs: string[]; rodirs?: string[]; modulesDir?: string | null; node?: string; progress?: Progress; arch?: GuestArch }): Promise<GuestRoot> {
  const flavor = o.arch ? GUEST_NODE_FLAVOR : GUEST_FLAVOR;
  const debArch = o.arch ? DEB_ARCH[o.arch] : undefined;
  const root = await ensureRootfs(suite, { progress: o.progress, flavor, arch: debArch });
  // Another architecture: the root's node, koffi's module of that arch, a busybox of that arch.
  const foreign = o.arch
    ? { nodePath: await ensureKoffiNative(o.arch, { repo: o.repo, progress: o.progress }), busybox: await ensureDebianTool(BUSYBOX[o.arch], { progress: o.progress }) }
    : null;
  const extra = [...(o.rodirs ?? []), ...(foreign ? [foreign.nodePath] : [])];
  const m = guestRootMounts(o.repo, foreign ? null : o.node ?? process.execPath, o.modulesDir ?? null, extra);
  for (const p of [...m.rodirs.map(([g]) => g), ...o.rwdirs]) if (!underOverlay(p)) mkdirSync(join(root, p), { recursive: true });
  const info = userspaceInfo(rootName(suite, { flavor, arch: debArch }));
  return {
    suite, root, ...m, userspaceId: info?.id ?? null, libc6: info?.packages.libc6 ?? null,
    ...(foreign && o.arch ? { arch: o.arch, busybox: foreign.busybox, env: { NODE_PATH: foreign.nodePath } } : {}),
  };
}
