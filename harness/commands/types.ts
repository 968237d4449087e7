// A subcommand of `pidfd-matrix`. Each lives in its own module and is listed in index.ts.
export interface Command {
  name: string;
  summary: string;             // one line for `pidfd-matrix --help`
  usage: string;               // full text for `pidfd-matrix <name> --help`
  /** Returns the process exit code. Throw UsageError for bad arguments. */
  run(argv: string[]): Promise<number>;
}

/** Bad input from the user: printed without a stack trace, exit code 2. */
export class UsageError extends Error {}
