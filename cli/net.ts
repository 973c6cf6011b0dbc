/** Small TCP helpers shared by `harrow demo` and the tests. */
import net from 'node:net';

/** Whether something accepts TCP connections at host:port (1 s timeout). */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Whether the service of a URL (`redis://…`, `postgres://…`) accepts connections. */
export function urlAnswers(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return canConnect(u.hostname, Number(u.port || defaultPort));
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
