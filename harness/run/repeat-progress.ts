// Progress of a long `--repeat`: the host reads the stream the supervisor appends (on the host,
// in a container's or a guest's shared cell dir alike) every few seconds and says how many runs
// of which case have answered, and how many distinct raw answers so far are errors.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { StreamLine } from '../../suites/lib/plan.js';

export const REPEAT_PROGRESS_MS = 5000;

export function watchRepeats(
  stream: string, repeat: number, say: (line: string) => void, everyMs = REPEAT_PROGRESS_MS,
): { stop: () => void; poll: () => void } {
  let offset = 0;
  let pending = '';
  const done = new Map<string, { runs: number; errors: number }>();
  let current: string | null = null;
  let lastSaid = '';
  const t0 = Date.now();
  const poll = () => {
    let size = 0;
    try {
      size = statSync(stream).size;
    } catch {
      return;
    }
    if (size < offset) offset = 0; // the stream was emptied for a new run
    if (size > offset) {
      const fd = openSync(stream, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        readSync(fd, buf, 0, buf.length, offset);
        offset = size;
        pending += buf.toString('utf8');
      } finally {
        closeSync(fd);
      }
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let line: StreamLine;
        try {
          line = JSON.parse(text) as StreamLine;
        } catch {
          continue;
        }
        if (line.t === 'start') current = line.id;
        if (line.t === 'done' || line.t === 'error') {
          const d = done.get(line.id) ?? { runs: 0, errors: 0 };
          d.runs++;
          if (line.t === 'error') d.errors++;
          done.set(line.id, d);
        }
      }
    }
    if (!current) return;
    const d = done.get(current) ?? { runs: 0, errors: 0 };
    const errors = d.errors ? ` (${d.errors} errors)` : '';
    const text = `repeat: ${current} ${d.runs}/${repeat} runs${errors}, ${Math.round((Date.now() - t0) / 1000)} s`;
    if (text.replace(/, \d+ s$/, '') === lastSaid) return;
    lastSaid = text.replace(/, \d+ s$/, '');
    say(text);
  };
  const timer = setInterval(poll, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer), poll };
}
