import { pino, type DestinationStream, type Logger } from 'pino';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line carries or that are noise for a person at a terminal. */
const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'agentId', 'sweepId']);

export interface AgentLoggerOptions {
  level: string;
  /** Where log lines go; stderr, so that stdout carries the runs' output. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** One readable line per entry instead of JSON; default: when the stream is a terminal. */
  pretty?: boolean;
}

/**
 * pino, as in the controller, with the same field names (`sweepId`, `runId`, `agentId`,
 * `attempt`). JSON for log collectors; a short line per entry for a person at a terminal.
 */
export function createAgentLogger(options: AgentLoggerOptions): Logger {
  const stream = options.stream ?? process.stderr;
  const pretty = options.pretty ?? stream.isTTY === true;
  const destination: DestinationStream = pretty ? { write: (line) => stream.write(prettyLine(line)) } : stream;
  return pino({ level: options.level, base: undefined }, destination);
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
