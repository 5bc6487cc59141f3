import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

// Runs in its own process (see embedded-postgres.ts): PGlite executes queries on the thread that
// owns it, which must not be the thread answering callbacks.
async function main(): Promise<void> {
  const dataDir = process.env.PGLITE_DATA_DIR as string;
  const port = Number(process.env.PGLITE_PORT);
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  const stop = async () => {
    await server.stop();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.send?.('ready');
}

main().catch((error: unknown) => {
  console.error('embedded PostgreSQL failed to start:', error);
  process.exit(1);
});
