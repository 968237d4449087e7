// Reproducible Debian kernels against a stand-in archive (fake apt-get/apt-cache on PATH, a
// real .deb built with dpkg-deb): a pinned upload is fetched at that exact version, the cell
// records each .deb's version and sha256, the pin keeps working from the cache after the
// archive moved on, and `kernels list` says a newer upload exists.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchKernel, FetchError } from './fetch.js';
import type { KernelEntry } from './matrix.js';
import { runMatrix } from '../harness/run/run-matrix.js';
import { repoPath } from '../suites/lib/paths.js';
import { installFakeApt, publishUpload } from './fixtures/fake-archive.js';

let work: string;
const saved = { PATH: process.env.PATH };
const archive = () => join(work, 'archive');


const publish = (abi: string, version: string, suite = 'bookworm') => publishUpload(archive(), work, { abi, version, suite });

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-pin-'));
  const bin = join(work, 'bin');
  mkdirSync(bin);
  installFakeApt(bin, archive(), join(work, 'downloads'));
  process.env.PATH = `${bin}:${process.env.PATH}`;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
});
afterAll(() => {
  process.env.PATH = saved.PATH;
  delete process.env.PIDFD_MATRIX_CACHE;
  delete process.env.PIDFD_MATRIX_VNG;
  rmSync(work, { recursive: true, force: true });
});

describe('a Debian entry pinned to one upload', () => {
  const pinned: KernelEntry = { id: 'bw', source: 'debian', suite: 'bookworm', package: 'linux-image-amd64', version: '6.1.177-1' };

  it('fetches that exact upload, records version and sha256, keeps it after the archive moved on; kernels list shows the newer upload', async () => {
    const sha = publish('6.1.0-51-amd64', '6.1.177-1');
    const k = await fetchKernel(pinned);
    expect(k).toMatchObject({ release: '6.1.0-51-amd64', downloaded: true, description: 'debian bookworm linux-image-6.1.0-51-amd64=6.1.177-1' });
    expect(k.packages).toEqual([{ package: 'linux-image-6.1.0-51-amd64', version: '6.1.177-1', sha256: sha, suite: 'bookworm' }]);

    // The cell of a matrix run records the exact .deb (fake vng: no guest needed for provenance).
    process.env.PIDFD_MATRIX_VNG = repoPath('vm/fixtures/fake-vng.sh');
    const run = await runMatrix({ kernels: [pinned], outDir: join(work, 'out'), jobs: 1, timeoutSec: 60, accel: 'tcg', command: 'test' });
    expect(run.cells[0].provenance.kernelPackages).toEqual([{ package: 'linux-image-6.1.0-51-amd64', version: '6.1.177-1', sha256: sha, suite: 'bookworm' }]);

    // Debian uploads 6.1.178-1 and drops 6.1.177-1: the pin still boots the same kernel, from the cache.
    publish('6.1.0-52-amd64', '6.1.178-1');
    const again = await fetchKernel(pinned, { refresh: true });
    expect(again).toMatchObject({ release: '6.1.0-51-amd64', downloaded: false });
    expect(again.packages?.[0]).toEqual({ package: 'linux-image-6.1.0-51-amd64', version: '6.1.177-1', sha256: sha, suite: 'bookworm' });
    // Unpinned, the same suite moves on to the new upload.
    expect((await fetchKernel({ ...pinned, id: 'cur', version: undefined })).release).toBe('6.1.0-52-amd64');

    const file = join(work, 'pin.yaml');
    writeFileSync(file, 'kernels:\n  - id: bw\n    source: debian\n    suite: bookworm\n    package: linux-image-amd64\n    version: "6.1.177-1"\n');
    const list = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'kernels', 'list', '--matrix', file], { encoding: 'utf8', env: process.env });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^bw\s+debian bookworm linux-image-amd64=6\.1\.177-1\s+arch=x86_64\s+cached 6\.1\.0-51-amd64 \(6\.1\.177-1, bookworm\); newer upload in bookworm: linux-image-6\.1\.0-52-amd64=6\.1\.178-1 \(pinned: change version: to move\)$/m);
  });

  it('a pin no run ever cached and the archive no longer has: an error naming what the suite has now', async () => {
    publish('6.1.0-52-amd64', '6.1.178-1');
    const err = await fetchKernel({ ...pinned, id: 'old', version: '6.1.170-1' }).catch((e) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect(err.message).toMatch(/Debian bookworm does not have linux-image-amd64=6\.1\.170-1 \(it has 6\.1\.178-1\), and no earlier run cached it.*pin version: 6\.1\.178-1.*snapshot\.debian\.org/);
  });
});

describe('a Debian entry takes what Debian users run', () => {
  it('the newest upload across <suite>, -updates and -security, saying which suite carried it; a pin still gets its exact upload', async () => {
    publish('6.1.0-52-amd64', '6.1.178-1');
    const sha = publish('6.1.0-60-amd64', '6.1.192-1', 'bookworm-security');
    const entry: KernelEntry = { id: 'sec', source: 'debian', suite: 'bookworm', package: 'linux-image-amd64' };
    const k = await fetchKernel(entry);
    expect(k).toMatchObject({ release: '6.1.0-60-amd64', description: 'debian bookworm linux-image-6.1.0-60-amd64=6.1.192-1 (bookworm-security)' });
    expect(k.packages).toEqual([{ package: 'linux-image-6.1.0-60-amd64', version: '6.1.192-1', sha256: sha, suite: 'bookworm-security' }]);
    // A pin on the main suite's upload is not moved by the security one.
    expect((await fetchKernel({ ...entry, id: 'pin', version: '6.1.178-1' })).release).toBe('6.1.0-52-amd64');

    const file = join(work, 'sec.yaml');
    writeFileSync(file, 'kernels:\n  - id: sec\n    source: debian\n    suite: bookworm\n    package: linux-image-amd64\n');
    const list = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'kernels', 'list', '--matrix', file], { encoding: 'utf8', env: process.env });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^sec\s+debian bookworm linux-image-amd64\s+arch=x86_64\s+cached 6\.1\.0-60-amd64 \(6\.1\.192-1, bookworm-security\)$/m);

    // bookworm-updates then carries a still newer point-release upload: it wins.
    publish('6.1.0-61-amd64', '6.1.193-1', 'bookworm-updates');
    const list2 = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'kernels', 'list', '--matrix', file], { encoding: 'utf8', env: process.env });
    expect(list2.stdout).toMatch(/newer upload in bookworm-updates: linux-image-6\.1\.0-61-amd64=6\.1\.193-1 \('kernels fetch' gets it\)$/m);
  });
});
