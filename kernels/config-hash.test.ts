// provenance.configHash: the sha256 of the kernel's build config, from the file the kernel came
// with or the running kernel's /proc/config.gz; null (never invented) when there is none.
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMatrix } from '../harness/run/run-matrix.js';
import { firstConfig, pathConfigCandidates } from './config.js';
import { fakeBzImage } from '../vm/fixtures/fake-bzimage.js';

const FAKE = new URL('../vm/fixtures/fake-vng.sh', import.meta.url).pathname;
const CONFIG = '#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_64BIT=y\n# CONFIG_IKCONFIG is not set\n';
const sha = (cmd: string) => execSync(`${cmd} | sha256sum`, { encoding: 'utf8', shell: '/bin/bash' }).split(' ')[0];
let work: string;


beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-cfg-'));
  process.env.PIDFD_MATRIX_VNG = FAKE;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
});
afterAll(() => {
  delete process.env.PIDFD_MATRIX_VNG;
  delete process.env.PIDFD_MATRIX_CACHE;
  rmSync(work, { recursive: true, force: true });
});

describe('kernel config files', () => {
  it('a build tree: the .config at its top; a config next to the image; gzip is hashed uncompressed; a non-config is refused', () => {
    const tree = join(work, 'linux');
    mkdirSync(join(tree, 'arch/x86/boot'), { recursive: true });
    writeFileSync(join(tree, 'arch/x86/boot/bzImage'), fakeBzImage('6.9.0'));
    writeFileSync(join(tree, '.config'), CONFIG);
    const c = firstConfig(pathConfigCandidates(join(tree, 'arch/x86/boot/bzImage'), '6.9.0'));
    expect(c).toEqual({ file: join(tree, '.config'), sha256: sha(`cat ${join(tree, '.config')}`) });
    writeFileSync(join(work, 'config.gz'), gzipSync(CONFIG));
    expect(firstConfig([join(work, 'config.gz')])?.sha256).toBe(c!.sha256);
    writeFileSync(join(work, 'notes'), 'not a kernel config\n');
    expect(firstConfig([join(work, 'notes'), join(work, 'missing')])).toBeNull();
  });
});

describe('matrix cells record configHash', () => {
  it('a path kernel with its config alongside, a path kernel without one, and the running kernel', { timeout: 120_000 }, async () => {
    for (const d of ['with', 'without']) mkdirSync(join(work, d), { recursive: true });
    writeFileSync(join(work, 'with/bzImage'), fakeBzImage('6.1.0-fake'));
    writeFileSync(join(work, 'with/config'), CONFIG);
    writeFileSync(join(work, 'without/bzImage'), fakeBzImage('6.1.0-fake'));
    const run = await runMatrix({
      kernels: [
        { id: 'with', source: 'path', kernel: join(work, 'with/bzImage') },
        { id: 'without', source: 'path', kernel: join(work, 'without/bzImage') },
        { id: 'host', source: 'host' },
      ],
      outDir: join(work, 'out'), jobs: 1, timeoutSec: 120, accel: 'tcg', command: 'test', tests: ['pidfd_open/self'],
    });
    const [withCfg, without, host] = run.cells;
    expect(withCfg.provenance).toMatchObject({ configHash: sha(`cat ${join(work, 'with/config')}`), configSource: join(work, 'with/config') });
    expect(without.provenance).toMatchObject({ configHash: null, configSource: null });
    // The running kernel: its own /proc/config.gz, else the installed /boot/config-<release>.
    const own = existsSync('/proc/config.gz') ? '/proc/config.gz' : existsSync(`/boot/config-${release()}`) ? `/boot/config-${release()}` : null;
    expect(host.provenance.configSource).toBe(own);
    if (own) expect(host.provenance.configHash).toBe(sha(own.endsWith('.gz') ? `zcat ${own}` : `cat ${own}`));
  });
});
