#!/usr/bin/env bash
# Loads the pidfd-matrix test policy and switches SELinux to enforcing — INSIDE A GUEST ONLY.
# Run as root before `node bin/pidfd-matrix.js probe` in a guest booted with
# `security=selinux selinux=1` (the matrix's `lsm: selinux` cells). Reference §4.
#
#   bash suites/selinux/guest-setup.sh [pidfs-unaware|pidfs-labeled]
#
# The variant defaults to the kernel command line's pidfd_matrix.selinux_policy=..., else
# pidfs-unaware (the pre-2024 state the 6.9 regression met). A loaded policy only ever
# applies to the booted kernel: nothing is written to disk outside /run.
# Refuses to run outside a virtme-ng guest, so a host is never switched to enforcing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { echo "selinux/guest-setup: $*" >&2; }

cmdline="$(cat /proc/cmdline)"
case "$cmdline" in
  *virtme*) ;;
  *) [ "${PIDFD_MATRIX_SELINUX_FORCE:-}" = 1 ] || { say "refusing: not a virtme-ng guest (no 'virtme' in /proc/cmdline); set PIDFD_MATRIX_SELINUX_FORCE=1 only in a throwaway VM"; exit 2; } ;;
esac
[ "$(id -u)" -eq 0 ] || { say "needs root"; exit 2; }

variant="${1:-}"
if [ -z "$variant" ]; then
  variant="$(sed -nE 's/.*pidfd_matrix\.selinux_policy=([a-z-]+).*/\1/p' /proc/cmdline)"
  variant="${variant:-pidfs-unaware}"
fi
files=("$here/policy/base.cil")
case "$variant" in
  pidfs-unaware) ;;
  pidfs-labeled) files+=("$here/policy/pidfs-labeled.cil") ;;
  *) say "unknown variant '$variant' (pidfs-unaware or pidfs-labeled)"; exit 2 ;;
esac

grep -qw selinux /sys/kernel/security/lsm 2>/dev/null || { say "SELinux is not active in this kernel (boot with security=selinux selinux=1); lsm: $(cat /sys/kernel/security/lsm 2>/dev/null)"; exit 3; }
mountpoint -q /sys/fs/selinux || mount -t selinuxfs none /sys/fs/selinux
command -v secilc >/dev/null || { say "secilc missing: the host must install it first (bash scripts/setup/selinux.sh)"; exit 3; }

state=/run/pidfd-matrix
mkdir -p "$state"
# secilc writes its newest binary format (33); a kernel older than 5.8 takes only older ones
# ("policydb version 33 does not match my version range 15-31" on 5.3), so write the newest
# this kernel reads (/sys/fs/selinux/policyvers) when that is older.
kmax="$(cat /sys/fs/selinux/policyvers 2>/dev/null || true)"
version=()
if [[ "$kmax" =~ ^[0-9]+$ ]] && [ "$kmax" -lt 33 ]; then version=(-c "$kmax"); fi
secilc -M true "${version[@]}" -o "$state/policy.bin" -f /dev/null "${files[@]}"
# The kernel wants the whole policy in one write(2); dd with a large block does exactly one.
dd if="$state/policy.bin" of=/sys/fs/selinux/load bs=16M status=none
# Without auditd every AVC goes through printk_ratelimit (10 per 5 s): lift it so each test
# sees all of its denials in /dev/kmsg.
echo 0 > /proc/sys/kernel/printk_ratelimit
echo 1 > /sys/fs/selinux/enforce
printf '{"variant":"%s","policy":"%s","policyvers":"%s","sha256":"%s"}\n' "$variant" "$state/policy.bin" "${kmax:-?}" \
  "$(sha256sum "$state/policy.bin" | cut -d' ' -f1)" > "$state/selinux.json"
say "policy $variant loaded, enforcing=$(cat /sys/fs/selinux/enforce), context $(cat /proc/self/attr/current | tr -d '\0')"
