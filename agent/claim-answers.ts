import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ClaimAnswerSchema, type ClaimAnswer } from '../protocol/wire.js';

/**
 * The controller's answers to this agent's claims, on one subscriber connection for all slots.
 * A claim subscribes to its own channel before it is sent, so its answer cannot come first; the
 * answer is pushed the moment the controller has committed the claim (no polling latency).
 * Answers are not stored by Redis: one published while the connection was down is lost, and the
 * claim is sent again (see RunAttempt), which the controller answers again.
 */
export class ClaimAnswers {
  private readonly waiting = new Map<string, (answer: ClaimAnswer) => void>();

  constructor(
    private readonly subscriber: Redis,
    private readonly log: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      const deliver = this.waiting.get(channel);
      if (!deliver) return;
      const answer = parseAnswer(message);
      if (answer) deliver(answer);
      else this.log.warn({ channel, message: message.slice(0, 200) }, 'ignored an invalid claim answer');
    });
  }

  /** Listens on `channel` (resolves once Redis confirmed the subscription). */
  async listen(channel: string): Promise<ClaimListener> {
    let latest: ClaimAnswer | null = null;
    let wake: (() => void) | null = null;
    this.waiting.set(channel, (answer) => {
      latest = answer;
      wake?.();
    });
    try {
      await this.subscriber.subscribe(channel);
    } catch (err) {
      this.waiting.delete(channel);
      throw err;
    }
    return {
      next: (timeoutMs, interrupt) =>
        new Promise<ClaimAnswer | null>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            wake = null;
            resolve(latest);
          };
          const timer = setTimeout(done, timeoutMs);
          wake = done;
          if (latest !== null) done();
          else void interrupt.finally(() => done());
        }),
      close: async () => {
        this.waiting.delete(channel);
        await this.subscriber.unsubscribe(channel).catch(() => undefined);
      },
    };
  }

  close(): void {
    this.waiting.clear();
    this.subscriber.disconnect();
  }
}

export interface ClaimListener {
  /** The answer, or null when `timeoutMs` passed or `interrupt` settled first. */
  next(timeoutMs: number, interrupt: Promise<void>): Promise<ClaimAnswer | null>;
  close(): Promise<void>;
}

function parseAnswer(raw: string): ClaimAnswer | null {
  try {
    const parsed = ClaimAnswerSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
