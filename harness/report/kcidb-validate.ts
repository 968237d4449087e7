// Validates a KCIDB document against the real kcidb-io v5.3 schema (third_party/kcidb), with
// Draft-07 and format checks as upstream does (jsonschema Draft7Validator + FORMAT_CHECKER).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { repoPath } from '../../suites/lib/paths.js';

// ajv and ajv-formats are CommonJS with `export default`: require() gives the constructor.
const require = createRequire(import.meta.url);
const Ajv = require('ajv') as typeof import('ajv').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

export const KCIDB_SCHEMA_PATH = repoPath('third_party/kcidb/kcidb-v5.3.schema.json');

let validateFn: ReturnType<InstanceType<typeof Ajv>['compile']> | null = null;

/** [] when the document is a valid KCIDB v5.3 submission, else one line per problem. */
export function kcidbErrors(doc: unknown): string[] {
  if (!validateFn) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    validateFn = ajv.compile(JSON.parse(readFileSync(KCIDB_SCHEMA_PATH, 'utf8')));
  }
  if (validateFn(doc)) return [];
  return (validateFn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}
