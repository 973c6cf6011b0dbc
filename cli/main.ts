/**
 * `harrow` entry point: dispatches to a verb in `cli/commands/`, loaded only when it runs (see
 * `commands/index.ts`). User mistakes print a message and exit non-zero; only a bug prints a
 * stack trace (and then asks for a report).
 */
import { closestMatch } from '../strategies/spec/closest-match.js';
import { UsageError, type Command } from './command.js';
import { verbs } from './commands/index.js';

function help(): string {
  const width = Math.max(...verbs.map((c) => c.name.length));
  return [
    'harrow: self-hosted hyperparameter sweeps',
    '',
    'Usage: harrow <command> [options]',
    '',
    ...verbs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `harrow <command> --help` for a command's options; every command takes --json.",
    'Server commands read HARROW_URL (default http://127.0.0.1:8080) and HARROW_TOKEN.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    console.log(help());
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version' || verb === '-v') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    console.log(pkg.version);
    return 0;
  }
  const entry = verbs.find((c) => c.name === verb);
  if (!entry) {
    const guess = closestMatch(verb, verbs.map((c) => c.name));
    const hint = guess ? ` Did you mean '${guess}'?` : verb.startsWith('-') ? ' Options go after the command.' : '';
    console.error(`harrow: unknown command '${verb}'.${hint}\n\n${help()}`);
    return 2;
  }
  const command: Command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`harrow ${command.name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    if (isUserFacing(err)) {
      console.error(`harrow ${command.name}: ${err.message}`);
      return 1;
    }
    console.error(`harrow ${command.name}: unexpected error (a bug; please report it with this output):`);
    console.error(err);
    return 70;
  }
}

/**
 * Our own errors (`HarrowError`, checked by name so that printing an error does not load the
 * module graph behind it), errors that carry a user-facing issue list (the sweep language's), or
 * a system error about a file or a connection.
 */
function isUserFacing(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  if (err.name === 'HarrowError') return true;
  if (Array.isArray((err as { issues?: unknown }).issues)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EACCES' || code === 'ECONNREFUSED' || code === 'EISDIR';
}

/**
 * `harrow runs X | head`: the reader left, so the output is done. Exit quietly instead of
 * printing an EPIPE stack trace, whatever the verb.
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

quietOnClosedPipe(process.stdout);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 70;
  },
);
