// Strict option parsing shared by the subcommands: unknown options are errors, not ignored.
import { parseArgs } from 'node:util';
import { UsageError } from './types.js';

type Spec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export function parseOptions<S extends Spec>(argv: string[], spec: S, usage: string) {
  try {
    return parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${usage}`);
  }
}

export function intOption(value: string | undefined, name: string, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} wants a whole number >= ${min}, got '${value}'`);
  return n;
}
