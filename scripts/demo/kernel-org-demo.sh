#!/bin/bash
# make kernel-org-demo TREE=DIR: the `kernel.org` source kind end to end on a real kernel tree,
# without reaching kernel.org. A tarball linux-X.Y.Z.tar.xz is made from the tree's HEAD,
# published on 127.0.0.1 the way cdn.kernel.org lays it out (vX.x/ with a clearsigned
# sha256sums.asc, signed by a throwaway key made here), then `kernels fetch` downloads it,
# verifies the signature and the checksum, and builds it with the shipped config, as a
# `source: kernel.org` entry does. BOOT=1 then boots it under TCG and runs one feature.
#   TREE   a kernel source tree in git (a checkout or a bare mirror; its Makefile names the version)
#   BOOT   1: boot the built kernel (matrix --accel tcg --test pidfd_open)
# The build takes 5-15 minutes on 2 cores; it runs under flock /tmp/pm-build.lock (and the boot
# under /tmp/pm-guest.lock), so it waits for other builds on this machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
TREE=${TREE:?"give TREE=<a kernel source tree (git checkout)>, e.g. TREE=~/src/linux-5.6.4"}
PM="node bin/pidfd-matrix.js"
# The version from the tree's Makefile (a bare mirror has no work tree: read it from HEAD).
makefile() { if [ -f "$TREE/Makefile" ]; then cat "$TREE/Makefile"; else git -C "$TREE" show HEAD:Makefile; fi; }
mk() { makefile | sed -n "s/^$1 *= *//p" | head -1; }
V="$(mk VERSION).$(mk PATCHLEVEL).$(mk SUBLEVEL)"
work=$(mktemp -d /tmp/pm-kernel-org-demo.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; GNUPGHOME=$work/gnupg gpgconf --kill gpg-agent 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
folder=$work/mirror/v${V%%.*}.x
mkdir -p "$folder" "$work/gnupg" && chmod 700 "$work/gnupg"
echo "kernel-org-demo: linux-$V.tar.xz from $TREE (HEAD)"
# The tree at HEAD as a tarball. A snapshot mirror may lack some objects (its largest blobs, a
# tree): those are left out, and each one is said; the mirror itself is only read.
python3 - "$TREE" "linux-$V" "$folder/linux-$V.tar" <<'PY'
import io, subprocess, sys, tarfile
repo, prefix, out = sys.argv[1:]
cat = subprocess.Popen(['git', '-C', repo, 'cat-file', '--batch'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def read(oid):
    cat.stdin.write(oid.encode() + b'\n'); cat.stdin.flush()
    head = cat.stdout.readline().split()
    if len(head) < 3: return None  # "<oid> missing"
    data = cat.stdout.read(int(head[2])); cat.stdout.read(1)
    return data
def entries(data):
    i = 0
    while i < len(data):
        sp = data.index(b' ', i); nul = data.index(b'\0', sp)
        yield data[i:sp].decode(), data[sp + 1:nul].decode('utf-8', 'surrogateescape'), data[nul + 1:nul + 21].hex()
        i = nul + 21
commit = read(subprocess.check_output(['git', '-C', repo, 'rev-parse', 'HEAD']).decode().strip()).decode()
root = commit.split('\n')[0].split()[1]
with tarfile.open(out, 'w', format=tarfile.GNU_FORMAT) as tar:
    def walk(oid, path):
        data = read(oid)
        if data is None:
            print(f'kernel-org-demo: {path or "/"} is absent from this git (the mirror left it out): not in the tarball'); return
        for mode, name, sub in entries(data):
            p = f'{path}/{name}' if path else name
            if mode == '40000': walk(sub, p); continue
            if mode == '160000': continue
            body = read(sub)
            if body is None:
                print(f'kernel-org-demo: {p} is absent from this git (the mirror left it out): not in the tarball'); continue
            info = tarfile.TarInfo(f'{prefix}/{p}'); info.mtime = 0
            if mode == '120000': info.type = tarfile.SYMTYPE; info.linkname = body.decode(); tar.addfile(info)
            else: info.mode = 0o755 if mode == '100755' else 0o644; info.size = len(body); tar.addfile(info, io.BytesIO(body))
    walk(root, '')
PY
xz -1 -T0 "$folder/linux-$V.tar"
export GNUPGHOME=$work/gnupg
gpg --batch --passphrase '' --quick-gen-key "pidfd-matrix demo mirror <demo@test.invalid>" ed25519 sign 1d 2>/dev/null
fpr=$(gpg --with-colons --list-keys | awk -F: '/^fpr/ {print $10; exit}')
gpg --armor --export "$fpr" > "$work/mirror-key.asc"
(cd "$folder" && sha256sum "linux-$V.tar.xz" | gpg --batch --clearsign -o sha256sums.asc)
unset GNUPGHOME
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/mirror" "$port" >/dev/null 2>&1 &
server=$!
sleep 1
id=kernel-org-$(echo "$V" | tr . -)
cat > "$work/matrix.yaml" <<YAML
kernels:
  - id: $id
    source: kernel.org
    version: "$V"
    mirror: http://127.0.0.1:$port
    key: $work/mirror-key.asc
    fingerprint: $fpr
YAML
start=$(date +%s)
flock /tmp/pm-build.lock $PM kernels fetch --matrix "$work/matrix.yaml"
echo "kernel-org-demo: fetched, verified and built linux-$V in $(( $(date +%s) - start ))s"
if [ "${BOOT:-0}" = 1 ]; then
  flock /tmp/pm-guest.lock $PM matrix --matrix "$work/matrix.yaml" --accel tcg --test pidfd_open --out "$work/reports"
fi
