import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { HarrowClient, loadClientConfig, type SweepStreamEvent } from '../../../cli/client.js';
import { SweepDetailSchema } from '../../../protocol/api.js';
import { HarrowError } from '../../../protocol/errors.js';
import { closedPort, json, startFakeServer, type FakeServer } from './fake-server.js';
import { runSummary, sweepDetail } from './fixtures.js';

function client(server: FakeServer | string, env: Record<string, string> = {}): HarrowClient {
  const url = typeof server === 'string' ? server : server.url;
  return new HarrowClient(loadClientConfig({ HARROW_URL: url, ...env }));
}

async function rejectsWith(p: Promise<unknown>, check: (e: HarrowError) => void): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HarrowError, `expected a HarrowError, got ${String(err)}`);
    check(err);
    return true;
  });
}

test('environment: defaults, trailing slash dropped, bad values named without echoing the token', () => {
  assert.deepEqual(loadClientConfig({}), { url: 'http://127.0.0.1:8080', token: undefined, timeoutMs: 30_000 });
  assert.equal(loadClientConfig({ HARROW_URL: 'https://h.example/harrow/', HARROW_TOKEN: '' }).url, 'https://h.example/harrow');
  assert.equal(loadClientConfig({ HARROW_TOKEN: '' }).token, undefined);
  assert.throws(
    () => loadClientConfig({ HARROW_URL: 'localhost:8080', HARROW_TIMEOUT_MS: 'soon' }),
    (err: HarrowError) => {
      assert.equal(err.code, 'INVALID_CONFIG');
      assert.match(err.message, /HARROW_URL="localhost:8080": must be an http:\/\/ or https:\/\/ URL/);
      assert.match(err.message, /HARROW_TIMEOUT_MS="soon": must be a whole number of milliseconds/);
      return true;
    },
  );
});

test('fixtures match the API schemas', () => {
  SweepDetailSchema.parse(sweepDetail());
});

test('sends the bearer token when HARROW_TOKEN is set, and none otherwise', async () => {
  const server = await startFakeServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() } });
  try {
    await client(server, { HARROW_TOKEN: 's3cret' }).getSweep('k3x9q2ab');
    await client(server).getSweep('k3x9q2ab');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer s3cret');
    assert.equal(server.requests[1]?.headers.authorization, undefined);
  } finally {
    await server.close();
  }
});

test('ids are escaped into the path; run list options become the query', async () => {
  const server = await startFakeServer({ 'GET /api/sweeps/a%2Fb/runs': { body: { runs: [], total: 0 } } });
  try {
    await client(server).listRuns('a/b', { states: ['stopped', 'failed'], sort: '-metric', limit: 10, offset: 20 });
    const q = server.requests[0]!.query;
    assert.equal(q.get('state'), 'stopped,failed');
    assert.equal(q.get('sort'), '-metric');
    assert.equal(q.get('limit'), '10');
    assert.equal(q.get('offset'), '20');
  } finally {
    await server.close();
  }
});

test('401 says to set HARROW_TOKEN, or that the one set was refused', async () => {
  const body = { code: 'UNAUTHORIZED', message: 'this server requires a token' };
  const server = await startFakeServer({ 'POST /api/sweeps/s/pause': { status: 401, body } });
  try {
    await rejectsWith(client(server).changeSweep('s', 'pause'), (e) => {
      assert.equal(e.code, 'UNAUTHORIZED');
      assert.match(e.message, /needs an API token: set HARROW_TOKEN/);
    });
    await rejectsWith(client(server, { HARROW_TOKEN: 'wrong' }).changeSweep('s', 'pause'), (e) => {
      assert.match(e.message, /refused HARROW_TOKEN/);
      assert.doesNotMatch(e.message, /wrong/, 'the token is never printed');
    });
  } finally {
    await server.close();
  }
});

