#!/usr/bin/env bash
# Docker engine and the local test image for harness/run/container-probe.test.ts (the probe suite
# run inside a container under Docker's default seccomp profile). Idempotent; called by
# `make deps`. Never fails the build because Docker cannot run here: it records why in
# $STATE and exits 0, and the container test skips with that reason instead.
#
# The image is not pulled (no registry is reachable): it is imported from a rootfs made of
# the host's own node binary, the shared libraries it and the native addons in node_modules
# link (ldd), and busybox-static applets for the children the probes spawn (true, sleep).
# Why not debootstrap: it downloads ~100 MB and gives Debian 12's node 18, whereas the
# harness needs node >= 20; copying the host's node also makes the container run the exact
# same node and koffi as the host run it is compared with. Rebuilt whenever its inputs change.
set -uo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${PIDFD_MATRIX_IMAGE:-pidfd-matrix-rootfs:local}
RECIPE=2 # bump when the rootfs layout below changes
STATE_DIR=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/pidfd-matrix
STATE=$STATE_DIR/docker-setup.state
DOCKERD_LOG=/var/log/pidfd-matrix-dockerd.log
WAIT_SECONDS=${PIDFD_MATRIX_DOCKERD_WAIT:-60}
mkdir -p "$STATE_DIR"

log() { echo "scripts/setup/docker.sh: $*"; }
# No pgrep: procps is not on a minimal Debian 12. /proc is.
dockerd_running() {
  local c
  for c in /proc/[0-9]*/comm; do [ "$(cat "$c" 2>/dev/null)" = dockerd ] && return 0; done
  return 1
}
# A wedged daemon must not hang make: bound every probe of it.
docker_ok() { timeout 15 docker info >/dev/null 2>&1; }
# Every descriptor above 2 is closed before the daemon starts: under `flock FILE make ...` the
# lock is on an inherited descriptor, and a daemon holding it keeps FILE locked for as long as it
# runs (2026-12-06: a dockerd started by a run under `flock /tmp/pm-guest.lock` kept that lock
# after the run ended, and every other guest run waited on it).
close_inherited_fds() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] && eval "exec $fd>&-"
  done
  return 0
}
start_dockerd() {
  log "starting dockerd${*:+ $*} in the background (log: $DOCKERD_LOG)"
  # setsid: not a child of make, so it survives this shell and keeps running for later runs.
  ( close_inherited_fds; exec $SUDO setsid dockerd "$@" >>"$DOCKERD_LOG" 2>&1 </dev/null ) &
  for ((i = 0; i < WAIT_SECONDS; i++)); do
    docker_ok && return 0
    dockerd_running || return 1 # it died: no point waiting
    sleep 1
  done
  return 1
}
# Docker cannot run on this machine: say why, record it for the test, and do not fail `make deps`.
unavailable() {
  log "Docker unavailable: $* (the container self-test will skip)"
  printf 'unavailable\t%s\n' "$*" >"$STATE"
  exit 0
}

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO=sudo
fi
apt_install() {
  [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ] || return 1
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

# 1. the engine. docker.io brings dockerd, containerd and runc; the client may come from elsewhere.
if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io (dockerd, containerd, runc)"
  apt_install docker.io >/dev/null || unavailable "could not apt-get install docker.io"
fi
command -v docker >/dev/null 2>&1 || unavailable "no docker client after installing docker.io"

# 2. a running daemon. No systemd here (a CI machine, a container): start dockerd directly.
if docker_ok; then
  log "dockerd already answering"
elif dockerd_running; then
  log "dockerd is running but not answering; waiting up to ${WAIT_SECONDS}s"
  for ((i = 0; i < WAIT_SECONDS; i++)); do docker_ok && break; sleep 1; done
  docker_ok || unavailable "a dockerd is running but not answering after ${WAIT_SECONDS}s (not started by this script; see its log)"
else
  : >"$DOCKERD_LOG"
  # Without NAT rules if the default start fails on them (a machine without nf_tables/iptables
  # modules): the test runs its containers with --network none, so no bridge is needed.
  if start_dockerd || { ! dockerd_running && grep -qi iptables "$DOCKERD_LOG" && start_dockerd --iptables=false --bridge=none; }; then
    log "dockerd answering after ${i}s"
  else
    why=$(grep -iE 'level=(fatal|error)|failed' "$DOCKERD_LOG" 2>/dev/null | tail -n 3 | tr '\n' ' ')
    dockerd_running && state="still not answering after ${WAIT_SECONDS}s" || state="exited"
    unavailable "dockerd $state; last errors in $DOCKERD_LOG: ${why:-none}"
  fi
fi

# 3. the image.
NODE=$(readlink -f "$(command -v node)")
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
  if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi # static: ldd refuses it
done
if [ -z "$BUSYBOX" ]; then
  log "installing busybox-static (applets for the probe children)"
  apt_install busybox-static >/dev/null || unavailable "could not apt-get install busybox-static"
  BUSYBOX=/bin/busybox
fi

# Shared objects to copy: node's, and those of every native addon in node_modules (koffi,
# rolldown, lightningcss) so vitest and koffi load inside the container.
elfs=("$NODE")
if [ -d node_modules ]; then
  while IFS= read -r f; do elfs+=("$f"); done < <(find node_modules -name '*.node' -type f 2>/dev/null | grep -v musl)
fi
libs=$(for f in "${elfs[@]}"; do ldd "$f" 2>/dev/null; done | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}' | sort -u)
# The rest of glibc's runtime too, so an image built before `npm ci` (no addons to ldd yet)
# still loads addons that want librt and friends.
libdir=$(dirname "$(echo "$libs" | grep '/libc\.so\.6$' | head -n 1)")
for n in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 libstdc++.so.6; do
  [ -e "$libdir/$n" ] && libs+=$'\n'"$libdir/$n"
done
libs=$(echo "$libs" | sort -u)

id=$( { echo "recipe $RECIPE"; sha256sum "$NODE" "$BUSYBOX"; for l in $libs; do sha256sum "$(readlink -f "$l")"; done; } | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" 2>/dev/null | sed -n 's/^PIDFD_MATRIX_ROOTFS_ID=//p')
if [ "$have" = "$id" ]; then
  log "image $IMAGE up to date (rootfs id $id, node $("$NODE" --version))"
else
  old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
  [ -n "$have" ] && log "image $IMAGE is stale (rootfs id $have, want $id): rebuilding"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  # usr-merged layout like Debian 12, so every path ldd printed resolves the same inside.
  mkdir -p "$root"/{usr/bin,usr/lib,usr/lib64,usr/local/bin,etc,tmp,proc,sys,dev,out,src,root}
  ln -s usr/bin "$root/bin"; ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"; ln -s usr/sbin "$root/sbin"
  mkdir -p "$root/usr/sbin"
  chmod 1777 "$root/tmp"
  cp "$NODE" "$root/usr/local/bin/node"
  for l in $libs; do
    dest=$root/usr/${l#/usr/}
    mkdir -p "$(dirname "$dest")"
    cp -L "$l" "$dest"
  done
  cp "$BUSYBOX" "$root/usr/bin/busybox"
  for a in $("$BUSYBOX" --list); do
    [ -e "$root/usr/bin/$a" ] || ln -s busybox "$root/usr/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  log "importing $IMAGE ($(du -sh "$root" | cut -f1), node $("$NODE" --version), $(echo "$libs" | wc -w) libraries)"
  tar -C "$root" -c . | docker import \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin" \
    --change "ENV PIDFD_MATRIX_ROOTFS_ID=$id" \
    --change "WORKDIR /src" \
    - "$IMAGE" >/dev/null || { log "ERROR: docker import of $IMAGE failed"; exit 1; }
  # A smoke check: the image runs node (catches a missing library now, not in the test).
  # Docker works here, so a broken image is a bug of this script: fail, do not skip.
  out=$(docker run --rm --network none "$IMAGE" node -e 'console.log(process.version)' 2>&1) ||
    { log "ERROR: image $IMAGE does not run node: $out"; exit 1; }
  # The previous build is now untagged: remove it (only it) so rebuilds do not pile up.
  [ -n "$old" ] && docker image rm "$old" >/dev/null 2>&1 || true
  log "image $IMAGE built (rootfs id $id, runs node $out)"
fi
printf 'ok\t%s\n' "$IMAGE" >"$STATE"
