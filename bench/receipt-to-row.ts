import { Client } from 'pg';
import { EMBEDDED_DATABASE_URL } from '../src/defaults';
import { percentiles } from '../dev/tester/percentiles';

/**
 * Watches the objects table and reports how long after the API received a sighting its row
 * appeared: `last_seen` is the receipt time, so each change seen at time t took t - last_seen.
 *   tsx bench/receipt-to-row.ts [seconds]        (DATABASE_URL as for the service)
 */
export async function watchReceiptToRow(databaseUrl: string, seconds: number, pollMs = 25): Promise<number[]> {
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  const seen = new Map<number, number>();
  const delays: number[] = [];
  const until = Date.now() + seconds * 1000;
  let firstPoll = true;
  try {
    while (Date.now() < until) {
      const { rows } = await db.query<{ id: number; last_seen: Date }>('SELECT id, last_seen FROM objects');
      const observedAt = Date.now();
      for (const { id, last_seen: lastSeen } of rows) {
        const time = lastSeen.getTime();
        if (!firstPoll && seen.get(id) !== time) delays.push(observedAt - time);
        seen.set(id, time);
      }
      firstPoll = false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await db.end();
  }
  return delays;
}

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? 60);
  watchReceiptToRow(process.env.DATABASE_URL || EMBEDDED_DATABASE_URL, seconds).then(
    (delays) => console.log(JSON.stringify({ receiptToRowMs: percentiles(delays) })),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
