#!/usr/bin/env bash
# Debian packages the report self-tests need: xmllint (JUnit XSD validation), chromium (the
# HTML report is tested in headless Chromium) and python3-junitparser (a real JUnit consumer
# reads our XML back). Idempotent: installs only what is missing.
set -euo pipefail

need=()
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s python3-junitparser >/dev/null 2>&1 || need+=(python3-junitparser)
# Fonts so screenshots of the report show text rather than tofu boxes.
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  echo "scripts/setup/reports.sh: xmllint, chromium and python3-junitparser already installed"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "scripts/setup/reports.sh: need root (or sudo) to apt-get install ${need[*]}" >&2; exit 1; }
  SUDO=sudo
fi

echo "scripts/setup/reports.sh: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
