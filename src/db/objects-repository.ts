import type { Database } from './prisma';

/** The `objects` table: who was seen online, and when. */
export class ObjectsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Inserts the object or moves its `last_seen` forward, in one statement so that checks
   * finishing out of order can never move it backwards. Returns whether a row changed.
   */
  async recordSeen(objectId: number, seenAt: Date): Promise<boolean> {
    const changed = await this.db.$executeRaw`
      INSERT INTO objects (id, last_seen) VALUES (${objectId}, ${seenAt})
      ON CONFLICT (id) DO UPDATE SET last_seen = EXCLUDED.last_seen
      WHERE objects.last_seen < EXCLUDED.last_seen`;
    return changed > 0;
  }

  /** Deletes every object last seen before the cutoff; returns how many. */
  async deleteSeenBefore(cutoff: Date): Promise<number> {
    const { count } = await this.db.trackedObject.deleteMany({ where: { lastSeen: { lt: cutoff } } });
    return count;
  }
}
