#!/usr/bin/env bash
# Host packages the SELinux cells need: secilc compiles suites/selinux/policy/*.cil inside
# the guest (the guest sees the host's root fs, and may not apt-get). Idempotent; nothing
# here touches the host's own SELinux state.
set -euo pipefail
say() { echo "setup/selinux: $*"; }
# shellcheck source=scripts/setup/apt-install.sh
. "$(dirname "$0")/apt-install.sh"
apt_install_missing "packages" secilc
