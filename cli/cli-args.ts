/**
 * Argument parsing shared by every verb: `node:util` parseArgs in strict mode, its errors turned
 * into UsageErrors with a "did you mean" for a mistyped option. Kept free of heavy imports: every
 * verb loads it, and `harrow <verb> --help` must start fast.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestMatch } from '../strategies/spec/closest-match.js';
import { UsageError } from './command.js';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode; its errors become UsageErrors (printed with the usage). */
export function parseCliArgs<const O extends OptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(withOptionHint(err instanceof Error ? err.message : String(err), options));
  }
}

/** `Unknown option '--jsn'` + `; did you mean --json?` when one of the verb's options is close. */
export function withOptionHint(message: string, options: OptionsConfig): string {
  const unknown = /Unknown option '(-{1,2})([^'=]+)/.exec(message);
  if (!unknown) return message;
  const names = Object.keys(options);
  const guess = closestMatch(unknown[2]!, names);
  return guess === undefined ? message : `${message.replace(/\.? To specify a positional argument.*$/s, '')}; did you mean --${guess}?`;
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
