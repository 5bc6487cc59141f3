import { createServer } from 'node:net';

// The kernel may offer a port it offered a moment ago, before whoever got it has bound it: two
// parts of one test would then race for it. So no port is handed out twice in a process.
const handedOut = new Set<number>();

/** A TCP port that was free a moment ago on 127.0.0.1, and that this process has not had from here before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
