#!/usr/bin/env bash
# The userspace axis (kernels/userspace.ts, source: container cells): debootstrap to build
# distro roots, and crun registered as a Docker runtime next to runc. Idempotent; called by
# `make deps` after scripts/setup/docker.sh (which installs docker.io with runc and starts
# dockerd). Roots and images themselves are built on first use and cached.
set -uo pipefail

log() { echo "scripts/setup/userspace.sh: $*"; }
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 && SUDO=sudo
fi

missing=()
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v crun >/dev/null 2>&1 || missing+=(crun)
command -v runc >/dev/null 2>&1 || missing+=(runc)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
    { log "ERROR: could not apt-get install ${missing[*]} (run as root)"; exit 1; }
fi

# crun (1.8, Debian 12) refuses a hybrid cgroup layout whose v2 hierarchy still holds a controller
# ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"): a machine that
# mounts every v1 controller but hugetlb (this one) has exactly that. Mount such controllers'
# v1 hierarchies, as systemd's hybrid layout does; only controllers no v2 cgroup uses can move.
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
   [ -z "$(cat /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null)" ]; then
  for c in $(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null); do
    log "hybrid cgroups: mounting the v1 $c hierarchy at /sys/fs/cgroup/$c (crun needs an empty cgroup v2 hierarchy)"
    $SUDO mkdir -p "/sys/fs/cgroup/$c" && $SUDO mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" ||
      log "WARNING: could not mount the v1 $c hierarchy: crun cells will fail to start (runc ones are unaffected)"
  done
fi

# crun as a Docker runtime. dockerd reloads `runtimes` from daemon.json on SIGHUP, so a running
# daemon (and the containers of other runs on it) is never restarted for this.
if ! command -v docker >/dev/null 2>&1 || ! timeout 15 docker info >/dev/null 2>&1; then
  log "Docker is not answering (see scripts/setup/docker.sh's message): crun not registered; container cells will say so"
  exit 0
fi
if timeout 15 docker info --format '{{json .Runtimes}}' | grep -q '"crun"'; then
  log "crun already registered with dockerd"
  exit 0
fi
CONF=/etc/docker/daemon.json
CRUN=$(command -v crun)
$SUDO mkdir -p /etc/docker
# Merge into an existing daemon.json (node is there: the harness runs on it).
$SUDO node -e '
  const fs = require("fs"), [file, path] = process.argv.slice(1);
  let conf = {};
  try { conf = JSON.parse(fs.readFileSync(file, "utf8")); } catch (e) { if (e.code !== "ENOENT") throw new Error(`${file} is not valid JSON: ${e.message}; fix it by hand`); }
  conf.runtimes = { ...(conf.runtimes || {}), crun: { path } };
  fs.writeFileSync(file, JSON.stringify(conf, null, 2) + "\n");
' "$CONF" "$CRUN" || { log "ERROR: could not write $CONF"; exit 1; }
pid=
for c in /proc/[0-9]*/comm; do
  [ "$(cat "$c" 2>/dev/null)" = dockerd ] && { pid=${c#/proc/}; pid=${pid%/comm}; break; }
done
[ -n "$pid" ] && $SUDO kill -HUP "$pid"
for _ in $(seq 1 20); do
  timeout 15 docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"crun"' && { log "crun registered with dockerd ($CONF, reloaded by SIGHUP)"; exit 0; }
  sleep 0.5
done
log "ERROR: dockerd did not pick up crun from $CONF after SIGHUP; restart dockerd (scripts/setup/docker.sh starts it)"
exit 1
