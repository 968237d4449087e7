import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WARN_CASE, bareCommandOutput, bareRealWarn, bareSuite, bareSuiteWithWarn, stampKernelLines, stampedWarn, warnBlock } from './fixtures/bare-console.js';
import { analyzeConsole, classifyGuest, consoleExcerpt, faultLine, kernelStampsEvidence, printkTimeParam, scanKernelLog, type KernelLogEvent } from './console.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('console analysis on recorded guest logs', () => {
  it('a clean boot: command ran, its exit status is read, nothing wrong', () => {
    const f = analyzeConsole(fixture('clean-boot-6.1.log'));
    expect(f).toMatchObject({ panic: null, oops: null, kvmError: null, scriptStarted: true, scriptExit: 3 });
    expect(classifyGuest(3, false, f, 900)).toEqual({ status: 'ok', reason: '' });
  });

  it('a panic at boot (init=/nonexistent) is a panic with the kernel message as reason', () => {
    const text = fixture('panic-init-nonexistent-6.1.log');
    const f = analyzeConsole(text);
    expect(f.panic).toMatch(/^Kernel panic - not syncing: Attempted to kill init!/);
    expect(f.scriptStarted).toBe(false);
    const v = classifyGuest(255, false, f, 900);
    expect(v.status).toBe('panic');
    expect(v.reason).toContain('Attempted to kill init');
    expect(consoleExcerpt(text)).toContain('Kernel panic - not syncing');
  });

  it('a double fault during udev coldplug (6.12 under TCG) is a panic before the command started', () => {
    const f = analyzeConsole(fixture('double-fault-udev-6.12-tcg.log'));
    expect(f.panic).toBe('Kernel panic - not syncing: Fatal exception in interrupt');
    expect(f.oops).toMatch(/^Oops: double fault/);
    expect(f.scriptStarted).toBe(false);
    expect(classifyGuest(255, false, f, 900)).toEqual({ status: 'panic', reason: 'kernel panic: Fatal exception in interrupt' });
  });

  it('an Oops while the suite runs makes the guest an error even though the command returned', () => {
    const f = analyzeConsole(fixture('oops-null-deref-6.1.log'));
    expect(f.oops).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000008');
    expect(f.taint).toBe('GW');
    expect(f.scriptExit).toBe(139);
    const v = classifyGuest(139, false, f, 900);
    expect(v.status).toBe('panic');
    expect(v.reason).toMatch(/kernel fault: BUG: kernel NULL pointer dereference.*tainted GW/);
  });

  it('a KVM internal error / emulation failure is a boot failure blamed on the hypervisor', () => {
    for (const name of ['kvm-internal-error.log', 'kvm-msr-assertion.log']) {
      const f = analyzeConsole(fixture(name));
      expect(f.kvmError, name).not.toBeNull();
      const v = classifyGuest(255, false, f, 900);
      expect(v.status).toBe('boot-failure');
      expect(v.reason).toMatch(/^hypervisor failure: /);
    }
  });

  it('a timeout says whether the kernel had booted', () => {
    const booting = classifyGuest(null, true, analyzeConsole('[ 1.0] Run /init as init process\n'), 60);
    expect(booting).toEqual({ status: 'timeout', reason: expect.stringContaining('had not finished booting') });
    const running = classifyGuest(null, true, analyzeConsole('virtme-init: starting script\n'), 60);
    expect(running.reason).toContain('the command was running');
  });

  it('vng failing before the guest starts (bad arguments) is a boot failure', () => {
    const v = classifyGuest(1, false, analyzeConsole('ERROR: not a valid pts\n'), 60);
    expect(v).toEqual({ status: 'boot-failure', reason: 'the guest never started the command (vng exited 1)' });
  });
});

