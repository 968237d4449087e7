#!/usr/bin/env bash
# Host packages the SELinux cells need: secilc compiles suites/selinux/policy/*.cil inside
# the guest (the guest sees the host's root fs, and may not apt-get). Idempotent; nothing
# here touches the host's own SELinux state.
set -euo pipefail
PKGS=(secilc)
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "selinux/setup: present: ${PKGS[*]}"
  exit 0
fi
echo "selinux/setup: installing: ${missing[*]}"
install() { DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
if ! install; then
  "${SUDO[@]}" apt-get update -q
  install
fi
