/**
 * Logs a failing connection (Redis, the job queue, the Harrow server) once, then at most every
 * ERROR_LOG_INTERVAL_MS, and its recovery: an outage of minutes is a few lines, not thousands.
 */
import type { Logger } from 'pino';
import { SECOND } from '../protocol/time.js';

const ERROR_LOG_INTERVAL_MS = 30 * SECOND;

export class ErrorThrottle {
  private lastLogged = 0;
  private failing = false;

  /** `errorAs: 'message'` logs only the error's message (for errors whose stack says nothing). */
  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly recoveredMessage: string,
    private readonly errorAs: 'error' | 'message' = 'error',
  ) {}

  report(err: unknown): void {
    const now = Date.now();
    if (!this.failing || now - this.lastLogged >= ERROR_LOG_INTERVAL_MS) {
      const logged = this.errorAs === 'message' ? (err instanceof Error ? err.message : String(err)) : err;
      this.log.warn({ err: logged }, this.message);
      this.lastLogged = now;
    }
    this.failing = true;
  }

  recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info(this.recoveredMessage);
  }
}
