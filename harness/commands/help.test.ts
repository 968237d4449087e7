// A true `--help`: every option a command's parser accepts is named in its usage text. The
// specs are captured from the real parseOptions calls (the run stops right there).
import { describe, expect, it, vi } from 'vitest';

const seen = new Map<string, string[]>();
let current = '';
vi.mock('./args.js', async (orig) => {
  const real = await orig<typeof import('./args.js')>();
  return {
    ...real,
    parseOptions: (_argv: string[], spec: Record<string, unknown>) => {
      seen.set(current, [...(seen.get(current) ?? []), ...Object.keys(spec)]);
      throw new Error('spec captured');
    },
  };
});

const { commands } = await import('./index.js');

describe('--help names every option the command accepts', () => {
  for (const c of commands) {
    it(c.name, async () => {
      current = c.name;
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      await c.run(['--help']).catch(() => undefined).finally(() => quiet.mockRestore());
      const keys = seen.get(c.name) ?? [];
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !c.usage.includes(`--${k}`))).toEqual([]);
    });
  }
});
