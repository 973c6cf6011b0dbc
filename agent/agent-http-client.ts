/**
 * The HTTP agent's side of protocol/agent-http.ts. Reports are delivered in order, each retried
 * until the controller took it (it may be restarting): a report sent twice is harmless, since the
 * controller stores points under (run, attempt, seq) and an attempt ends once.
 */
import { HTTP_TRUST_HINT, closedBeforeAnswer, tlsProblem } from '../protocol/tls-problem.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { z } from 'zod';
import {
  AGENT_API,
  AckSchema,
  ClaimResponseSchema,
  MAX_CLAIM_WAIT_MS,
  PollResponseSchema,
  ReportAckSchema,
  type ClaimRequest,
  type ReportAck,
  type ClaimResponse,
  type PollRequest,
  type PollResponse,
} from '../protocol/agent-http.js';
import { ERROR_CODES, HarrowError, type ErrorCode } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';
import { AgentReportSchema, type AgentReport } from '../protocol/wire.js';

/** A claim waits MAX_CLAIM_WAIT_MS for a run, then up to 30 s for the commit of its claim. */
const CLAIM_TIMEOUT_MS = MAX_CLAIM_WAIT_MS + 45 * SECOND;
const CALL_TIMEOUT_MS = 15 * SECOND;
const RETRY_MAX_MS = 5 * SECOND;

export class AgentHttpClient {
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly servers: readonly string[];
  private current = 0;

  constructor(
    /**
     * The controller's base URL, without a trailing slash; or the URLs of several replicas of one
     * installation: a call that cannot reach one (connection refused or reset, timeout) sends the
     * next call to the next one, so the agent carries on when a replica dies.
     */
    servers: string | readonly string[],
    private readonly token: string | undefined,
    private readonly sweepId: string,
    private readonly onRetry: (err: unknown) => void,
  ) {
    this.servers = typeof servers === 'string' ? [servers] : [...servers];
    if (this.servers.length === 0) throw new HarrowError('INVALID_CONFIG', 'no server URL given');
  }

  /** The replica the next call goes to. */
  get server(): string {
    return this.servers[this.current]!;
  }

  claim(body: ClaimRequest, signal?: AbortSignal): Promise<ClaimResponse> {
    return this.call('claim', body, ClaimResponseSchema, CLAIM_TIMEOUT_MS, signal);
  }

  poll(body: PollRequest): Promise<PollResponse> {
    return this.call('poll', body, PollResponseSchema, CALL_TIMEOUT_MS);
  }

  async leave(agentId: string): Promise<void> {
    await this.call('leave', { agentId }, AckSchema, CALL_TIMEOUT_MS);
  }

  /** Queues one report behind the others; resolves once the controller took it (with its answer to an end report). */
  send(report: AgentReport): Promise<ReportAck> {
    const checked = AgentReportSchema.safeParse(report);
    if (!checked.success) {
      return Promise.reject(new HarrowError('INTERNAL', `agent built an invalid ${report.type} report: ${checked.error.message}`));
    }
    const next = this.chain.then(() => this.deliver(checked.data));
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Stops retrying reports (the agent is closing). */
  close(): void {
    this.closed = true;
  }

  private async deliver(report: AgentReport): Promise<ReportAck> {
    let backoff = 200;
    for (;;) {
      try {
        return await this.call('reports', report, ReportAckSchema, CALL_TIMEOUT_MS);
      } catch (err) {
        if (!retryable(err) || this.closed) throw err;
        this.onRetry(err);
        await delay(backoff);
        backoff = Math.min(backoff * 2, RETRY_MAX_MS);
      }
    }
  }

  private async call<S extends z.ZodType>(what: string, body: unknown, schema: S, timeoutMs: number, signal?: AbortSignal): Promise<z.output<S>> {
    const server = this.server;
    const url = `${server}${AGENT_API}/sweeps/${encodeURIComponent(this.sweepId)}/${what}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      // A certificate this agent cannot verify will not verify on the next try either.
      const tls = tlsProblem(err, HTTP_TRUST_HINT);
      if (tls) throw new HarrowError('INVALID_CONFIG', `cannot talk to the Harrow server at ${server}: ${tls}`, { cause: err });
      // Unreachable (not aborted by the caller): the next call tries the next replica, if there is one.
      if (!signal?.aborted && this.servers.length > 1 && this.server === server) this.current = (this.current + 1) % this.servers.length;
      if (server.startsWith('http:') && closedBeforeAnswer(err)) {
        // Also what a restarting server does to a request in flight: retried, with the hint.
        throw new HarrowError('SERVICE_UNAVAILABLE', `the server at ${server} closed the connection without answering (if it serves HTTPS, use ${server.replace(/^http:/, 'https:')})`, { cause: err });
      }
      throw new HarrowError('SERVICE_UNAVAILABLE', `cannot reach the Harrow server at ${server} (${errorText(err)}): is it running, and is --server right?`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = json as { code?: string; message?: string } | undefined;
      const code: ErrorCode = typeof e?.code === 'string' && e.code in ERROR_CODES ? (e.code as ErrorCode) : res.status >= 500 ? 'SERVICE_UNAVAILABLE' : 'INVALID_REQUEST';
      const hint = res.status === 401 ? ' (set HARROW_TOKEN to the token the server was started with)' : '';
      throw new HarrowError(code, `${e?.message ?? `HTTP ${res.status}`} [${what} at ${server}]${hint}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new HarrowError('INTERNAL', `the server at ${server} answered ${what} with something unexpected; are the agent and the server the same version?`);
    }
    return parsed.data;
  }
}

/** Worth trying again: the server is away or briefly unavailable. */
export function retryable(err: unknown): boolean {
  return err instanceof HarrowError && (err.status >= 500 || err.code === 'SERVICE_UNAVAILABLE');
}

function errorText(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err instanceof Error ? err.message : String(err));
}
