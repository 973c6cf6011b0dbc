/**
 * What the verbs that talk to the server share: argument parsing that fails as a UsageError,
 * one client built from the environment, and output to an injectable stream so tests can run a
 * verb in-process against a local server and read exactly what it printed.
 */
import type { HarrowClient } from '../client.js';
import type { Command } from '../command.js';
import { detectStyle, type Style } from '../format.js';

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

export interface VerbIO {
  env: Record<string, string | undefined>;
  stdout: OutputStream;
  /** Aborted on Ctrl-C (long-running verbs such as `watch` stop and return). */
  signal?: AbortSignal;
  /** The clock, for ages and durations (fixed in tests). */
  now?: () => number;
  fetch?: typeof fetch;
  /** Asks the person at the terminal a question; unset when nobody can answer (stdin is not a terminal). */
  ask?: (question: string) => Promise<string>;
}

export interface Printer {
  /** Writes lines, each followed by a newline. */
  line(...lines: string[]): void;
  /** The API response, for scripts. */
  json(value: unknown): void;
  write(text: string): void;
  style: Style;
  isTTY: boolean;
  /** The terminal's width and height, when stdout is one. */
  columns: number | undefined;
  rows: number | undefined;
}

export interface VerbContext {
  /** Built on first use, so a verb's argument errors come before any environment error. */
  client(): HarrowClient;
  out: Printer;
  signal: AbortSignal | undefined;
  now(): number;
  /** See `VerbIO.ask`. */
  ask: ((question: string) => Promise<string>) | undefined;
}

export interface ApiVerb extends Command {
  /** Runs the verb against the given environment and output instead of the process's. */
  runWith(argv: string[], io: VerbIO): Promise<number>;
}

export interface ApiVerbSpec {
  name: string;
  usage: string;
  /** The verb runs until Ctrl-C and ends cleanly on it (`ctx.signal`); others just exit. */
  interruptible?: boolean;
  run(argv: string[], ctx: VerbContext): Promise<number>;
}

export function defineApiVerb(spec: ApiVerbSpec): ApiVerb {
  const runWith = async (argv: string[], io: VerbIO): Promise<number> => spec.run(argv, await contextOf(io));
  return {
    name: spec.name,
    usage: spec.usage,
    runWith,
    run: (argv) => (spec.interruptible ? runInterruptible(argv, runWith) : runWith(argv, { env: process.env, stdout: process.stdout, ...(process.stdin.isTTY ? { ask: askTerminal } : {}) })),
  };
}

async function askTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** Ctrl-C aborts the verb's signal; a second Ctrl-C exits at once in case it does not listen. */
async function runInterruptible(argv: string[], runWith: ApiVerb['runWith']): Promise<number> {
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await runWith(argv, { env: process.env, stdout: process.stdout, signal: abort.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** How a verb writes to its output stream: lines, JSON, styling only on a terminal. */
export function printerFor(stdout: OutputStream, env: Record<string, string | undefined>): Printer {
  const isTTY = stdout.isTTY === true;
  return {
    line: (...lines) => void stdout.write(lines.map((l) => `${l}\n`).join('')),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    write: (text) => void stdout.write(text),
    style: detectStyle(stdout, env),
    isTTY,
    columns: isTTY ? stdout.columns : undefined,
    rows: isTTY ? stdout.rows : undefined,
  };
}

async function contextOf(io: VerbIO): Promise<VerbContext> {
  // Loaded when a verb runs, not when its module is: the client brings zod and the API schemas,
  // which `harrow <verb> --help`, `validate` and `preview` (they share this file) do not need.
  const { HarrowClient, loadClientConfig } = await import('../client.js');
  let client: HarrowClient | undefined;
  return {
    client: () => (client ??= new HarrowClient(loadClientConfig(io.env), io.fetch ? { fetch: io.fetch } : {})),
    out: printerFor(io.stdout, io.env),
    signal: io.signal,
    now: io.now ?? Date.now,
    ask: io.ask,
  };
}

export { intOption, parseCliArgs, positionalArgs } from '../cli-args.js';

export const SWEEP_HINT = 'give the sweep id that `harrow create` printed (`harrow status` lists them)';
