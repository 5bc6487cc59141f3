import type { Database } from './prisma';

/** The `objects` table: who was seen online, and when. Both statements judge age by the database's clock. */
export class ObjectsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the object or moves its `last_seen` forward, in one statement, so that checks finishing
   * in any order never move it back, and a write that lands late never brings back an expired row.
   */
  async recordSeen(objectId: number, seenAt: Date, ttlSeconds: number): Promise<boolean> {
    const changed = await this.db.$executeRaw`
      INSERT INTO objects (id, last_seen)
      SELECT ${objectId}::integer, ${seenAt}::timestamptz
      WHERE ${seenAt}::timestamptz > clock_timestamp() - ${ttlSeconds}::integer * interval '1 second'
      ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen
      WHERE objects.last_seen < EXCLUDED.last_seen`;
    return changed > 0;
  }

  /** Deletes every object not seen within the TTL; returns how many. */
  async deleteExpired(ttlSeconds: number): Promise<number> {
    return this.db.$executeRaw`
      DELETE FROM objects WHERE last_seen < clock_timestamp() - ${ttlSeconds}::integer * interval '1 second'`;
  }
}
