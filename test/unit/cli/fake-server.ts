/**
 * A tiny HTTP server on 127.0.0.1 port 0 standing in for the controller: canned responses per
 * `METHOD /path`, every request recorded (headers and body) for the tests to inspect.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;
export type Canned = { status?: number; body: unknown } | Handler;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  routes: Map<string, Canned>;
  close(): Promise<void>;
}

export async function startFakeServer(routes: Record<string, Canned> = {}): Promise<FakeServer> {
  const table = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const route = table.get(`${recorded.method} ${recorded.path}`);
      if (route === undefined) {
        json(res, 404, { code: 'ROUTE_NOT_FOUND', message: `no route ${recorded.method} ${recorded.path}` });
      } else if (typeof route === 'function') {
        void Promise.resolve(route(recorded, res)).catch((err: unknown) => {
          res.destroy(err instanceof Error ? err : new Error(String(err)));
        });
      } else {
        json(res, route.status ?? 200, route.body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: table,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A port nothing listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** An output stream that keeps what was written; a terminal when `tty` is set. */
export function captureOutput(options: { tty?: boolean; columns?: number; rows?: number } = {}) {
  const chunks: string[] = [];
  return {
    write: (text: string) => {
      chunks.push(text);
      return true;
    },
    isTTY: options.tty ?? false,
    columns: options.columns,
    rows: options.rows,
    text: () => chunks.join(''),
  };
}
