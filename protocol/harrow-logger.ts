/**
 * pino (fastify's logger) as the controller and the agent both use it: the same field names
 * (`sweepId`, `runId`, `agentId`, `attempt`), JSON for log collectors or one readable line per
 * entry for a person at a terminal, and secrets scrubbed from every line whatever logged them.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogFormat } from './config-schema.js';

export type { Logger };

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line carries or that are noise for a person at a terminal. */
const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'agentId', 'sweepId']);

export interface HarrowLoggerOptions {
  level: string;
  /** pino's `name` field (`harrow-controller`); none for the agent, whose lines carry `agentId`. */
  name?: string;
  /** `auto` (the default): pretty when the stream is a terminal. */
  format?: LogFormat;
  /** Where lines go. Default standard error, so that the agent's stdout carries the runs' output. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Strings never written (passwords of the configured URLs, API tokens): replaced by `***` in
   * every line, so that no code path can leak them, even a library error that quotes a URL.
   */
  secrets?: readonly string[];
}

export function createHarrowLogger(options: HarrowLoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && stream.isTTY === true);
  const scrub = scrubber(options.secrets ?? []);
  const destination: DestinationStream = pretty ? { write: (line) => stream.write(prettyLine(line)) } : stream;
  return pino(
    {
      level: options.level,
      base: options.name === undefined ? undefined : { name: options.name, pid: process.pid },
      ...(scrub ? { hooks: { streamWrite: scrub } } : {}),
    },
    destination,
  );
}

/** Replaces each secret, as written and as JSON escapes it, by `***`; none when there is nothing to hide. */
function scrubber(secrets: readonly string[]): ((line: string) => string) | undefined {
  const forms = new Set<string>();
  for (const s of secrets) {
    // Short strings would also match innocent text; the config schemas refuse tokens that short.
    if (s.length < 4) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  if (forms.size === 0) return undefined;
  const list = [...forms].sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const f of list) if (out.includes(f)) out = out.split(f).join('***');
    return out;
  };
}

/** `12:01:02 WARN  message key=value ...` from one pino JSON line. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toTimeString().slice(0, 8) : '';
  const level = (LEVEL_NAMES[Number(entry.level)] ?? String(entry.level)).padEnd(5);
  const fields = Object.entries(entry)
    .filter(([k]) => !QUIET_FIELDS.has(k))
    .map(([k, v]) => `${k}=${formatValue(k, v)}`);
  const msg = typeof entry.msg === 'string' ? entry.msg : JSON.stringify(entry.msg ?? '');
  return `${time} ${level} ${msg}${fields.length ? `  ${fields.join(' ')}` : ''}\n`;
}

function formatValue(key: string, value: unknown): string {
  if (key === 'err' && value && typeof value === 'object' && 'message' in value) {
    return JSON.stringify(value.message);
  }
  return typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value);
}
