/** The controller's pino logger (`protocol/harrow-logger.ts`: the same fields and formats as the agent's). */
import { createHarrowLogger, type Logger } from '../protocol/harrow-logger.js';
import type { LogFormat } from '../protocol/config-schema.js';

export type { Logger };

export interface ControllerLoggerOptions {
  format?: LogFormat;
  /** Passwords and tokens of the configuration (`configSecrets`), scrubbed from every line. */
  secrets?: readonly string[];
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Lines go to standard output, JSON unless `format` says otherwise. */
export function createLogger(level: string, name: string, options: ControllerLoggerOptions = {}): Logger {
  return createHarrowLogger({ level, name, format: options.format ?? 'json', stream: options.stream ?? process.stdout, ...(options.secrets ? { secrets: options.secrets } : {}) });
}
