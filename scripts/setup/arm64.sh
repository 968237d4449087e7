#!/usr/bin/env bash
# Installs what an arm64 guest cell needs (kernels/matrix-arm64.yaml, README "arm64 guests"),
# idempotently, on a fresh Debian 12 (or newer) machine:
#   - qemu-system-arm: qemu-system-aarch64, which vng --arch arm64 boots (-M virt, TCG);
#   - qemu-user-static + binfmt-support: the arm64 root's packages are configured inside it
#     (mmdebstrap's chroot), which runs arm64 programs through binfmt_misc, flag F;
#   - mmdebstrap: builds that root with the host's apt (debootstrap's emulated second stage took
#     over an hour); arch-test, which mmdebstrap needs for a foreign architecture (only
#     recommended by it: without it, "install arch-test for foreign architecture support").
# The arm64 musl binary's cross compiler (gcc-aarch64-linux-gnu) is installed by
# suites/musl/build.sh the first time an arm64 cell runs a musl case.
# A machine that cannot register binfmt_misc (an unprivileged container) gets a warning naming
# the fix, not a failure: the x86_64 matrix does not need it.
set -euo pipefail

say() { echo "setup/arm64: $*"; }
# shellcheck source=scripts/setup/apt-install.sh
. "$(dirname "$0")/apt-install.sh"
apt_install_missing "arm64 guest packages" qemu-system-arm qemu-user-static binfmt-support mmdebstrap arch-test

BINFMT=/proc/sys/fs/binfmt_misc
ENTRY=$BINFMT/qemu-aarch64
if [ ! -e "$BINFMT/register" ]; then
  mount -t binfmt_misc binfmt_misc "$BINFMT" 2>/dev/null || true
fi
if [ ! -e "$ENTRY" ] && command -v update-binfmts >/dev/null; then
  update-binfmts --enable qemu-aarch64 2>/dev/null || true
fi
if [ -e "$ENTRY" ] && grep -qx enabled "$ENTRY" && grep -q '^flags:.*F' "$ENTRY"; then
  say "binfmt_misc runs arm64 programs: $(sed -n 's/^interpreter //p' "$ENTRY") (flags $(sed -n 's/^flags: //p' "$ENTRY"))"
else
  say "WARNING: $ENTRY is missing, disabled or lacks flag F, so an arm64 root cannot be built here;" \
    "fix: mount -t binfmt_misc binfmt_misc $BINFMT; update-binfmts --enable qemu-aarch64 (as root, on the host, not in a container)"
fi
