// The AVC parser on the real lines quoted in the reference (§4) and on kernel-format lines.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatAvc, parseAvcLine, parseAvcLog, typeOf } from './avc.js';
import { repoPath } from '../../suites/lib/paths.js';

const fixture = (name: string) => readFileSync(repoPath('harness/fixtures/avc', name), 'utf8');

describe('parseAvcLog on the reference quotes', () => {
  const recs = parseAvcLog(fixture('reference-quotes.log'));

  it('finds every quoted denial', () => {
    expect(recs).toHaveLength(5);
    expect(recs.every((r) => r.denied)).toBe(true);
  });

  it('6.9-next file denial on an unlabeled pidfs inode (R1)', () => {
    const r = recs[1];
    expect(r).toMatchObject({
      perm: 'write', perms: ['write'], comm: 'systemd', path: 'pidfd:[1547]', dev: 'pidfs', ino: 1547, pid: 1,
      scontext: 'system_u:system_r:init_t:s0', tcontext: 'system_u:object_r:unlabeled_t:s0', tclass: 'file', permissive: false,
    });
    expect(typeOf(r.tcontext)).toBe('unlabeled_t');
  });

  it('keeps a truncated quote: what is there, null for the rest', () => {
    const r = recs[0];
    expect(r.perms).toEqual(['read', 'write', 'open']);
    expect(r).toMatchObject({ dev: 'pidfs', path: 'pidfd:[709]', ino: 709, comm: 'systemd-userdbd', tcontext: null, tclass: null, permissive: null });
  });

  it('fd use on anon_inodefs (before 6.9) and on pidfs, quoted or bare', () => {
    expect(recs[2]).toMatchObject({ perm: 'use', tclass: 'fd', dev: 'anon_inodefs', path: 'anon_inode:[pidfd]', ino: 10, permissive: null });
    expect(recs[3]).toMatchObject({ perm: 'use', tclass: 'fd', dev: 'pidfs', comm: 'dbus-daemon', path: 'anon_inode:[pidfd]', ino: 303 });
    expect(typeOf(recs[3].tcontext)).toBe('unconfined_t');
  });

  it('filesystem getattr on the pidfs superblock (refpolicy#1018); a placeholder pid is null', () => {
    expect(recs[4]).toMatchObject({ perm: 'getattr', tclass: 'filesystem', name: '/', dev: 'pidfs', ino: 1, pid: null });
  });
});

describe('kernel log format', () => {
  const recs = parseAvcLog(fixture('kmsg-synthetic.log'));

  it('parses printk lines with double spaces and serials, skips non-AVC records', () => {
    expect(recs[0]).toMatchObject({ perm: 'getattr', dev: 'anon_inodefs', comm: 'node', pid: 212, serial: '1763895001.250:41', permissive: false });
  });

  it('decodes a hex comm and reads permissive=1', () => {
    expect(recs[1]).toMatchObject({ comm: 'node child', permissive: true, tclass: 'fd' });
  });

  it('counts one event once when kmsg and audit.log both carry it', () => {
    expect(recs).toHaveLength(2);
  });

  it('parseAvcLine: null for anything else', () => {
    expect(parseAvcLine('audit: type=1403 audit(1.1:2): lsm=selinux res=1')).toBeNull();
    expect(parseAvcLine('')).toBeNull();
  });

  it('formatAvc: one line with the fields a reader needs', () => {
    expect(formatAvc(recs[0])).toBe(
      'denied { getattr } tclass=filesystem comm="node" name="/" dev="anon_inodefs" ino=1 ' +
      'scontext=system_u:system_r:pidfd_probe_t:s0 tcontext=system_u:object_r:anon_inodefs_t:s0 permissive=0');
  });
});

describe('dmesg of a real 6.12 guest (pidfs-unaware policy)', () => {
  const recs = parseAvcLog(fixture('guest-6.12-pidfs-unaware.dmesg'));

  it('has the five kinds of denial the suite provokes', () => {
    const kinds = [...new Set(recs.map((r) => `${r.tclass}:${r.perm}`))].sort();
    expect(kinds).toEqual(['fd:use', 'filesystem:getattr', 'process:ptrace', 'process:sigkill', 'process:signal']);
  });

  it('fstatfs(pidfd) on 6.12: dev="pidfs", the superblock unlabeled (R16 before the fix)', () => {
    const r = recs.find((x) => x.tclass === 'filesystem')!;
    expect(r).toMatchObject({ dev: 'pidfs', name: '/', ino: 1, comm: 'node', permissive: false });
    expect(typeOf(r.tcontext)).toBe('unlabeled_t');
  });

  it('the SCM_RIGHTS drop names the pidfd (R15)', () => {
    const r = recs.find((x) => x.tclass === 'fd')!;
    expect(r).toMatchObject({ path: 'anon_inode:[pidfd]', dev: 'pidfs' });
    expect(typeOf(r.scontext)).toBe('pidfd_recv_t');
    expect(typeOf(r.tcontext)).toBe('pidfd_peer_t');
  });
});

describe('/dev/kmsg records of a real 6.1 guest (pidfs-unaware policy)', () => {
  const recs = parseAvcLog(fixture('guest-6.1-pidfs-unaware.kmsg'));

  it('before 6.9 the same denials name anon_inodefs, never pidfs', () => {
    expect(recs.filter((r) => r.dev !== null).map((r) => r.dev)).toEqual(expect.arrayContaining(['anon_inodefs']));
    expect(recs.some((r) => r.dev === 'pidfs')).toBe(false);
    const fs = recs.find((x) => x.tclass === 'filesystem')!;
    expect(typeOf(fs.tcontext)).toBe('anon_inodefs_t');
    expect(recs.find((x) => x.tclass === 'fd')).toMatchObject({ perm: 'use', path: 'anon_inode:[pidfd]', dev: 'anon_inodefs' });
  });
});

describe('/dev/kmsg records of a real 7.2 guest (pidfs-labeled policy)', () => {
  it('with fs_use_task pidfs the fstatfs denial targets fs_t, not unlabeled_t (R16)', () => {
    const recs = parseAvcLog(fixture('guest-7.2-pidfs-labeled.kmsg'));
    const fs = recs.find((x) => x.tclass === 'filesystem')!;
    expect(fs).toMatchObject({ dev: 'pidfs', perm: 'getattr' });
    expect(typeOf(fs.tcontext)).toBe('fs_t');
  });
});
