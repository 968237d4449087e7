#!/usr/bin/env bash
# Installs what booting guests needs, idempotently, on a fresh Debian 12 (or newer) machine:
#   - from the system's own suites: qemu-system-x86, udev (without it the guest cannot find
#     its virtio ports and vng loses the exit code), kmod (depmod for unpacked .deb kernels),
#     busybox-static, python3 + the two modules
#     virtme-ng imports;
#   - virtme-ng from Debian trixie (it is not packaged for bookworm), fetched with a PRIVATE
#     apt sources list and unpacked with `dpkg -x` into the cache's tools dir: nothing is
#     installed system-wide from a newer suite.
# Prints what it did. Safe to run again: a second run only checks.
set -euo pipefail

CACHE="${PIDFD_MATRIX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidfd-matrix}"
TOOLS="$CACHE/tools"
VNG_SUITE="${PIDFD_MATRIX_VNG_SUITE:-trixie}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "setup/vm: $*"; }

# --- 1. system packages -------------------------------------------------------------------
# shellcheck source=scripts/setup/apt-install.sh
. "$(dirname "$0")/apt-install.sh"
apt_install_missing "system packages" qemu-system-x86 udev kmod file busybox-static python3 python3-argcomplete \
  python3-requests debian-archive-keyring ca-certificates

# --- 2. the Debian mirror the system already uses ------------------------------------------
# First non-security Debian URI from /etc/apt/sources.list{,.d/*.list,.d/*.sources}.
mirror() {
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    while read -r uri; do
      case "$uri" in *security*|"") continue ;; */debian|*/debian/) echo "${uri%/}"; return 0 ;; esac
    done < <(sed -nE 's/^deb(\s+\[[^]]*\])?\s+(\S+).*/\2/p; s/^URIs:\s*//p' "$f" | tr ' ' '\n')
  done
  return 1
}

# --- 3. virtme-ng from trixie into the tools dir --------------------------------------------
VNG_DIR="$TOOLS/virtme-ng"
if [ -f "$VNG_DIR/usr/bin/vng" ]; then
  say "virtme-ng present in $VNG_DIR"
else
  MIRROR="$(mirror)" || { say "no Debian mirror found in /etc/apt/sources.list*; add one"; exit 1; }
  APT="$TOOLS/apt-$VNG_SUITE"
  mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/prefs.d"
  echo "deb [signed-by=$KEYRING] $MIRROR $VNG_SUITE main" > "$APT/sources.list"
  APT_OPTS=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o "Dir::Etc::sourceparts=-"
            -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache"
            -o "Dir::Etc::preferencesparts=$APT/prefs.d" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  say "fetching virtme-ng from $MIRROR $VNG_SUITE (private apt lists in $APT)"
  apt-get -q "${APT_OPTS[@]}" update >/dev/null
  tmp="$(mktemp -d "$TOOLS/.vng.XXXXXX")"
  (cd "$tmp" && apt-get -q "${APT_OPTS[@]}" download virtme-ng >/dev/null)
  deb="$(ls "$tmp"/virtme-ng_*.deb)"
  dpkg -x "$deb" "$tmp/root"
  rm -rf "$VNG_DIR" && mv "$tmp/root" "$VNG_DIR" && rm -rf "$tmp"
  say "virtme-ng $(basename "$deb" .deb | cut -d_ -f2) unpacked into $VNG_DIR"
fi

# virtme-ng mounts the host's root over 9p without a cache, so under TCG every page fault of
# node's 100 MB binary is a 9p round trip (`node -e 1` took 61 s in a 6.1 guest; 14 s with the
# cache). The guest sees that root read-only and it does not change during a run, so
# cache=loose is safe; the --rwdir shares are separate mounts and stay uncached.
INITRAMFS_PY="$VNG_DIR/usr/lib/python3/dist-packages/virtme/mkinitramfs.py"
ROOT_9P='version=9p2000.L,trans=virtio,access=any /dev/root'
if grep -q "$ROOT_9P" "$INITRAMFS_PY" 2>/dev/null; then
  sed -i "s#$ROOT_9P#version=9p2000.L,trans=virtio,access=any,cache=loose,msize=262144 /dev/root#" "$INITRAMFS_PY"
  say "patched virtme-ng: guest root 9p mount with cache=loose,msize=262144"
