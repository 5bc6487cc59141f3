import { createServer, connect, type Server, type Socket } from 'node:net';

/** A TCP proxy a test or the bench can cut and restore, to take a dependency away without stopping it. */
export class TcpProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  /** Drops every connection and refuses new ones until `open()` again. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

/** An open proxy in front of a PostgreSQL database, and the URL that reaches the database through it. */
export async function proxyDatabase(databaseUrl: string, port: number): Promise<{ proxy: TcpProxy; url: string }> {
  const target = new URL(databaseUrl);
  const proxy = new TcpProxy(port, { host: target.hostname, port: Number(target.port || 5432) });
  await proxy.open();
  target.host = `127.0.0.1:${port}`;
  return { proxy, url: target.toString() };
}
