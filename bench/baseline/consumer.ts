import { Pool } from 'pg';
import { ObjectServiceClient, ObjectServiceError } from '../../src/activities/object-service';
import { connectQueue, decodeSighting, queueSettingsFromEnv } from './sightings-queue';

/** The statement of ObjectsRepository.recordSeen: last_seen never moves backwards. */
const UPSERT = `
  INSERT INTO objects (id, last_seen) VALUES ($1, $2)
  ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen
  WHERE objects.last_seen < EXCLUDED.last_seen`;

/** Matches the project's first retry interval for transient failures. */
const REDELIVER_AFTER_MS = 500;

/** The project's default cleanup interval (CLEANUP_INTERVAL_SECONDS). */
const CLEANUP_INTERVAL_MS = 3_000;

/**
 * The baseline's consumer pool: up to `prefetch` sightings in flight at once (the worker's limit
 * on concurrent checks), each fetched from the object service and upserted, then acknowledged.
 * A transient failure goes back to the queue; an id the object service rejects is dropped.
 * Expiry is the project's: a sighting older than OBJECT_TTL_SECONDS is not written, and a timer
 * deletes the rows older than that, so both systems keep the same table.
 */
async function main(): Promise<void> {
  const settings = queueSettingsFromEnv();
  const prefetch = Number(process.env.BASELINE_PREFETCH ?? 200);
  const ttlMs = Number(process.env.OBJECT_TTL_SECONDS) * 1000;
  const objectService = new ObjectServiceClient(String(process.env.OBJECT_SERVICE_URL), { connections: prefetch });
  // The worker's Prisma pool size.
  const db = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
  const connection = await connectQueue(settings);
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);
  setInterval(() => {
    db.query('DELETE FROM objects WHERE last_seen < $1', [new Date(Date.now() - ttlMs)]).catch((error: unknown) =>
      console.error('baseline: cleanup failed', error),
    );
  }, CLEANUP_INTERVAL_MS);
  await channel.consume(settings.queue, (message) => {
    if (!message) return;
    const { id, receivedAtMs } = decodeSighting(message.content);
    objectService
      .fetchStatus(id)
      .then(async ({ online }) => {
        if (online && receivedAtMs > Date.now() - ttlMs) await db.query(UPSERT, [id, new Date(receivedAtMs)]);
        channel.ack(message);
      })
      .catch((error: unknown) => {
        if (error instanceof ObjectServiceError && !error.retryable) {
          console.error(`baseline: dropping id ${id}: ${error.message}`);
          channel.ack(message);
        } else {
          setTimeout(() => channel.nack(message, false, true), REDELIVER_AFTER_MS);
        }
      });
  });
  // Unacknowledged messages go back to the queue when the connection drops.
  process.on('SIGTERM', () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
