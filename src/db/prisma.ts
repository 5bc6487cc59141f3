import { PrismaPg } from '@prisma/adapter-pg';
import { withinDeadline } from '../deadline';
import { PrismaClient } from '../generated/prisma/client';
import { utcSessions } from './utc-sessions';

export type Database = PrismaClient;

/** No statement of this service takes long: one that does is a database in trouble, and its attempt is retried. */
const STATEMENT_TIMEOUT_MS = 5_000;

export function connectDatabase(databaseUrl: string, poolSize = 10): Database {
  return new PrismaClient({
    adapter: new PrismaPg({
      ...utcSessions(databaseUrl),
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      // The server's timeout cannot fire when the network to it hangs.
      query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
    }),
  });
}

/** A probe must answer within the orchestrator's timeout (Compose gives it 3 s) even when the database hangs. */
const REACHABLE_DEADLINE_MS = 2_000;

export async function isDatabaseReachable(db: Database): Promise<boolean> {
  try {
    await withinDeadline(db.$queryRaw`SELECT 1`, REACHABLE_DEADLINE_MS, 'the database');
    return true;
  } catch {
    return false;
  }
}
