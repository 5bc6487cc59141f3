import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { PrismaPg } from '@prisma/adapter-pg';

// Why @prisma/adapter-pg is on another major than prisma and @prisma/client (see
// prisma.config.ts): the migrate commands read PostgreSQL `name` columns (OID 19), which the
// adapter's 6.19.3 release cannot deserialize (prisma/prisma#27403). This test fails on such an
// adapter, with a clearer message than migrate's. Whether a single release line has become
// possible is for `npm run check-prisma-line`, which asks the registry.

// The adapter checks `instanceof pg.Pool`: take the pg that the adapter itself resolves.
const adapterRequire = createRequire(require.resolve('@prisma/adapter-pg'));
const pg = adapterRequire('pg') as typeof import('pg');
const NAME_OID = 19;

/** Never connects: answers every query with one `name` column. */
class NameColumnPool extends pg.Pool {
  override query(): any {
    return Promise.resolve({
      command: 'SELECT',
      rowCount: 1,
      oid: 0,
      rows: [['public']],
      fields: [{ name: 'schemaname', dataTypeID: NAME_OID }],
    });
  }
}

test('the installed @prisma/adapter-pg reads PostgreSQL name columns, as prisma migrate needs', async () => {
  const adapter = await new PrismaPg(new NameColumnPool()).connect();
  try {
    const result = await adapter.queryRaw({ sql: 'SELECT schemaname FROM pg_tables', args: [], argTypes: [] });
    assert.deepEqual(result.columnNames, ['schemaname']);
    assert.deepEqual(result.rows, [['public']]);
  } finally {
    await adapter.dispose();
  }
});
