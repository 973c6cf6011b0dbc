/**
 * Everything the controller says to agents and to other controller replicas through Redis, except
 * the run queues (`run-queue.ts`) and the reports stream (`ingestor.ts`). Redis is transport only:
 * everything written here can be rewritten from Postgres after a flush (see `reconciler.ts`).
 */
import type { Redis } from 'ioredis';
import { connectRedis } from '../protocol/redis-connection.js';
import {
  AgentPresenceSchema,
  type AgentPresence,
  type ClaimAnswer,
  type EndAnswer,
  type ControlMessage,
  type RedisKeys,
  type SweepShare,
  type SweepState,
} from '../protocol/wire.js';
import { HOUR } from '../protocol/time.js';
import type { Logger } from './logger.js';

/** Control keys outlive any run's stop handling; they are garbage once the run ended. */
const CONTROL_TTL_MS = 24 * HOUR;

export class RedisLink {
  readonly redis: Redis;
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<(event: string, data: unknown) => void>>();

  constructor(
    readonly url: string,
    readonly keys: RedisKeys,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.redis = connectRedis(url, { maxRetriesPerRequest: null, lazyConnect: false });
    this.redis.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis connection error (retrying)'));
  }

  async setSweepState(sweepId: string, state: SweepState): Promise<void> {
    await this.redis.set(this.keys.sweepState(sweepId), state);
  }

  async setSweepShare(sweepId: string, share: SweepShare): Promise<void> {
    await this.redis.set(this.keys.sweepShare(sweepId), JSON.stringify(share));
  }

  async sendControl(runId: string, msg: ControlMessage): Promise<void> {
    await this.redis.set(this.keys.control(runId), JSON.stringify(msg), 'PX', CONTROL_TTL_MS);
  }

  /**
   * Answers claims, each on its own channel, in one round trip. Published, never stored: nothing
   * outlives the call, so a flood of forged claims costs Redis nothing, and an agent that missed
   * its answer re-sends its claim to get it again.
   */
  async answerClaims(answers: ReadonlyArray<{ runId: string; token: string; answer: ClaimAnswer }>): Promise<void> {
    await this.publishAll(answers.map((a) => [this.keys.claimAnswer(a.runId, a.token), JSON.stringify(a.answer)]));
  }

  /**
   * Answers end reports (resend these points / ended), each on its attempt's end channel, in one
   * round trip. Published, never stored, like claim answers: an agent that missed one sends its
   * end report again.
   */
  async answerEnds(answers: ReadonlyArray<{ runId: string; token: string; answer: EndAnswer }>): Promise<void> {
    await this.publishAll(answers.map((a) => [this.keys.endAnswer(a.runId, a.token), JSON.stringify(a.answer)]));
  }

  private async publishAll(messages: ReadonlyArray<[channel: string, message: string]>): Promise<void> {
    if (messages.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const [channel, message] of messages) pipe.publish(channel, message);
    const results = await pipe.exec();
    const failed = results?.find(([err]) => err !== null)?.[0];
    if (failed) throw failed;
  }

  /** Live agents of a sweep; entries older than `staleMs` are dropped (and deleted). */
  async presence(sweepId: string, staleMs: number, now = Date.now()): Promise<AgentPresence[]> {
    const raw = await this.redis.hgetall(this.keys.agents(sweepId));
    const live: AgentPresence[] = [];
    const dead: string[] = [];
    for (const [agentId, json] of Object.entries(raw)) {
      let parsed: AgentPresence | undefined;
      try {
        parsed = AgentPresenceSchema.parse(JSON.parse(json));
      } catch {
        parsed = undefined;
      }
      if (parsed && now - parsed.at <= staleMs) live.push(parsed);
      else dead.push(agentId);
    }
    if (dead.length > 0) await this.redis.hdel(this.keys.agents(sweepId), ...dead);
    return live;
  }

  private eventsChannel(sweepId: string): string {
    return `${this.prefix}:events:${sweepId}`;
  }

  /** Publishes a live event to every replica's SSE clients. Best effort: events are not stored. */
  async publish(sweepId: string, event: string, data: unknown): Promise<void> {
    await this.redis.publish(this.eventsChannel(sweepId), JSON.stringify({ event, data }));
  }

  /** Subscribes to a sweep's live events; returns the unsubscribe function. */
  async subscribe(sweepId: string, listener: (event: string, data: unknown) => void): Promise<() => Promise<void>> {
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis subscriber error (retrying)'));
      this.subscriber.on('message', (channel: string, message: string) => {
        const set = this.listeners.get(channel);
        if (!set) return;
        let parsed: { event: string; data: unknown };
        try {
          parsed = JSON.parse(message) as { event: string; data: unknown };
        } catch {
          return;
        }
        for (const l of set) l(parsed.event, parsed.data);
      });
    }
    const channel = this.eventsChannel(sweepId);
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      await this.subscriber.subscribe(channel);
    }
    set.add(listener);
    return async () => {
      set.delete(listener);
      if (set.size === 0) {
        this.listeners.delete(channel);
        await this.subscriber?.unsubscribe(channel);
      }
    };
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber?.quit(), this.redis.quit()]);
  }
}
