// The signing keys the mainline and kernel.org kinds trust, pinned by fingerprint. The public
// key files sit beside this module (README.md says where each fingerprint was read and how to
// get the file); a file holding any other key is refused.
import { join } from 'node:path';
import { REPO_ROOT } from '../../suites/lib/paths.js';
import type { PinnedKey } from '../signed.js';

const dir = join(REPO_ROOT, 'kernels/keys');

/** Signs CHECKSUMS.gpg of every build under kernel.ubuntu.com/mainline/. */
export const UBUNTU_MAINLINE_KEY: PinnedKey = {
  owner: "the Ubuntu kernel team's Kernel PPA key <kernel-ppa@canonical.com>",
  fingerprint: '60AA7B6F30434AE68E569963E50C6A0917C622B0',
  file: join(dir, 'ubuntu-kernel-ppa.asc'),
  obtain: 'gpg --keyserver hkps://keyserver.ubuntu.com --recv-keys 60AA7B6F30434AE68E569963E50C6A0917C622B0 '
    + '&& gpg --armor --export 60AA7B6F30434AE68E569963E50C6A0917C622B0 > kernels/keys/ubuntu-kernel-ppa.asc '
    + "(or give the entry 'key:' and 'fingerprint:')",
};

/** Signs sha256sums.asc in every release folder under cdn.kernel.org/pub/linux/kernel/. */
export const KERNEL_ORG_AUTOSIGNER_KEY: PinnedKey = {
  owner: 'the Kernel.org checksum autosigner <autosigner@kernel.org>',
  fingerprint: 'B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1',
  file: join(dir, 'kernel-org-autosigner.asc'),
  obtain: 'gpg --locate-keys autosigner@kernel.org '
    + '&& gpg --armor --export B8868C80BA62A1FFFAF5FDA9632D3A06589DA6B1 > kernels/keys/kernel-org-autosigner.asc '
    + "(or give the entry 'key:' and 'fingerprint:')",
};
