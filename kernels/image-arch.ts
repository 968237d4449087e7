// What architecture a kernel image is for, read from its boot header: a `path`, `url` or
// `build` entry's `arch:` is a claim about the image, and a header that contradicts it stops
// the run before qemu-system-aarch64 spends a minute failing to boot an x86 bzImage.
import { openSync, readSync, closeSync } from 'node:fs';
import type { MatrixArch } from './sources/types.js';

/** The header bytes both signatures fit in. */
const HEAD = 0x210;

/**
 * x86 boot protocol: "HdrS" at 0x202 (Documentation/arch/x86/boot.rst); arm64 Image: "ARM\x64"
 * at 56 (Documentation/arch/arm64/booting.rst). Anything else (a gzip'd or zboot image): null.
 */
export function imageArchOf(head: Buffer): MatrixArch | null {
  if (head.length >= 0x206 && head.toString('latin1', 0x202, 0x206) === 'HdrS') return 'x86_64';
  if (head.length >= 60 && head.readUInt32LE(56) === 0x644d5241) return 'arm64';
  return null;
}

/** The image file's architecture, or null when its header does not say (or it cannot be read). */
export function imageArch(file: string): MatrixArch | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(HEAD);
    const n = readSync(fd, buf, 0, HEAD, 0);
    return imageArchOf(buf.subarray(0, n));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A contradiction between the entry's arch and its image's header, as the fix to make; null when none is known. */
export function imageArchProblem(id: string, claimed: MatrixArch, kimg: string): string | null {
  const seen = imageArch(kimg);
  if (!seen || seen === claimed) return null;
  return `${id}: ${kimg} is an ${seen} kernel image (its boot header), but the entry says arch: ${claimed}; `
    + (seen === 'x86_64' ? "remove 'arch:' (x86_64 is the default)" : `add 'arch: ${seen}' and a 'root:' suite to the entry`);
}
