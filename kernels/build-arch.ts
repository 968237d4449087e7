// The architectures `kernels build` builds for: Kbuild's ARCH, the cross compiler's prefix and the
// Debian package that brings it, the image target and where Kbuild leaves it, and the config
// fragment of the machine vng boots for that architecture (kernels/configs/arch/<arch>.config).
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { REPO_ROOT } from '../suites/lib/paths.js';

export const BUILD_ARCHES = ['x86_64', 'arm64'] as const;
export type BuildArch = (typeof BUILD_ARCHES)[number];
export const DEFAULT_BUILD_ARCH: BuildArch = 'x86_64';

export interface BuildArchSpec {
  arch: BuildArch;
  /** Kbuild's ARCH=. */
  kbuild: string;
  /** CROSS_COMPILE= ('' for the host's own gcc: a snapshot's Makefile may default to another one). */
  crossCompile: string;
  /** The Debian package that installs `${crossCompile}gcc` (installed by make build-deps). */
  compilerPackage: string;
  /** The make target, and the image it leaves under O=. */
  target: string;
  image: string;
  /** The architecture's config fragment, merged after the common pidfd-minimal.config. */
  fragment: string;
}

const fragment = (arch: BuildArch) => join(REPO_ROOT, 'kernels/configs/arch', `${arch}.config`);

export const BUILD_ARCH_SPECS: Record<BuildArch, BuildArchSpec> = {
  x86_64: {
    arch: 'x86_64', kbuild: 'x86_64', crossCompile: '', compilerPackage: 'gcc',
    target: 'bzImage', image: 'arch/x86/boot/bzImage', fragment: fragment('x86_64'),
  },
  // vng boots arch/arm64/boot/Image (virtme Arch_aarch64.kimg_path): uncompressed, qemu loads it as is.
  arm64: {
    arch: 'arm64', kbuild: 'arm64', crossCompile: 'aarch64-linux-gnu-', compilerPackage: 'gcc-aarch64-linux-gnu',
    target: 'Image', image: 'arch/arm64/boot/Image', fragment: fragment('arm64'),
  },
};

export function isBuildArch(s: string): s is BuildArch {
  return (BUILD_ARCHES as readonly string[]).includes(s);
}

/** The spec of `--arch NAME` (x86_64 when absent); names the choices otherwise. */
export function buildArchSpec(name: string | undefined): BuildArchSpec {
  const arch = name ?? DEFAULT_BUILD_ARCH;
  if (!isBuildArch(arch)) throw new Error(`unknown build architecture '${arch}' (one of: ${BUILD_ARCHES.join(', ')})`);
  return BUILD_ARCH_SPECS[arch];
}

/** The C compiler and linker of a build for `spec` (prefixed for a cross build). */
export const compilerOf = (spec: BuildArchSpec) => ({ gcc: `${spec.crossCompile}gcc`, ld: `${spec.crossCompile}ld` });

/** Where `cmd` is on PATH, or null. */
export function onPath(cmd: string, path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter)) if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

/**
 * Why a build for `spec` cannot start on this machine (its cross compiler is not on PATH), naming
 * the fix; null when it can. The host's gcc is checked with the other build tools.
 */
export function missingCrossCompiler(spec: BuildArchSpec, path?: string): string | null {
  if (!spec.crossCompile) return null;
  const { gcc } = compilerOf(spec);
  return onPath(gcc, path)
    ? null
    : `building for ${spec.arch} needs the cross compiler ${gcc} (Debian's ${spec.compilerPackage}); install it with: make build-deps`;
}
