// A guest that boots a distro's own root (matrix `root: trixie`) instead of the host's: the
// Debian suite's debootstrapped root (kernels/userspace.ts) through `vng --root DIR`, so a
// trixie kernel runs with trixie's glibc, as trixie ships. The root has no node and not this
// checkout, so the guest reads them from the host: the checkout (and node_modules' real dir)
// at their own paths, the host's node binary under /opt (one of vng's tmpfs overlays on a
// read-only root); node then runs on the root's own libc.so.6, which is what facts.libc records.
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ensureRootfs, userspaceInfo, type Progress, type RootFlavor } from '../kernels/userspace.js';

/**
 * What virtme-init needs from a root beyond minbase: udev (it waits for the virtio-serial port
 * names under /dev/virtio-ports, or refuses to run the command), kmod (the kernel's modules,
 * virtio_console among them) and poweroff (systemd-sysv), without which init exits and panics.
 */
export const GUEST_FLAVOR: RootFlavor = { name: 'guest', include: ['udev', 'kmod', 'systemd-sysv', 'iproute2'] };

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
}

/** The host dirs a guest on another root must see, same path inside. */
export function guestRootMounts(repo: string, node: string, modulesDir: string | null = null, extra: string[] = []): { rodirs: [string, string][]; node: string } {
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
export async function prepareGuestRoot(suite: string, o: { repo: string; rwdirs: string[]; rodirs?: string[]; modulesDir?: string | null; node?: string; progress?: Progress }): Promise<GuestRoot> {
  const root = await ensureRootfs(suite, { progress: o.progress, flavor: GUEST_FLAVOR });
  const m = guestRootMounts(o.repo, o.node ?? process.execPath, o.modulesDir ?? null, o.rodirs);
  for (const p of [...m.rodirs.map(([g]) => g), ...o.rwdirs]) if (!underOverlay(p)) mkdirSync(join(root, p), { recursive: true });
  const info = userspaceInfo(`${suite}-${GUEST_FLAVOR.name}`);
  return { suite, root, ...m, userspaceId: info?.id ?? null, libc6: info?.packages.libc6 ?? null };
}
