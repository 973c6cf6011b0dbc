/**
 * What the verbs that talk to the server share: argument parsing that fails as a UsageError,
 * one client built from the environment, and output to an injectable stream so tests can run a
 * verb in-process against a local server and read exactly what it printed.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HarrowClient, loadClientConfig } from '../client.js';
import { UsageError, type Command } from '../command.js';
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
}

export interface ApiVerb extends Command {
  /** Runs the verb against the given environment and output instead of the process's. */
  runWith(argv: string[], io: VerbIO): Promise<number>;
}

export interface ApiVerbSpec {
  name: string;
  summary: string;
  usage: string;
  /** The verb runs until Ctrl-C and ends cleanly on it (`ctx.signal`); others just exit. */
  interruptible?: boolean;
  run(argv: string[], ctx: VerbContext): Promise<number>;
}

export function defineApiVerb(spec: ApiVerbSpec): ApiVerb {
  const runWith = (argv: string[], io: VerbIO): Promise<number> => spec.run(argv, contextOf(io));
  return {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    runWith,
    run: (argv) => {
      quietOnClosedPipe();
      return spec.interruptible ? runInterruptible(argv, runWith) : runWith(argv, { env: process.env, stdout: process.stdout });
    },
  };
}

/** `harrow runs X | head`: the reader left, so the output is done; no EPIPE stack trace. */
function quietOnClosedPipe(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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

function contextOf(io: VerbIO): VerbContext {
  let client: HarrowClient | undefined;
  return {
    client: () => (client ??= new HarrowClient(loadClientConfig(io.env), io.fetch ? { fetch: io.fetch } : {})),
    out: printerFor(io.stdout, io.env),
    signal: io.signal,
    now: io.now ?? Date.now,
  };
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** `node:util` parseArgs in strict mode; its errors become UsageErrors (printed with the usage). */
export function parseCliArgs<const O extends OptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** Exactly the positionals named (`SWEEP`, `FILE`...), or a UsageError saying which is missing or extra. */
export function positionalArgs<const N extends readonly string[]>(positionals: string[], names: N, hint = ''): { [K in keyof N]: string } {
  if (positionals.length < names.length) {
    const missing = names.slice(positionals.length).join(' ');
    throw new UsageError(`missing ${missing}${hint ? `: ${hint}` : ''}`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}' (expected ${names.length === 0 ? 'no arguments' : names.join(' ')})`);
  }
  return positionals as unknown as { [K in keyof N]: string };
}

/** A whole number within bounds from an option's text. */
export function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${name} must be a whole number (got '${text}')`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

export const SWEEP_HINT = 'give the sweep id that `harrow create` printed (`harrow status` lists them)';
