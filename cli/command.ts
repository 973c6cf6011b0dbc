/** A CLI verb: `harrow <name> ...`. Each lives in `cli/commands/<name>.ts`, listed in `cli/commands/index.ts`. */
export interface Command {
  name: string;
  /** Full usage text for `harrow <name> --help`. */
  usage: string;
  /** Returns the process exit code. Throw `UsageError` for bad arguments, `HarrowError` for the rest. */
  run(argv: string[]): Promise<number>;
}

/** Bad command-line arguments: printed with the verb's usage, exit code 2, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
