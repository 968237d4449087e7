// Is this process inside a container, and whose? Decided from the process's own view, never
// from a file alone: a virtme-ng guest sees the host's root through 9p, so the host's
// /.dockerenv (or a rootfs built from a Docker image, as on a Firecracker VM) shows up in a VM
// that is no container at all. systemd-detect-virt falls for the same file, so it is not used.
//
// The evidence, strongest first:
//  1. `container=` in the environment of PID 1 of our pid namespace (systemd's convention:
//     nspawn, lxc, podman set it);
//  2. our pid namespace: every container manager gives a container its own; a process in the
//     initial one (inode PROC_PID_INIT_INO, fixed since Linux 3.8) is no container's;
//  3. then the manager, from what it left in our view: cgroup paths, the bind mounts of
//     /etc/hostname & co. and the root overlay in mountinfo, /run/.containerenv, /.dockerenv.
// Docker with --pid=host shares the host's pid namespace and reads as "no container".

/** include/linux/proc_ns.h: PROC_PID_INIT_INO, the initial pid namespace's inode. */
export const PROC_PID_INIT_INO = 0xeffffffc;

/** What the detection reads; a recorded view in the self-tests, the live one in a probe. */
export interface ProcessView {
  /** inode of /proc/self/ns/pid, null when unreadable */
  pidNsInode: number | null;
  pid1Environ: string;   // /proc/1/environ ('' when unreadable)
  cgroup: string;        // /proc/self/cgroup
  mountinfo: string;     // /proc/self/mountinfo
  containerenv: boolean; // /run/.containerenv exists
  dockerenv: boolean;    // /.dockerenv exists
}

export interface ContainerVerdict { container: string | null; evidence: string }

const MANAGERS: [RegExp, string][] = [
  [/kubepods/, 'kubernetes'],
  [/\/docker[/-]|docker-[0-9a-f]{12,}\.scope|\/var\/lib\/docker\//, 'docker'],
  [/libpod|\/containers\/storage\//, 'podman'],
  [/\/lxc[./]|lxc\.payload/, 'lxc'],
  [/containerd/, 'containerd'],
];

/** Mount points (mountinfo field 5) a manager sets up from its own storage. */
const VIEW_MOUNTS = new Set(['/', '/etc/hostname', '/etc/hosts', '/etc/resolv.conf']);

export function detectContainerFrom(v: ProcessView): ContainerVerdict {
  const env = v.pid1Environ.split('\0').find((e) => e.startsWith('container='));
  if (env) return { container: env.slice('container='.length) || 'container', evidence: `PID 1 has ${env}` };
  if (v.pidNsInode === null) return { container: null, evidence: 'pid namespace unreadable; no container= on PID 1' };
  if (v.pidNsInode === PROC_PID_INIT_INO) {
    const ignored = [v.dockerenv && '/.dockerenv', v.containerenv && '/run/.containerenv'].filter(Boolean);
    return { container: null, evidence: `initial pid namespace (pid:[${v.pidNsInode}])${ignored.length ? `; ${ignored.join(', ')} present but inherited, not ours` : ''}` };
  }
  const ns = `own pid namespace (pid:[${v.pidNsInode}])`;
  for (const [re, name] of MANAGERS) {
    const line = v.cgroup.split('\n').find((l) => re.test(l));
    if (line) return { container: name, evidence: `${ns}; cgroup ${line.trim()}` };
  }
  // The manager's own files bind-mounted into our view (hostname, hosts, resolv.conf) or the root overlay.
  const mounts = v.mountinfo.split('\n').filter((l) => VIEW_MOUNTS.has(l.split(' ')[4]));
  for (const [re, name] of MANAGERS) {
    const line = mounts.find((l) => re.test(l));
    if (line) return { container: name, evidence: `${ns}; mount ${line.split(' ').slice(3, 5).join(' ')} from ${name}'s storage` };
  }
  if (v.containerenv) return { container: 'podman', evidence: `${ns}; /run/.containerenv` };
  if (v.dockerenv) return { container: 'docker', evidence: `${ns}; /.dockerenv` };
  return { container: 'container', evidence: `${ns}; manager unknown` };
}
