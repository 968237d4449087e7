// A damaged cache entry must not be booted: a kernel truncated on disk (a full disk, a killed
// copy, bit rot) only gives "the guest never started the command" on every run. So an unpack or
// a build records what it produced (the image's size and sha256, and a manifest of the modules
// dir: each file's path and size), and each use checks it again first: hashing a ~10 MB image
// and stat()ing a few thousand module files is cheap next to a boot.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

export interface Integrity {
  kimg: { size: number; sha256: string };
  /** The modules dir: how many regular files, their bytes, and the sha256 of "path size" lines. */
  modules: { files: number; bytes: number; manifest: string } | null;
}

/** Fingerprint of a kernel tree as it is now (right after an unpack or a build). */
export async function fingerprint(kimg: string, modulesDir: string | null): Promise<Integrity> {
  return { kimg: { size: statSync(kimg).size, sha256: await sha256File(kimg) }, modules: modulesDir ? modulesManifest(modulesDir) : null };
}

/** Why the tree no longer matches its fingerprint, naming the damaged file; null when it does. */
export async function damage(rec: Integrity, kimg: string, modulesDir: string | null): Promise<string | null> {
  if (!existsSync(kimg)) return `${kimg} is missing`;
  const size = statSync(kimg).size;
  if (size !== rec.kimg.size) return `${kimg} has ${size} bytes, ${rec.kimg.size} were recorded`;
  const sum = await sha256File(kimg);
  if (sum !== rec.kimg.sha256) return `${kimg} has sha256 ${sum}, ${rec.kimg.sha256} was recorded`;
  if (rec.modules && modulesDir) {
    if (!existsSync(modulesDir)) return `${modulesDir} is missing`;
    const m = modulesManifest(modulesDir);
    if (m.manifest !== rec.modules.manifest) {
      return `${modulesDir} changed: ${m.files} files, ${m.bytes} bytes (recorded: ${rec.modules.files} files, ${rec.modules.bytes} bytes)`;
    }
  }
  return null;
}

/**
 * An x86 bzImage is shorter than its boot header says (setup sectors + syssize paragraphs):
 * truncated. The check an entry cached before fingerprints were recorded still gets. Null: whole
 * (or not a bzImage, which the boot itself will report).
 */
export function truncatedBzImage(path: string): string | null {
  const fd = openSync(path, 'r');
  try {
    const hdr = Buffer.alloc(0x210);
    if (readSync(fd, hdr, 0, hdr.length, 0) < hdr.length || hdr.toString('latin1', 0x202, 0x206) !== 'HdrS') return null;
    const want = ((hdr[0x1f1] || 4) + 1) * 512 + hdr.readUInt32LE(0x1f4) * 16;
    const size = statSync(path).size;
    return size < want ? `${path} is truncated: ${size} bytes, its boot header says at least ${want}` : null;
  } finally {
    closeSync(fd);
  }
}

function modulesManifest(dir: string): { files: number; bytes: number; manifest: string } {
  const lines: string[] = [];
  let bytes = 0;
  const walk = (d: string, rel: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, ent.name);
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) walk(p, r);
      else if (ent.isFile()) {
        const size = statSync(p).size;
        bytes += size;
        lines.push(`${r} ${size}`);
      }
    }
  };
  walk(dir, '');
  return { files: lines.length, bytes, manifest: createHash('sha256').update(lines.join('\n')).digest('hex') };
}