describe('kernel reports and case markers on a real console (bookworm 6.1 under TCG: an out-of-tree module WARNs, a userspace GPF, a taint write)', () => {
  const text = fixture('warn-taint-markers-6.1.log');

  it('a userspace "traps: gpf[252] general protection fault" is not a kernel fault: the guest ended ok', () => {
    const f = analyzeConsole(text);
    expect(f.oops).toBeNull();
    expect(f.warning).toMatch(/^WARNING: CPU: 0 PID: 249 at .*pidfd_matrix_warn\.c:5/);
    expect(classifyGuest(0, false, f, 900).status).toBe('ok');
  });

  it('scanKernelLog gives the markers and one report per kernel report block, in order', () => {
    const events = scanKernelLog(text);
    const brief = events.map((e) => (e.type === 'report' ? `${e.kind}: ${e.headline.slice(0, 40)}` : e.type === 'case-start' ? `start ${e.case}` : e.type === 'case-end' ? `end ${e.case} ${e.taint}` : `suite ${e.what} ${e.taint}`));
    expect(brief).toEqual([
      'suite start 0',
      'start demo/warn_module',
      'taint: pidfd_matrix_warn: loading out-of-tree m',
      'taint: pidfd_matrix_warn: module verification f',
      'warning: WARNING: CPU: 0 PID: 249 at /tmp/verdict',
      'end demo/warn_module 12800',
      'start demo/user_gpf',
      'end demo/user_gpf 12800',
      'start demo/proc_taint',
      'end demo/proc_taint 12864',
      'suite end 12864',
    ]);
    const warn = events.find((e) => e.type === 'report' && e.kind === 'warning') as Extract<ReturnType<typeof scanKernelLog>[number], { type: 'report' }>;
    expect(warn.excerpt.split('\n')[0]).toMatch(/cut here/);
    expect(warn.excerpt).toMatch(/---\[ end trace 0000000000000000 \]---$/);
  });

  it('kernel reports that are not WARNs: Oops, hung task, RCU stall, lockdep (after the kernel formats)', () => {
    const log = [
      '[   50.1] INFO: task sh:301 blocked for more than 2 seconds.',
      '[   50.2]       Not tainted 6.1.0-50-amd64 #1 Debian 6.1.176-1',
      '[   60.1] rcu: INFO: rcu_preempt self-detected stall on CPU',
      '[   70.1] WARNING: possible circular locking dependency detected',
      '[   80.1] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [node:412]',
      '[   42.1] traps: node[412] trap invalid opcode ip:55 sp:7ff error:0 in node[55+1000]',
    ].join('\n');
    expect(scanKernelLog(log).map((e) => (e.type === 'report' ? e.kind : e.type))).toEqual(['hung-task', 'rcu-stall', 'lockdep', 'lockup']);
    expect(scanKernelLog(fixture('oops-null-deref-6.1.log')).filter((e) => e.type === 'report').map((e) => (e as { kind: string }).kind)).toEqual(['oops']);
  });
});

