import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type StubHandler = (id: number, attempt: number, response: ServerResponse, request: IncomingMessage) => void;

export interface StubObjectService {
  url: string;
  /** Requests received per id, in order of arrival. */
  attempts: Map<number, number>;
  close(): Promise<void>;
}

/** A real HTTP object service whose answers the test scripts, per id and attempt. */
export async function startStubObjectService(handler: StubHandler): Promise<StubObjectService> {
  const attempts = new Map<number, number>();
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const id = Number(/^\/objects\/(\d+)$/.exec(request.url ?? '')?.[1]);
    const attempt = (attempts.get(id) ?? 0) + 1;
    attempts.set(id, attempt);
    handler(id, attempt, response, request);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export const answer = (response: ServerResponse, status: number, body: unknown): void => {
  response
    .writeHead(status, { 'content-type': 'application/json' })
    .end(typeof body === 'string' ? body : JSON.stringify(body));
};