test("404 and 409 carry the server's code and message", async () => {
  const server = await startFakeServer({
    'GET /api/sweeps/nope': { status: 404, body: { code: 'SWEEP_NOT_FOUND', message: "sweep 'nope' not found; `harrow status` lists the sweeps" } },
    'POST /api/sweeps/done/resume': { status: 409, body: { code: 'INVALID_STATE_TRANSITION', message: 'cannot resume sweep done: it is finished' } },
  });
  try {
    await rejectsWith(client(server).getSweep('nope'), (e) => {
      assert.equal(e.code, 'SWEEP_NOT_FOUND');
      assert.equal(e.status, 404);
      assert.equal(e.message, "sweep 'nope' not found; `harrow status` lists the sweeps");
    });
    await rejectsWith(client(server).changeSweep('done', 'resume'), (e) => {
      assert.equal(e.code, 'INVALID_STATE_TRANSITION');
      assert.equal(e.message, 'cannot resume sweep done: it is finished');
    });
    await rejectsWith(client(server).getRun('x'), (e) => {
      assert.equal(e.code, 'ROUTE_NOT_FOUND');
      assert.match(e.message, /point at a Harrow server of this version/);
    });
  } finally {
    await server.close();
  }
});

test('400 with issues lists every path: message', async () => {
  const issues = [
    { path: 'parameters.lr.min', message: 'log_uniform_values needs min > 0 (got 0)' },
    { path: 'metric.goal', message: "must be 'minimize' or 'maximize' (got 'maximise')" },
  ];
  const server = await startFakeServer({ 'POST /api/sweeps': { status: 400, body: { code: 'INVALID_SWEEP_CONFIG', message: 'invalid sweep config (2 problems)', details: { issues } } } });
  try {
    await rejectsWith(client(server).createSweep('method: bayes'), (e) => {
      assert.equal(e.code, 'INVALID_SWEEP_CONFIG');
      assert.equal(
        e.message,
        "invalid sweep config (2 problems)\n  parameters.lr.min: log_uniform_values needs min > 0 (got 0)\n  metric.goal: must be 'minimize' or 'maximize' (got 'maximise')",
      );
      assert.deepEqual(e.details, { issues });
    });
    assert.deepEqual(JSON.parse(server.requests[0]!.body), { config: 'method: bayes' });
    assert.equal(server.requests[0]!.headers['content-type'], 'application/json');
  } finally {
    await server.close();
  }
});

test('connection refused: says where, and how to fix it', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  await rejectsWith(client(url).listSweeps(), (e) => {
    assert.equal(e.code, 'SERVICE_UNAVAILABLE');
    assert.equal(e.message, `cannot reach the Harrow server at ${url} (ECONNREFUSED): is \`harrow server\` running? (set HARROW_URL)`);
  });
});