// Kernels without CONFIG_PRINTK_TIME (tinyconfig-based builds before pidfd-minimal.config
// turned it on, or any kernel booted with printk.time=0) print their lines without a prefix,
// so the command's output on the same console looks the same (vm/fixtures/README.md).
describe('a console without printk timestamps (vanilla 6.9.0 from pidfd-minimal.config, real recordings)', () => {
  const suite = bareSuite;
  const output = bareCommandOutput;
  const reports = (text: string) => scanKernelLog(text).filter((e) => e.type === 'report');

  it('tells per console whether the kernel stamps its lines, from its own "Linux version" line', () => {
    expect(kernelStampsEvidence(suite)).toBe(false);
    expect(kernelStampsEvidence(output)).toBe(false);
    expect(kernelStampsEvidence(stampedWarn)).toBe(true);
    // Without that line (a fragment), the markers decide; with neither, any stamped line.
    expect(kernelStampsEvidence('pidfd-matrix: case a/b start\n')).toBe(false);
    expect(kernelStampsEvidence('[    1.5][    T1] pidfd-matrix: case a/b start\n')).toBe(true);
    expect(kernelStampsEvidence('[    T63] pidfd-matrix: case a/b start\n')).toBe(true);
    expect(kernelStampsEvidence('BUG: something\n')).toBeNull();
  });

  it('reads the unstamped case markers of a real suite run (167 cases), and no report on a clean run', () => {
    const events = scanKernelLog(suite);
    expect(events.filter((e) => e.type === 'case-start')).toHaveLength(167);
    expect(events.filter((e) => e.type === 'case-end' && e.taint === 0)).toHaveLength(167);
    expect(events.filter((e) => e.type === 'suite').map((e) => e.type === 'suite' && `${e.what} ${e.taint}`)).toEqual(['start 0', 'end 0']);
    expect(reports(suite)).toEqual([]);
    expect(analyzeConsole(suite)).toMatchObject({ panic: null, oops: null, warning: null, scriptStarted: true, scriptExit: 0 });
  });

  it('command output that looks like report headlines, and a userspace GPF\'s "traps:" line, are not kernel reports', () => {
    for (const l of ['WARNING: CPU: 0 PID: 1 at userspace.c:1', 'BUG: the command', 'Oops: the command', 'INFO: task sh:1 blocked', 'traps: gpf['])
      expect(output, l).toContain(l);
    const events = scanKernelLog(output);
    expect(events.map((e) => (e.type === 'report' ? `report ${e.headline}` : e.type === 'suite' ? `suite ${e.what}` : `${e.type} ${e.case}`))).toEqual([
      'suite start', 'case-start demo/user_gpf', 'case-end demo/user_gpf', 'case-start demo/command_output', 'case-end demo/command_output', 'suite end',
    ]);
    const f = analyzeConsole(output);
    expect(f).toMatchObject({ oops: null, warning: null, panic: null });
    expect(classifyGuest(0, false, f, 900)).toEqual({ status: 'ok', reason: '' });
  });

  // SPLICED (vm/fixtures/bare-console.ts): the real WARN block of warn-taint-markers-6.1.log,
  // stamps removed, between fdinfo_pid/pid_line's markers of the real 6.9.0 console.
  const spliced = bareSuiteWithWarn;

  it('a WARN between one case\'s unstamped markers is that case\'s report, with its lines', () => {
    expect(warnBlock[0]).toMatch(/^-+\[ cut here \]-+\r?$/);
    const events = scanKernelLog(spliced);
    const i = events.findIndex((e) => e.type === 'report');
    expect(events.slice(i - 1, i + 2).map((e) => e.type === 'report' ? `${e.kind}: ${e.headline.slice(0, 34)}` : `${e.type} ${(e as { case: string }).case}`)).toEqual([
      `case-start ${WARN_CASE}`, 'warning: WARNING: CPU: 0 PID: 249 at /tmp/v', `case-end ${WARN_CASE}`,
    ]);
    const warn = events[i] as Extract<KernelLogEvent, { type: 'report' }>;
    expect(warn.excerpt.split('\n')).toHaveLength(warnBlock.length);
    expect(warn.excerpt).toContain('Call Trace:');
    expect(reports(spliced)).toHaveLength(1);
    expect(analyzeConsole(spliced).warning).toMatch(/^WARNING: CPU: 0 PID: 249 at \/tmp\/verdicts-kmod\/mod\/pidfd_matrix_warn\.c:5 /);
  });
  it('the same console with stamps (time, time+caller, caller only) gives the same events', () => {
    const strip = (es: KernelLogEvent[]) => es.map((e) => (e.type === 'report' ? { ...e, excerpt: e.excerpt.replace(/^\[[^\]]*\](?:\[[^\]]*\])? ?/gm, '') } : e));
    const want = strip(scanKernelLog(spliced));
    for (const prefix of ['[   31.936352] ', '[   31.936352][   T249] ', '[   T249] ']) {
      const stamped = stampKernelLines(spliced, prefix);
      expect(kernelStampsEvidence(stamped), prefix).toBe(true);
      expect(strip(scanKernelLog(stamped)), prefix).toEqual(want);
      expect(analyzeConsole(stamped).warning, prefix).toBe(analyzeConsole(spliced).warning);
    }
  });

  it('printk.time=0 on the command line: the boot\'s first lines keep their stamps, the rest follow the parameter', () => {
    expect([printkTimeParam('a printk.time=0 b'), printkTimeParam('printk.time=1 printk.time=n'), printkTimeParam('printk.time'), printkTimeParam('x=1')]).toEqual([false, false, true, null]);
    expect(printkTimeParam('printk.time=off')).toBe(false);
    expect(printkTimeParam('printk.time=Y')).toBe(true);
    // The kernel stamps until it parses its parameters, right after printing "Kernel command line:".
    const mixed = (param: string) => {
      const lines = spliced.split('\n');
      const parsed = lines.findIndex((l) => l.startsWith('Kernel command line:'));
      return lines.map((l, i) => {
        const withParam = /^(?:Kernel c|C)ommand line: /.test(l) ? l.replace(/\r?$/, ` ${param}`) : l;
        return i <= parsed && i >= lines.findIndex((x) => x.startsWith('Linux version')) ? `[    0.000000] ${withParam}` : withParam;
      }).join('\n');
    };
    const off = mixed('printk.time=0');
    expect(off).toMatch(/^\[    0\.000000\] Linux version 6\.9\.0 /m);
    expect(kernelStampsEvidence(off)).toBe(false);
    expect(scanKernelLog(off).map((e) => e.type)).toEqual(scanKernelLog(spliced).map((e) => e.type));
    // Without the parameter the banner's stamp holds: the unstamped markers are then not the kernel's.
    const on = mixed('quiet');
    expect(kernelStampsEvidence(on)).toBe(true);
    expect(scanKernelLog(on)).toEqual([]);
    // A CONFIG_PRINTK_CALLER field stays whatever printk.time says.
    expect(kernelStampsEvidence('[    T0] Linux version 6.12.0 (x) #1\n[    T0] Command line: printk.time=0\n')).toBe(true);
  });

  it('a real printk.time=0 console (built 6.12 with a WARN planted in fdinfo): stamped banner, bare rest, the WARN read whole', () => {
    expect(bareRealWarn).toMatch(/^\[    0\.000000\] Linux version 6\.12\.117\+ /m);
    expect(bareRealWarn).toMatch(/^\[\s*\d+\.\d+\] Kernel command line: .* printk\.time=0/m);
    expect(kernelStampsEvidence(bareRealWarn)).toBe(false);
    const events = scanKernelLog(bareRealWarn);
    expect(events.filter((e) => e.type === 'case-start')).toHaveLength(168);
    const warn = events.filter((e) => e.type === 'report') as Extract<KernelLogEvent, { type: 'report' }>[];
    expect(warn.map((e) => [e.kind, e.headline])).toEqual([['warning', 'WARNING: CPU: 1 PID: 71 at fs/pidfs.c:68 0xffffffff81136cf1']]);
    expect(warn[0].excerpt.split('\n')[0]).toMatch(/cut here/);
    expect(warn[0].excerpt.trimEnd()).toMatch(/---\[ end trace 0000000000000000 \]---$/);
    expect(analyzeConsole(bareRealWarn)).toMatchObject({ oops: null, panic: null, warning: 'WARNING: CPU: 1 PID: 71 at fs/pidfs.c:68 0xffffffff81136cf1' });
  });

  it('an unstamped fault with the kernel\'s context is a fault; the same headline alone is not', () => {
    const oops = fixture('oops-null-deref-6.1.log').split('\n').map((l) => l.replace(/^\[\s*\d+\.\d+\] /, ''));
    const bare = ['Linux version 6.9.0 (root@vm) (gcc) #2 SMP', ...oops].join('\n');
    expect(analyzeConsole(bare).oops).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000008');
    expect(faultLine(bare)).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000008');
    expect(reports(bare).map((e) => e.type === 'report' && e.kind)).toEqual(['oops']);
    const alone = ['Linux version 6.9.0 (root@vm) (gcc) #2 SMP', 'BUG: kernel NULL pointer dereference, address: 0000000000000008', 'virtme-init: script returned {0}'].join('\n');
    expect(analyzeConsole(alone).oops).toBeNull();
    expect(faultLine(alone)).toBeNull();
    // On a stamped console an unstamped line is never the kernel's, context or not.
    const mixed = ['[    0.000000] Linux version 6.1.0 (gcc) #1 SMP', ...oops].join('\n');
    expect(analyzeConsole(mixed).oops).toBeNull();
  });

  it('hung task, RCU stall, lockdep and soft lockup reports without stamps (after the kernel formats)', () => {
    const log = [
      'Linux version 6.12.117 (root@vm) (gcc) #1 SMP',
      'INFO: task sh:301 blocked for more than 2 seconds.',
      '      Not tainted 6.12.117 #1',
      '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.',
      'rcu: INFO: rcu_preempt self-detected stall on CPU',
      'rcu: \t0-....: (21000 ticks this GP) idle=5c4/1/0x4000000000000000 softirq=1/1 fqs=5000',
      '======================================================',
      'WARNING: possible circular locking dependency detected',
      '6.12.117 #1 Not tainted',
      'watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [node:412]',
      'CPU: 1 UID: 0 PID: 412 Comm: node Not tainted 6.12.117 #1',
      'traps: node[412] trap invalid opcode ip:55 sp:7ff error:0 in node[55+1000]',
      'INFO: task printed by a command blocked for more than 2 seconds.',
    ].join('\n');
    expect(reports(log).map((e) => e.type === 'report' && e.kind)).toEqual(['hung-task', 'rcu-stall', 'lockdep', 'lockup']);
  });
});
