# Sourced by the setup scripts (vm.sh, selinux.sh, kernel-build.sh): one way to install Debian
# packages. `apt_install_missing WHAT PKG...` installs the PKGs dpkg does not list as installed,
# and refreshes the package lists only when they are missing or too stale to install from.
# The caller defines say() for its progress lines.
apt_install_missing() {
  local what=$1 p
  shift
  local sudo=() missing=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "$what present: $*"
    return 0
  fi
  say "installing: ${missing[*]}"
  _apt_install() { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || ! _apt_install; then
    say "apt-get update (package lists missing or stale)"
    "${sudo[@]}" apt-get update -q
    _apt_install
  fi
}