elif ! grep -q 'cache=loose,msize=262144 /dev/root' "$INITRAMFS_PY" 2>/dev/null; then
  say "warning: could not add cache=loose to virtme-ng's root mount (changed upstream?); guests will be slower"
fi

# pidfd-matrix's lean guest init (vm/guest/lean-init) goes where vng looks for its fast init,
# virtme/guest/bin/virtme-ng-init (Debian's package has none): vng then boots it instead of the
# bash virtme-init, whose systemd-tmpfiles and udev coldplug + settle took 25-75 s of every TCG
# boot. `vng --no-virtme-ng-init` (PIDFD_MATRIX_FULL_INIT=1 for pidfd-matrix) still boots
# virtme-init. Copied on every run, so an edit reaches existing caches.
GUEST_BIN="$VNG_DIR/usr/lib/python3/dist-packages/virtme/guest/bin"
mkdir -p "$GUEST_BIN"
install -m 0755 "$(dirname "$0")/../../vm/guest/lean-init" "$GUEST_BIN/virtme-ng-init.tmp"
mv "$GUEST_BIN/virtme-ng-init.tmp" "$GUEST_BIN/virtme-ng-init"
say "installed vm/guest/lean-init as virtme-ng's init ($GUEST_BIN/virtme-ng-init)"

# vng boots virtme-ng-init only for the host's own architecture (upstream's is a native binary);
# lean-init is a script, so a guest of another architecture (arm64 under qemu-system-aarch64)
# can boot it too instead of the bash virtme-init, which mounts the --rwdir shares before the
# --rodir ones: a cell dir inside the read-only checkout (reports/arm64/<id>) was hidden under
# it and the probe got EROFS. lean-init mounts parents first, and skips udev (25 s under TCG).
RUN_PY="$VNG_DIR/usr/lib/python3/dist-packages/virtme/commands/run.py"
SCRIPT_INIT='(is_native or open(guest_tools_path + "/bin/virtme-ng-init", "rb").read(2) == b"#!")'
if grep -qx '        is_native' "$RUN_PY" 2>/dev/null; then
  # The exists() test comes first, so a missing init is never opened.
  sed -i -e 's|^        and os.path.exists(guest_tools_path + "/bin/virtme-ng-init")$|&\n        and '"$SCRIPT_INIT"'|' \
    -e '/^        is_native$/{N;s|^        is_native\n        and not|        not|}' "$RUN_PY"
  say "patched virtme-ng: a guest of another architecture boots lean-init too (it is a script)"
elif ! grep -qF "$SCRIPT_INIT" "$RUN_PY" 2>/dev/null; then
  say "warning: could not let foreign-architecture guests boot lean-init (run.py changed upstream?); arm64 cells boot virtme-init"
fi

# The Debian scripts start with #!/usr/bin/python3 and import from dist-packages: point
# PYTHONPATH at the unpacked tree and run the system python (it has argcomplete/requests).
# vng runs virtme-run etc. by name, so the wrappers' dir goes first on PATH. Rewritten on
# every run (cheap) so a changed template reaches existing caches.
mkdir -p "$TOOLS/bin"
for tool in vng virtme-run virtme-configkernel virtme-mkinitramfs virtme-prep-kdir-mods; do
  [ -e "$VNG_DIR/usr/bin/$tool" ] || continue
  cat > "$TOOLS/bin/$tool.tmp" <<EOF
#!/bin/sh
# generated by scripts/setup/vm.sh: virtme-ng unpacked from Debian, not installed
PATH="$TOOLS/bin:\$PATH" PYTHONPATH="$VNG_DIR/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH}" exec /usr/bin/python3 "$VNG_DIR/usr/bin/$tool" "\$@"
EOF
  chmod +x "$TOOLS/bin/$tool.tmp" && mv "$TOOLS/bin/$tool.tmp" "$TOOLS/bin/$tool"
done
say "$("$TOOLS/bin/vng" --version 2>&1 | head -1): run it as $TOOLS/bin/vng"
say "ok (qemu: $(qemu-system-x86_64 --version | head -1))"
