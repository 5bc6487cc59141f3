import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeObjectServiceOptions {
  port?: number;
  /** 127.0.0.1 unless the service must be reachable from other hosts (containers). */
  host?: string;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  isOnline?: (id: number) => boolean;
}

export interface FakeObjectService {
  url: string;
  /** Requests answered so far, and the most answered at once. */
  stats: { requests: number; inFlight: number; peakInFlight: number };
  close(): Promise<void>;
}

/**
 * The object service as docs/contract.md describes it: `GET /objects/{id}` answers `{ id, online }` after a random
 * latency, and `400 invalid id` for anything that is not an integer.
 */
export async function startFakeObjectService(options: FakeObjectServiceOptions = {}): Promise<FakeObjectService> {
  const { minLatencyMs = 300, maxLatencyMs = 4_300, isOnline = (id: number) => id % 2 === 0 } = options;
  const stats = { requests: 0, inFlight: 0, peakInFlight: 0 };
  const server: Server = createServer((request, response) => {
    const match = /^\/objects\/([^/?]+)$/.exec(request.url ?? '');
    if (request.method !== 'GET' || !match) {
      response.writeHead(404).end('not found');
      return;
    }
    const raw = decodeURIComponent(match[1] as string);
    if (!/^-?\d+$/.test(raw)) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('invalid id');
      return;
    }
    const id = Number(raw);
    stats.requests += 1;
    stats.inFlight += 1;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    const latency = minLatencyMs + Math.random() * (maxLatencyMs - minLatencyMs);
    setTimeout(() => {
      stats.inFlight -= 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, online: isOnline(id) }));
    }, latency);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
