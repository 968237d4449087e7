#!/usr/bin/env node
// Thin launcher: the harness is TypeScript compiled to dist/ by `npm install` (prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/harness/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error('pidfd-matrix: dist/ is missing; run `npm install` (or `npm run build`) in the checkout first');
  process.exit(2);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
