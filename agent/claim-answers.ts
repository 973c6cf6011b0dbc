import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ClaimAnswerSchema, type ClaimAnswer } from '../protocol/wire.js';

/**
 * The controller's answers to this agent's claims and end reports, on one subscriber connection
 * for all slots. A claim (or end report) subscribes to its own channel before it is sent, so its
 * answer cannot come first; the answer is pushed the moment the controller has committed it (no
 * polling latency). Answers are not stored by Redis: one published while the connection was down
 * is lost, and the claim or end report is sent again (see RunAttempt), which the controller
 * answers again.
 */
export class ClaimAnswers {
  private readonly waiting = new Map<string, (message: string) => void>();

  constructor(
    private readonly subscriber: Redis,
    private readonly log: Logger,
  ) {
    subscriber.on('message', (channel: string, message: string) => this.waiting.get(channel)?.(message));
  }

  /**
   * Listens on `channel` for answers of `schema` (by default claim answers); resolves once Redis
   * confirmed the subscription.
   */
  async listen(channel: string): Promise<AnswerListener<ClaimAnswer>>;
  async listen<T>(channel: string, schema: z.ZodType<T>): Promise<AnswerListener<T>>;
  async listen<T>(channel: string, schema?: z.ZodType<T>): Promise<AnswerListener<T>> {
    const box = answerBox<T>();
    const parser = (schema ?? ClaimAnswerSchema) as z.ZodType<T>;
    this.waiting.set(channel, (message) => {
      const answer = parseAnswer(parser, message);
      if (answer !== null) box.put(answer);
      else this.log.warn({ channel, message: message.slice(0, 200) }, 'ignored an invalid answer from the controller');
    });
    try {
      await this.subscriber.subscribe(channel);
    } catch (err) {
      this.waiting.delete(channel);
      throw err;
    }
    return {
      next: box.next,
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

export interface AnswerListener<T> {
  /**
   * The next answer not taken yet, or null when `timeoutMs` passed or `interrupt` settled first.
   * An answer that came while nobody waited is kept (the latest one) for the next call.
   */
  next(timeoutMs: number, interrupt?: Promise<void>): Promise<T | null>;
  close(): Promise<void>;
}

export type ClaimListener = AnswerListener<ClaimAnswer>;

/** Where answers are put (by a subscription, or by the HTTP answer to a report) and waited for. */
export function answerBox<T>(): { put(answer: T): void; next: AnswerListener<T>['next'] } {
  let latest: T | null = null;
  let wake: (() => void) | null = null;
  return {
    put: (answer) => {
      latest = answer;
      wake?.();
    },
    next: (timeoutMs, interrupt) =>
      new Promise<T | null>((resolve) => {
        let settled = false;
        const done = (): void => {
          // Once: a late interrupt must not take an answer meant for the next call.
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          wake = null;
          const answer = latest;
          latest = null;
          resolve(answer);
        };
        const timer = setTimeout(done, timeoutMs);
        wake = done;
        if (latest !== null) done();
        else void interrupt?.finally(() => done());
      }),
  };
}

function parseAnswer<T>(schema: z.ZodType<T>, raw: string): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
