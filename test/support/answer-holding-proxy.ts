import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy that can hold a server's answers back while it passes requests on, as a network that
 * loses or delays answers does: the server acts on a request whose client hears nothing. It can also
 * refuse connections while it keeps its port, which no other process can then take.
 */
export class AnswerHoldingProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  /** The answers held back, in the order they came, each with the client it is for. */
  private held?: Array<{ client: Socket; chunk: Buffer }>;
  private refusing = false;

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    this.server = createServer((client) => {
      if (this.refusing) return void client.destroy();
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.once('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => (this.held ? this.held.push({ client, chunk }) : client.write(chunk)));
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  /** Closes every connection, and each new one as soon as it is made, until `acceptConnections()`. */
  refuseConnections(): void {
    this.refusing = true;
    for (const socket of this.sockets) socket.destroy();
  }

  acceptConnections(): void {
    this.refusing = false;
  }

  holdAnswers(): void {
    this.held ??= [];
  }

  releaseAnswers(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const { client, chunk } of held) client.write(chunk);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
