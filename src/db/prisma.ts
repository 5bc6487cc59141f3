import { PrismaPg } from '@prisma/adapter-pg';
import { withinDeadline } from '../deadline';
import { PrismaClient } from '../generated/prisma/client';
import { utcConnections } from './utc-connections';

export type Database = PrismaClient;

/** No statement of this service takes long: one that does is a database in trouble, and its attempt is retried. */
const STATEMENT_TIMEOUT_MS = 5_000;

/**
 * A pool on the database. PostgreSQL cancels, and rolls back, any of its statements still running
 * `statementTimeoutMs` after it started, so a statement held up (by a lock, a slow disk) cannot commit later.
 */
export function connectDatabase(
  databaseUrl: string,
  poolSize = 10,
  statementTimeoutMs = STATEMENT_TIMEOUT_MS,
): Database {
  return new PrismaClient({
    adapter: new PrismaPg({
      ...utcConnections(databaseUrl),
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      statement_timeout: statementTimeoutMs,
      // The server's timeout cannot fire when the network to it hangs.
      query_timeout: statementTimeoutMs + 1_000,
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
