/**
 * The CLI's typed client of the controller's HTTP API (`protocol/api.ts`), over Node's global
 * `fetch`. It turns every way a request can go wrong into a HarrowError whose message says what
 * to do next, validates responses against the contract (a mismatch means the CLI and the server
 * are different versions, and should say so rather than print `undefined`), and reads the
 * per-sweep server-sent events stream with reconnection.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  BestResponseSchema,
  BestRunSchema,
  ErrorResponseSchema,
  ListRunsResponseSchema,
  RunDetailSchema,
  RecommendationResponseSchema,
  type RecommendationResponse,
  RunSummarySchema,
  SweepDetailSchema,
  SteerResponseSchema,
  WarmStartResponseSchema,
  EditSpecResponseSchema,
  SpecVersionsResponseSchema,
  type WarmStartResponse,
  type EditSpecResponse,
  type SpecVersionsResponse,
  SweepShareResponseSchema,
  type SweepShareResponse,
  type SteerResponse,
  SweepSummarySchema,
  type BestResponse,
  type BestRun,
  type ListRunsResponse,
  type RUN_SORTS,
  type RunDetail,
  type RunSummary,
  type SweepDetail,
  type SweepSummary,
} from '../protocol/api.js';
import {
  AuditResponseSchema,
  CreatedTokenSchema,
  ListTokensResponseSchema,
  StreamTicketSchema,
  TokenInfoSchema,
  type AuditEntry,
  type CreateTokenBody,
  type CreatedToken,
  type StreamTicket,
  type TokenInfo,
} from '../protocol/auth-api.js';
import { HttpUrlSchema, loadEnv, millisSchema } from '../protocol/config-schema.js';
import { DeletedSweepSchema, RetentionResponseSchema, type DeletedSweep, type RetentionResponse } from '../protocol/data-lifecycle-api.js';
import { ERROR_CODES, HarrowError, type ErrorCode, type ErrorIssue } from '../protocol/errors.js';
import type { RunState, SweepStateName } from '../protocol/run-states.js';
import { SECOND } from '../protocol/time.js';
import { HTTP_TRUST_HINT, closedBeforeAnswer, tlsProblem } from '../protocol/tls-problem.js';

export const DEFAULT_HARROW_URL = 'http://127.0.0.1:8080';

export const ClientEnvSchema = z.object({
  HARROW_URL: HttpUrlSchema(DEFAULT_HARROW_URL).default(DEFAULT_HARROW_URL).describe('Where the Harrow server (`harrow server`) listens.'),
  HARROW_TOKEN: z.string().trim().optional().describe('The API token the server was started with, sent as a bearer token.'),
  HARROW_TIMEOUT_MS: millisSchema(100, 600 * SECOND).default(30 * SECOND).describe('How long the CLI waits for the server to answer a request.'),
});

export interface ClientConfig {
  /** The server's base URL without a trailing slash (a path prefix behind a proxy is kept). */
  url: string;
  token: string | undefined;
  timeoutMs: number;
}

/** Parses the CLI's environment once; a bad value is an INVALID_CONFIG error naming the variable. */
export function loadClientConfig(env: Record<string, string | undefined>): ClientConfig {
  const { config: c } = loadEnv(ClientEnvSchema, env, 'environment');
  return { url: c.HARROW_URL.replace(/\/+$/, ''), token: c.HARROW_TOKEN || undefined, timeoutMs: c.HARROW_TIMEOUT_MS };
}

export type SweepAction = 'pause' | 'resume' | 'stop' | 'cancel';
export type RunSort = (typeof RUN_SORTS)[number];

export interface ListRunsOptions {
  states?: readonly RunState[];
  sort?: RunSort;
  limit?: number;
  offset?: number;
  /** The `nextCursor` of the page before (sorts by number). */
  cursor?: string;
}

/** One item of a sweep's live stream, plus the stream's own connection changes. */
export type SweepStreamEvent =
  | { type: 'sweep'; data: SweepSummary }
  | { type: 'run'; data: RunSummary }
  | { type: 'best'; data: BestRun }
  /** The stream (re)opened; the server follows with a `sweep` event of the current state. */
  | { type: 'connected'; reconnect: boolean }
  /** The stream dropped; the reader retries after `retryInMs`. */
  | { type: 'disconnected'; error: string; attempt: number; retryInMs: number };

export interface EventsOptions {
  signal?: AbortSignal;
  /** A stream silent this long is presumed dead and reopened (the server sends keep-alives). */
  idleTimeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

const STREAM_SCHEMAS = { sweep: SweepSummarySchema, run: RunSummarySchema, best: BestRunSchema } as const;

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Overrides HARROW_TIMEOUT_MS when longer (a request the server may take minutes to answer). */
  timeoutMs?: number;
}

