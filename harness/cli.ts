// Entry point of `pidfd-matrix`: dispatches to one Command module per subcommand.
import { commands } from './commands/index.js';
import { UsageError } from './commands/types.js';

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'pidfd-matrix: Linux pidfd compatibility and regression harness',
    '',
    'Usage: pidfd-matrix <command> [options]   (pidfd-matrix <command> --help for details)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    console.error(`pidfd-matrix: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(cmd.usage);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`pidfd-matrix ${name}: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
