import { PrismaPg } from '@prisma/adapter-pg';
import { withinDeadline } from '../deadline';
import { PrismaClient } from '../generated/prisma/client';

export type Database = PrismaClient;

export function connectDatabase(databaseUrl: string, poolSize = 10): Database {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 5_000 }),
  });
}

/**
 * A probe must answer within the orchestrator's timeout (Compose gives it 3 s) even when the
 * database hangs instead of refusing, and the pool waits for a connection on its own, longer clock.
 */
const REACHABLE_DEADLINE_MS = 2_000;

/** True when the database answers a trivial query within 2 s. */
export async function isDatabaseReachable(db: Database): Promise<boolean> {
  try {
    await withinDeadline(db.$queryRaw`SELECT 1`, REACHABLE_DEADLINE_MS, 'the database');
    return true;
  } catch {
    return false;
  }
}