test('a server that does not answer within HARROW_TIMEOUT_MS', async () => {
  const server = await startFakeServer({ 'GET /api/sweeps': () => undefined });
  try {
    await rejectsWith(client(server, { HARROW_TIMEOUT_MS: '200' }).listSweeps(), (e) => {
      assert.match(e.message, /did not answer GET \/api\/sweeps within 200 ms \(raise HARROW_TIMEOUT_MS/);
    });
  } finally {
    await server.close();
  }
});

test('a response off the contract, or not JSON at all, is named as a version or URL mismatch', async () => {
  const server = await startFakeServer({
    'GET /api/sweeps/s': { body: { ...sweepDetail(), counts: { running: 'many' } } },
    'GET /api/runs/r': (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>hello</html>');
    },
    'GET /api/sweeps/t': (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    },
  });
  try {
    await rejectsWith(client(server).getSweep('s'), (e) => assert.match(e.message, /counts\.queued.*are the CLI and the server the same version\?/));
    await rejectsWith(client(server).getRun('r'), (e) => assert.match(e.message, /something other than JSON; is HARROW_URL a Harrow server\?/));
    await rejectsWith(client(server).getSweep('t'), (e) => {
      assert.equal(e.code, 'SERVICE_UNAVAILABLE');
      assert.match(e.message, /HTTP 502/);
    });
  } finally {
    await server.close();
  }
});

test('the raw response is returned, fields a newer server added included', async () => {
  const server = await startFakeServer({ 'GET /api/sweeps/k3x9q2ab': { body: { ...sweepDetail(), newField: 1 } } });
  try {
    const sweep = await client(server).getSweep('k3x9q2ab');
    assert.equal((sweep as unknown as { newField: number }).newField, 1);
  } finally {
    await server.close();
  }
});

/** Writes `text` in pieces, to exercise the parser across network chunks. */
async function writeInPieces(res: ServerResponse, text: string, pieces: number): Promise<void> {
  const size = Math.ceil(text.length / pieces);
  for (let i = 0; i < text.length; i += size) {
    res.write(text.slice(i, i + size));
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

test('events: typed events across chunk boundaries; a dropped stream is reopened with backoff', async () => {
  let connections = 0;
  const { spec: _s, config: _c, ...summary } = sweepDetail();
  const server = await startFakeServer({
    'GET /api/sweeps/k3x9q2ab/events': async (req, res) => {
      connections++;
      assert.equal(req.headers.accept, 'text/event-stream');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (connections === 1) {
        await writeInPieces(res, `: hi\n\n${sse('sweep', summary)}${sse('run', runSummary({ number: 1 }))}${sse('unknown', { x: 1 })}`, 7);
        res.destroy(); // the server goes away mid-sweep
      } else {
        await writeInPieces(res, `${sse('sweep', summary)}${sse('best', summary.best)}`, 3);
      }
    },
  });
  const abort = new AbortController();
  const seen: SweepStreamEvent[] = [];
  try {
    for await (const ev of client(server).events('k3x9q2ab', { signal: abort.signal, initialBackoffMs: 10 })) {
      seen.push(ev);
      if (ev.type === 'best') abort.abort();
    }
  } finally {
    await server.close();
  }
  assert.deepEqual(
    seen.map((e) => e.type),
    ['connected', 'sweep', 'run', 'disconnected', 'connected', 'sweep', 'best'],
  );
  const [, sweep, run, dropped, reconnected] = seen;
  assert.equal(sweep?.type === 'sweep' && sweep.data.counts.running, 2);
  assert.equal(run?.type === 'run' && run.data.id, 'k3x9q2ab-1');
  assert.ok(dropped?.type === 'disconnected' && dropped.attempt === 1 && dropped.retryInMs === 10, JSON.stringify(dropped));
  assert.ok(reconnected?.type === 'connected' && reconnected.reconnect);
  assert.equal(connections, 2);
});

test('events: retries back off exponentially while the server stays away', async () => {
  let connections = 0;
  const server = await startFakeServer({
    'GET /api/sweeps/s/events': (_req, res) => {
      connections++;
      if (connections === 1) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end();
      } else json(res, 503, { code: 'SERVICE_UNAVAILABLE', message: 'The server is not ready yet.' });
    },
  });
  const abort = new AbortController();
  const delays: number[] = [];
  try {
    for await (const ev of client(server).events('s', { signal: abort.signal, initialBackoffMs: 5, maxBackoffMs: 20 })) {
      if (ev.type === 'disconnected') delays.push(ev.retryInMs);
      if (delays.length === 4) abort.abort();
    }
  } finally {
    await server.close();
  }
  assert.deepEqual(delays, [5, 10, 20, 20]);
});

test('events: the first connection failing, or a 404, is an error rather than a retry loop', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  await rejectsWith(client(url).events('s').next(), (e) => assert.match(e.message, /cannot reach the Harrow server/));
  const server = await startFakeServer({ 'GET /api/sweeps/gone/events': { status: 404, body: { code: 'SWEEP_NOT_FOUND', message: "sweep 'gone' not found" } } });
  try {
    await rejectsWith(client(server).events('gone').next(), (e) => assert.equal(e.code, 'SWEEP_NOT_FOUND'));
  } finally {
    await server.close();
  }
});

test('events: a stream that goes silent past the idle timeout is reopened', async () => {
  let connections = 0;
  const server = await startFakeServer({
    'GET /api/sweeps/s/events': (_req, res) => {
      connections++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
    },
  });
  const abort = new AbortController();
  const seen: SweepStreamEvent[] = [];
  try {
    for await (const ev of client(server).events('s', { signal: abort.signal, idleTimeoutMs: 50, initialBackoffMs: 5 })) {
      seen.push(ev);
      if (seen.filter((e) => e.type === 'connected').length === 2) abort.abort();
    }
  } finally {
    await server.close();
  }
  const dropped = seen.find((e) => e.type === 'disconnected');
  assert.ok(dropped?.type === 'disconnected' && /no data from the server for 50 ms/.test(dropped.error), JSON.stringify(dropped));
  assert.equal(connections, 2);
});

test('issues the server already listed in its message are not printed twice', async () => {
  const issues = [{ path: 'metric.goal', message: 'must be minimize or maximize' }];
  const message = 'invalid sweep config (1 problem):\n  metric.goal: must be minimize or maximize';
  const server = await startFakeServer({ 'POST /api/sweeps': { status: 400, body: { code: 'INVALID_SWEEP_CONFIG', message, details: { issues } } } });
  try {
    await rejectsWith(client(server).createSweep('x'), (e) => assert.equal(e.message, message));
  } finally {
    await server.close();
  }
});
