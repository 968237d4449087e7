// Container detection on recorded process views (each from a real system, trimmed): a VM that
// inherits /.dockerenv through its root is no container; a Docker container is, whatever its
// cgroup layout. The live detection runs in host-probe, container-probe and the guest smoke.
import { describe, expect, it } from 'vitest';
import { detectContainerFrom, PROC_PID_INIT_INO, type ProcessView } from './container.js';

const none: ProcessView = { pidNsInode: PROC_PID_INIT_INO, pid1Environ: '', cgroup: '0::/\n', mountinfo: '', containerenv: false, dockerenv: false };

describe('detectContainerFrom', () => {
  it('a virtme-ng guest sees the host /.dockerenv through its 9p root: no container', () => {
    const guest = { ...none, dockerenv: true, mountinfo: '21 1 0:20 / / ro,relatime - 9p /dev/root ro,access=client,trans=virtio\n' };
    expect(detectContainerFrom(guest)).toEqual({ container: null, evidence: 'initial pid namespace (pid:[4026531836]); /.dockerenv present but inherited, not ours' });
  });

  it('a Firecracker VM whose rootfs came from a Docker image (this dev machine): no container', () => {
    const vm = { ...none, dockerenv: true, cgroup: '4:memory:/process_api/18c67565b8cc9cb3599288c16495ef2d\n0::/\n', mountinfo: '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n' };
    expect(detectContainerFrom(vm).container).toBeNull();
  });

  it('Docker, cgroup v1: its own pid namespace and a /docker/<id> cgroup', () => {
    const v = { ...none, pidNsInode: 4026532181, dockerenv: true, cgroup: '9:name=systemd:/docker/64b3f9ec2b5e\n0::/docker/64b3f9ec2b5e\n' };
    expect(detectContainerFrom(v)).toEqual({ container: 'docker', evidence: 'own pid namespace (pid:[4026532181]); cgroup 9:name=systemd:/docker/64b3f9ec2b5e' });
  });

  it('Docker, cgroup v2 with a private cgroup namespace ("0::/"): the hostname bind mount from its storage', () => {
    const v = {
      ...none, pidNsInode: 4026532300, cgroup: '0::/\n',
      mountinfo: '72 48 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/KDSG\n91 72 254:0 /var/lib/docker/containers/0594e0d2/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw\n',
    };
    expect(detectContainerFrom(v).container).toBe('docker');
  });

  it('podman and systemd-nspawn declare themselves on PID 1 (container=)', () => {
    expect(detectContainerFrom({ ...none, pidNsInode: 4026532400, pid1Environ: 'PATH=/bin\0container=podman\0', containerenv: true })).toMatchObject({ container: 'podman', evidence: 'PID 1 has container=podman' });
    expect(detectContainerFrom({ ...none, pidNsInode: 4026532401, containerenv: true }).container).toBe('podman');
  });

  it('an own pid namespace without a known manager is still a container; an unreadable one is not claimed', () => {
    expect(detectContainerFrom({ ...none, pidNsInode: 4026532500 })).toMatchObject({ container: 'container', evidence: expect.stringContaining('manager unknown') });
    expect(detectContainerFrom({ ...none, pidNsInode: null, dockerenv: true }).container).toBeNull();
  });
});
