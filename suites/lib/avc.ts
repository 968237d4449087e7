// SELinux AVC records: parsed from the kernel log (/dev/kmsg, dmesg) or audit.log into
// structured records, so tests can assert on them and reports can show them (reference §4).
import { closeSync, existsSync, openSync, readSync, statSync, constants as fsc } from 'node:fs';

export interface AvcRecord {
  denied: boolean;            // `avc: denied` (false: `avc: granted`, auditallow)
  perm: string;               // as printed: "read write open"
  perms: string[];
  scontext: string | null;
  tcontext: string | null;
  tclass: string | null;
  dev: string | null;
  path: string | null;
  name: string | null;
  ino: number | null;
  comm: string | null;
  pid: number | null;
  permissive: boolean | null; // null: the kernel did not print permissive= (before 4.17)
  serial: string | null;      // audit(<time>:<serial>), to drop duplicates across sources
  raw: string;
}

// Fields audit prints with audit_log_untrustedstring(): quoted, or hex when they contain
// spaces or quotes. Journal and some mail quotes drop the quotes, so bare text is kept as is.
const UNTRUSTED = new Set(['comm', 'path', 'name', 'exe']);

function unhex(v: string): string {
  return Buffer.from(v, 'hex').toString('utf8');
}

/** key=value pairs after the `for` of an AVC line (values quoted, bare or hex). */
function fields(s: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /([a-z_]+)=("([^"]*)"|(\S+))/g;
  for (let m; (m = re.exec(s)); ) {
    const [, k, , quoted, bare] = m;
    if (out.has(k)) continue;
    if (quoted !== undefined) out.set(k, quoted);
    else out.set(k, UNTRUSTED.has(k) && /^(?:[0-9A-F]{2})+$/.test(bare) && bare.length >= 4 ? unhex(bare) : bare);
  }
  return out;
}

const AVC = /avc:\s+(denied|granted)\s+\{\s*([^}]*?)\s*\}\s+for\s+(.*)$/;
const SERIAL = /audit\(([\d.]+:\d+)\)/;

/** Parse one log line (kmsg record, dmesg line, audit.log or journal line); null if not an AVC. */
export function parseAvcLine(line: string): AvcRecord | null {
  const m = AVC.exec(line);
  if (!m) return null;
  const f = fields(m[3]);
  const num = (k: string) => (f.has(k) && /^\d+$/.test(f.get(k)!) ? Number(f.get(k)) : null);
  const perms = m[2].split(/\s+/).filter(Boolean);
  const permissive = f.get('permissive');
  return {
    denied: m[1] === 'denied',
    perm: perms.join(' '),
    perms,
    scontext: f.get('scontext') ?? null,
    tcontext: f.get('tcontext') ?? null,
    tclass: f.get('tclass') ?? null,
    dev: f.get('dev') ?? null,
    path: f.get('path') ?? null,
    name: f.get('name') ?? null,
    ino: num('ino'),
    comm: f.get('comm') ?? null,
    pid: num('pid'),
    permissive: permissive === undefined ? null : permissive === '1',
    serial: SERIAL.exec(line)?.[1] ?? null,
    raw: line.trim(),
  };
}

/** All AVC records of a log text, each event once (kmsg and audit.log both carry it). */
export function parseAvcLog(text: string): AvcRecord[] {
  const seen = new Set<string>();
  const out: AvcRecord[] = [];
  for (const line of text.split('\n')) {
    const r = parseAvcLine(line);
    if (!r) continue;
    const key = r.serial ? `${r.serial}|${r.perm}|${r.tclass}` : null;
    if (key && seen.has(key)) continue;
    if (key) seen.add(key);
    out.push(r);
  }
  return out;
}

/** The type field of a context: "system_u:object_r:unlabeled_t:s0" -> "unlabeled_t". */
export function typeOf(context: string | null): string | null {
  return context?.split(':')[2] ?? null;
}

/** One readable line per record, for JUnit system-out. */
export function formatAvc(r: AvcRecord): string {
  const parts = [`${r.denied ? 'denied' : 'granted'} { ${r.perm} }`, `tclass=${r.tclass}`];
  for (const k of ['comm', 'path', 'name', 'dev', 'ino'] as const) if (r[k] !== null) parts.push(`${k}=${JSON.stringify(r[k])}`);
  parts.push(`scontext=${r.scontext}`, `tcontext=${r.tcontext}`);
  if (r.permissive !== null) parts.push(`permissive=${r.permissive ? 1 : 0}`);
  return parts.join(' ');
}

// ---- capture: what the kernel logged while one test ran ----------------------------------

/** Reads /dev/kmsg records written after start(); each read(2) returns one record. */
export class KmsgReader {
  private fd: number | null = null;

  open(path = '/dev/kmsg'): boolean {
    try {
      this.fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
    } catch {
      this.fd = null;
    }
    return this.fd !== null;
  }

  /** Message text of every record not read yet ("" when none). */
  drain(): string[] {
    if (this.fd === null) return [];
    const out: string[] = [];
    const buf = Buffer.alloc(16384);
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') continue; // records were overwritten; go on with the next
        break; // EAGAIN: nothing more for now
      }
      if (n <= 0) break;
      const rec = buf.subarray(0, n).toString('utf8');
      const semi = rec.indexOf(';');
      out.push((semi >= 0 ? rec.slice(semi + 1) : rec).split('\n')[0]);
    }
    return out;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

const AUDIT_LOG = '/var/log/audit/audit.log';

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export interface AvcCaptureResult { records: AvcRecord[]; lines: string[]; source: string }

/**
 * AVCs logged between start() and stop(). Without auditd the kernel prints AVCs from the
 * kauditd thread, a little after the denial, so stop() waits until the log has been quiet
 * for `quietMs` (at most `maxMs`).
 */
export class AvcCapture {
  private kmsg = new KmsgReader();
  private auditOffset: number | null = null;
  private lines: string[] = [];
  private hasKmsg = false;

  start(): this {
    this.hasKmsg = this.kmsg.open();
    this.kmsg.drain();
    this.auditOffset = existsSync(AUDIT_LOG) ? statSync(AUDIT_LOG).size : null;
    return this;
  }

  stop(quietMs = 400, maxMs = 3000): AvcCaptureResult {
    const t0 = Date.now();
    let last = Date.now();
    while (Date.now() - t0 < maxMs) {
      const got = this.kmsg.drain();
      if (got.length) {
        this.lines.push(...got);
        last = Date.now();
      } else if (Date.now() - last >= quietMs) break;
      sleepMs(50);
    }
    this.kmsg.close();
    let auditText = '';
    if (this.auditOffset !== null) {
      try {
        const fd = openSync(AUDIT_LOG, 'r');
        const size = statSync(AUDIT_LOG).size;
        const buf = Buffer.alloc(Math.max(0, size - this.auditOffset));
        readSync(fd, buf, 0, buf.length, this.auditOffset);
        closeSync(fd);
        auditText = buf.toString('utf8');
      } catch { /* rotated or unreadable: kmsg still has the records */ }
    }
    const avcLines = [...this.lines.filter((l) => AVC.test(l)), ...auditText.split('\n').filter((l) => AVC.test(l))];
    const sources = [this.hasKmsg ? '/dev/kmsg' : null, this.auditOffset !== null ? AUDIT_LOG : null].filter(Boolean);
    return { records: parseAvcLog(avcLines.join('\n')), lines: avcLines, source: sources.join(' + ') || 'none (no /dev/kmsg access)' };
  }
}
