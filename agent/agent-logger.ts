/** The agent's pino logger (`protocol/harrow-logger.ts`: the same fields and formats as the controller's). */
import type { Logger } from 'pino';
import type { LogFormat } from '../protocol/config-schema.js';
import { createHarrowLogger } from '../protocol/harrow-logger.js';

export { prettyLine } from '../protocol/harrow-logger.js';

export interface AgentLoggerOptions {
  level: string;
  /** Where log lines go; stderr, so that stdout carries the runs' output. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** `auto` (default): one readable line per entry when the stream is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** The Redis password and the like, scrubbed from every line. */
  secrets?: readonly string[];
}

export function createAgentLogger(options: AgentLoggerOptions): Logger {
  return createHarrowLogger({
    level: options.level,
    stream: options.stream ?? process.stderr,
    format: options.format ?? 'auto',
    ...(options.secrets ? { secrets: options.secrets } : {}),
  });
}