/** A forced delete waits for agents to kill the sweep's runs (kill grace period and more). */
const DELETE_TIMEOUT_MS = 180 * SECOND;

export class HarrowClient {
  readonly config: ClientConfig;
  private readonly fetchImpl: typeof fetch;

  constructor(config: ClientConfig, options: { fetch?: typeof fetch } = {}) {
    this.config = config;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  createSweep(config: string, name?: string, warmStartFile?: { name: string; content: string }): Promise<SweepDetail> {
    return this.request('POST', '/api/sweeps', SweepDetailSchema, { body: { config, ...(name === undefined ? {} : { name }), ...(warmStartFile ? { warmStartFile } : {}) } });
  }

  /** Imports prior results: an exported file's text, or another sweep's runs. */
  warmStart(id: string, body: { content?: string; name?: string; from?: string; priorRuns?: string[] }): Promise<WarmStartResponse> {
    return this.request('POST', `/api/sweeps/${enc(id)}/warm-start`, WarmStartResponseSchema, { body });
  }

  /** A new version of the sweep's spec from the text of a sweep file. */
  editSpec(id: string, config: string): Promise<EditSpecResponse> {
    return this.request('PATCH', `/api/sweeps/${enc(id)}/spec`, EditSpecResponseSchema, { body: { config } });
  }

  specVersions(id: string): Promise<SpecVersionsResponse> {
    return this.request('GET', `/api/sweeps/${enc(id)}/spec/versions`, SpecVersionsResponseSchema);
  }

  async listSweeps(states?: readonly SweepStateName[]): Promise<SweepSummary[]> {
    const res = await this.request('GET', '/api/sweeps', z.object({ sweeps: z.array(SweepSummarySchema) }), {
      query: { state: states?.join(',') },
    });
    return res.sweeps;
  }

  getSweep(id: string, signal?: AbortSignal): Promise<SweepDetail> {
    return this.request('GET', `/api/sweeps/${enc(id)}`, SweepDetailSchema, { signal });
  }

  changeSweep(id: string, action: SweepAction): Promise<SweepDetail> {
    return this.request('POST', `/api/sweeps/${enc(id)}/${action}`, SweepDetailSchema, { body: {} });
  }

  listRuns(id: string, options: ListRunsOptions = {}): Promise<ListRunsResponse> {
    return this.request('GET', `/api/sweeps/${enc(id)}/runs`, ListRunsResponseSchema, {
      query: { state: options.states?.join(','), sort: options.sort, limit: options.limit, offset: options.offset, cursor: options.cursor },
    });
  }

  best(id: string, signal?: AbortSignal): Promise<BestResponse> {
    return this.request('GET', `/api/sweeps/${enc(id)}/best`, BestResponseSchema, { signal });
  }

  recommendation(id: string): Promise<RecommendationResponse> {
    return this.request('GET', `/api/sweeps/${enc(id)}/recommendation`, RecommendationResponseSchema);
  }

  getRun(id: string): Promise<RunDetail> {
    return this.request('GET', `/api/runs/${enc(id)}`, RunDetailSchema);
  }

  /** Raises run_cap; an ended sweep runs again (POST /api/sweeps/:id/extend). */
  extendSweep(id: string, runCap: number): Promise<SteerResponse> {
    return this.request('POST', `/api/sweeps/${enc(id)}/extend`, SteerResponseSchema, { body: { runCap } });
  }

  /** Sets a sweep's priority and slot cap on agents of several sweeps (POST /api/sweeps/:id/share). */
  setSweepShare(id: string, share: { priority?: number; maxSlots?: number | null }): Promise<SweepShareResponse> {
    return this.request('POST', `/api/sweeps/${enc(id)}/share`, SweepShareResponseSchema, { body: share });
  }

  /** Reruns ended runs in `states` as new runs linked to them. */
  rerunSweep(id: string, states: readonly string[]): Promise<SteerResponse> {
    return this.request('POST', `/api/sweeps/${enc(id)}/rerun`, SteerResponseSchema, { body: { states } });
  }

  /** Queues explicit configurations ahead of the strategy. */
  enqueue(id: string, params: Record<string, unknown> | Array<Record<string, unknown>>): Promise<SteerResponse> {
    return this.request('POST', `/api/sweeps/${enc(id)}/enqueue`, SteerResponseSchema, { body: { params } });
  }

  /** A new run with this run's parameters, `params` (dotted paths) replaced. */
  cloneRun(id: string, params: Record<string, unknown>): Promise<SteerResponse> {
    return this.request('POST', `/api/runs/${enc(id)}/clone`, SteerResponseSchema, { body: { params } });
  }

  stopRun(id: string, reason?: string): Promise<RunDetail> {
    return this.request('POST', `/api/runs/${enc(id)}/stop`, RunDetailSchema, { body: reason === undefined ? {} : { reason } });
  }

  /** Deletes a sweep and everything of it (admin); `force` cancels a running one first. */
  deleteSweep(id: string, force: boolean): Promise<DeletedSweep> {
    return this.request('DELETE', `/api/sweeps/${enc(id)}`, DeletedSweepSchema, { query: { force: force ? 'true' : undefined }, timeoutMs: DELETE_TIMEOUT_MS });
  }

  /** What retention would remove now (`apply`: remove it now). */
  retention(apply: boolean): Promise<RetentionResponse> {
    return this.request(apply ? 'POST' : 'GET', '/api/retention', RetentionResponseSchema, apply ? { body: {} } : {});
  }

  createToken(body: CreateTokenBody): Promise<CreatedToken> {
    return this.request('POST', '/api/tokens', CreatedTokenSchema, { body });
  }

  async listTokens(): Promise<TokenInfo[]> {
    return (await this.request('GET', '/api/tokens', ListTokensResponseSchema)).tokens;
  }

  revokeToken(name: string): Promise<TokenInfo> {
    return this.request('DELETE', `/api/tokens/${enc(name)}`, TokenInfoSchema);
  }

  streamTicket(sweepId: string): Promise<StreamTicket> {
    return this.request('POST', '/api/stream-tickets', StreamTicketSchema, { body: { sweep: sweepId } });
  }

  async audit(filter: { sweep?: string; actor?: string; action?: string; since?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    return (await this.request('GET', '/api/audit', AuditResponseSchema, { query: filter })).entries;
  }

  /**
   * The sweep's live events. The first connection failing is an error (the server is not there);
   * once connected, a dropped stream is reopened with exponential backoff until `signal` aborts,
   * and each drop and reopen is yielded so a viewer can show it. HTTP errors (404, 401) end it.
   */
  async *events(sweepId: string, options: EventsOptions = {}): AsyncGenerator<SweepStreamEvent, void, undefined> {
    const { signal, idleTimeoutMs = 60 * SECOND, initialBackoffMs = 500, maxBackoffMs = 10 * SECOND } = options;
    let connectedOnce = false;
    let attempt = 0;
    let retryMs: number | undefined;
    while (!signal?.aborted) {
      let failure: unknown;
      let delivered = false;
      try {
        const body = await this.openStream(sweepId, signal);
        yield { type: 'connected', reconnect: connectedOnce };
        connectedOnce = true;
        const parser = new SseParser();
        for await (const message of readWithIdleTimeout(body, idleTimeoutMs, signal)) {
          for (const m of parser.push(message)) {
            const event = parseStreamMessage(m);
            if (event) {
              delivered = true;
              yield event;
            }
          }
          retryMs = parser.retry ?? retryMs;
        }
        if (signal?.aborted) return;
        failure = new Error('the server closed the stream');
      } catch (err) {
        if (signal?.aborted) return;
        // HTTP errors and contract mismatches will not heal by retrying; a lost connection may.
        if (err instanceof HarrowError && !isTransient(err)) throw err;
        if (!connectedOnce) throw err;
        failure = err;
      }
      attempt = delivered ? 1 : attempt + 1;
      const backoff = Math.min(maxBackoffMs, (retryMs ?? initialBackoffMs) * 2 ** (attempt - 1));
      yield { type: 'disconnected', error: errorText(failure), attempt, retryInMs: backoff };
      try {
        await sleep(backoff, undefined, { signal });
      } catch {
        return;
      }
    }
  }

  private async openStream(sweepId: string, signal: AbortSignal | undefined): Promise<ReadableStream<Uint8Array>> {
    const path = `/api/sweeps/${enc(sweepId)}/events`;
    // The connect timeout must not cut the stream itself, so it is a timer cleared on headers.
    const connect = new AbortController();
    const timer = setTimeout(() => connect.abort(new DOMException('connect timeout', 'TimeoutError')), this.config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, connect.signal]) : connect.signal;
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path), { method: 'GET', headers: this.headers({ accept: 'text/event-stream' }), signal: combined });
    } catch (err) {
      throw this.networkError('GET', path, err, connect.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
    if (!res.ok) throw await this.httpError('GET', path, res);
    if (!res.body) throw new HarrowError('INTERNAL', `the Harrow server at ${this.config.url} sent an empty event stream for ${path}`);
    return res.body;
  }

  /** The sweep as one self-contained HTML file (see controller/sweep-report.ts). */
  report(id: string): Promise<string> {
    return this.fetchText('GET', `/api/sweeps/${enc(id)}/report`, { accept: 'text/html' });
  }

  private async request<S extends z.ZodType>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, schema: S, options: RequestOptions = {}): Promise<z.output<S>> {
    const text = await this.fetchText(method, path, options);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new HarrowError('INTERNAL', `the server at ${this.config.url} answered ${method} ${path} with something other than JSON; is HARROW_URL a Harrow server?`, { cause: err });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw contractError(this.config.url, `${method} ${path}`, parsed.error);
    // The response schemas have no transforms, so the raw body is the parsed value plus any
    // fields a newer server added; `--json` prints it whole.
    return body as z.output<S>;
  }

  /** One request's body as text; HTTP and network failures become HarrowErrors that say what to do. */
  private async fetchText(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, options: RequestOptions & { accept?: string } = {}): Promise<string> {
    const timeoutMs = Math.max(this.config.timeoutMs, options.timeoutMs ?? 0);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers = this.headers({ ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...(options.accept ? { accept: options.accept } : {}) });
    try {
      const res = await this.fetchImpl(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
      if (!res.ok) throw await this.httpError(method, path, res);
      return await res.text();
    } catch (err) {
      if (err instanceof HarrowError) throw err;
      if (options.signal?.aborted) throw err;
      throw this.networkError(method, path, err, timeout.aborted);
    }
  }

  private url(path: string, query?: Record<string, string | number | undefined>): string {
    const u = new URL(this.config.url + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', ...extra };
    if (this.config.token) h.authorization = `Bearer ${this.config.token}`;
    return h;
  }

  private networkError(method: string, path: string, err: unknown, timedOut: boolean): HarrowError {
    const where = this.config.url;
    if (timedOut || (err instanceof DOMException && err.name === 'TimeoutError')) {
      return new HarrowError('SERVICE_UNAVAILABLE', `the Harrow server at ${where} did not answer ${method} ${path} within ${formatSeconds(this.config.timeoutMs)} (raise HARROW_TIMEOUT_MS if it is busy)`, { cause: err });
    }
    const tls = tlsProblem(err, HTTP_TRUST_HINT);
    if (tls) return new HarrowError('INVALID_CONFIG', `cannot talk to the Harrow server at ${where}: ${tls}`, { cause: err });
    if (where.startsWith('http:') && closedBeforeAnswer(err)) {
      return new HarrowError('SERVICE_UNAVAILABLE', `the server at ${where} closed the connection without answering: if it serves HTTPS (HARROW_TLS_CERT), set HARROW_URL to ${where.replace(/^http:/, 'https:')}`, { cause: err });
    }
    const code = systemCode(err);
    const why = code ? ` (${code})` : '';
    return new HarrowError('SERVICE_UNAVAILABLE', `cannot reach the Harrow server at ${where}${why}: is \`harrow server\` running? (set HARROW_URL)`, { cause: err });
  }

  private async httpError(method: string, path: string, res: Response): Promise<HarrowError> {
    const raw = await res.text().catch(() => '');
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const body = ErrorResponseSchema.safeParse(json);
    if (res.status === 401) {
      const said = body.success ? ` (${body.data.message})` : '';
      const message = this.config.token
        ? `the Harrow server at ${this.config.url} refused HARROW_TOKEN${said}: set HARROW_TOKEN to the token the server was started with or one \`harrow token create\` made`
        : `the Harrow server at ${this.config.url} needs an API token: set HARROW_TOKEN to the token the server was started with or one \`harrow token create\` made`;
      return new HarrowError('UNAUTHORIZED', message);
    }
    if (!body.success) {
      return new HarrowError(codeForStatus(res.status), `the server at ${this.config.url} answered ${method} ${path} with HTTP ${res.status} ${res.statusText}; is HARROW_URL a Harrow server?`);
    }
    const { code, message, details } = body.data;
    const known = isErrorCode(code) ? code : codeForStatus(res.status);
    const issues = issuesOf(details);
    // Servers may already list the issues in the message; never print them twice.
    const listed = issues.every((i) => message.includes(`${i.path}: ${i.message}`));
    let full = issues.length > 0 && !listed ? `${message}\n${formatIssues(issues)}` : message;
    if (known === 'ROUTE_NOT_FOUND') full += ` (does HARROW_URL=${this.config.url} point at a Harrow server of this version?)`;
    return new HarrowError(known, full, { details });
  }
}

/** Every `path: message`, one per line, indented under the error's first line. */
export function formatIssues(issues: readonly ErrorIssue[]): string {
  return issues.map((i) => `  ${i.path === '' ? '(top level)' : i.path}: ${i.message}`).join('\n');
}

/** The `[{ path, message }]` of an invalid-input error's details, or none. */
export function issuesOf(details: unknown): ErrorIssue[] {
  const parsed = z.object({ issues: z.array(z.object({ path: z.string(), message: z.string() })) }).safeParse(details);
  return parsed.success ? parsed.data.issues : [];
}

export interface SseMessage {
  /** `message` when the server named none. */
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * The `text/event-stream` format (the HTML living standard's parsing rules): lines end in CRLF,
 * LF or CR; a blank line dispatches the event; `data:` lines join with newlines; `:` starts a
 * comment (keep-alive). Chunks may split anywhere, including inside a UTF-8 sequence or a CRLF.
 */
export class SseParser {
  /** The server's `retry:` advice in milliseconds, when it gave one. */
  retry: number | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  private started = false;
  private skipLeadingLf = false;
  private eventType = '';
  private data: string[] = [];
  private lastId: string | undefined;

  push(chunk: Uint8Array | string): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    if (this.skipLeadingLf && text.length > 0) {
      this.skipLeadingLf = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i];
      if (ch !== '\n' && ch !== '\r') continue;
      const message = this.line(this.buffer.slice(start, i));
      if (message) out.push(message);
      if (ch === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          // A CR at the end of a chunk may be the first half of a CRLF.
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.eventType = '';
        return undefined;
      }
      const message = { event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId };
      this.data = [];
      this.eventType = '';
      return message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
    return undefined;
  }
}

/** A known event as its typed value; unknown event names (a newer server's) are skipped. */
function parseStreamMessage(m: SseMessage): SweepStreamEvent | undefined {
  if (m.event !== 'sweep' && m.event !== 'run' && m.event !== 'best') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(m.data);
  } catch (err) {
    throw new HarrowError('INTERNAL', `the server sent a '${m.event}' event that is not JSON; are the CLI and the server the same version?`, { cause: err });
  }
  const parsed = STREAM_SCHEMAS[m.event].safeParse(json);
  if (!parsed.success) throw contractError(undefined, `the '${m.event}' event`, parsed.error);
  switch (m.event) {
    case 'sweep':
      return { type: 'sweep', data: json as SweepSummary };
    case 'run':
      return { type: 'run', data: json as RunSummary };
    case 'best':
      return { type: 'best', data: json as BestRun };
  }
}

/** Yields the body's chunks; throws when nothing (not even a keep-alive) arrives for `idleMs`. */
async function* readWithIdleTimeout(body: ReadableStream<Uint8Array>, idleMs: number, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (true) {
      const idle = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no data from the server for ${formatSeconds(idleMs)}`)), idleMs);
      });
      const next = await Promise.race([reader.read(), idle]);
      clearTimeout(timer);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    await reader.cancel().catch(() => undefined);
  }
}

function contractError(url: string | undefined, what: string, error: z.ZodError): HarrowError {
  const issues = error.issues.slice(0, 5).map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`);
  const from = url ? ` at ${url}` : '';
  return new HarrowError('INTERNAL', `unexpected response from the Harrow server${from} to ${what} (${issues.join('; ')}); are the CLI and the server the same version?`);
}

function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'UNAUTHORIZED';
  if (status === 404) return 'ROUTE_NOT_FOUND';
  if (status === 409) return 'INVALID_STATE_TRANSITION';
  if (status >= 400 && status < 500) return 'INVALID_REQUEST';
  if (status === 503 || status === 502 || status === 504) return 'SERVICE_UNAVAILABLE';
  return 'INTERNAL';
}

/** Worth reconnecting after: the server went away or is briefly unavailable. */
function isTransient(err: HarrowError): boolean {
  return err.status >= 500;
}

/** ECONNREFUSED and friends, from undici's `fetch failed` cause (or an AggregateError of them). */
function systemCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 4 && cur; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    const inner = (cur as { errors?: unknown[] }).errors?.[0];
    cur = (cur as { cause?: unknown }).cause ?? inner;
  }
  return undefined;
}

function errorText(err: unknown): string {
  if (err instanceof HarrowError) return err.message;
  const code = systemCode(err);
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function formatSeconds(ms: number): string {
  return ms % SECOND === 0 ? `${ms / SECOND} s` : `${ms} ms`;
}

const enc = encodeURIComponent;
