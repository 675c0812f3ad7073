import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { preparedSql, preparedStatement, schema } from '../../src/store/index.ts';
import { createTestStore } from '../support/store.ts';

const { obIdempotency } = schema;

/**
 * Statements prepared once (src/store/prepared.ts) run on the handle they are given: the database, or the
 * caller's transaction — on its connection, so they see its uncommitted writes and roll back with it.
 */
describe('statements prepared once', async () => {
  const store = await createTestStore();
  const db = store.db;
  const keyOf = preparedStatement((handle) =>
    handle
      .select({ key: obIdempotency.key })
      .from(obIdempotency)
      .where(eq(obIdempotency.key, sql.placeholder('key')))
      .prepare('test_prepared_key_of'),
  );
  const insertKey = preparedSql<{ key: string }>(
    'test_prepared_insert_key',
    sql`insert into ob_idempotency (client_id, key, endpoint, body_hash, status, body, created_at, expires_at)
        values ('c', ${sql.placeholder('key')}, 'e', 'h', 201, '{}'::jsonb, now(), now() + interval '1 day')
        returning key`,
  );

  it('runs in the transaction it is given, and rolls back with it', async () => {
    // Built on the database first: bound to its pool (PostgreSQL) or handle until given another.
    insertKey(db);
    assert.deepEqual(await keyOf(db).execute({ key: 'k1' }), []);
    const rolledBack = new Error('roll back');
    await assert.rejects(
      db.transaction(async (tx) => {
        assert.deepEqual((await insertKey(tx).execute({ key: 'k1' })).rows, [{ key: 'k1' }]);
        // Seen inside the transaction, by a prepared statement run on it …
        assert.deepEqual(await keyOf(tx).execute({ key: 'k1' }), [{ key: 'k1' }]);
        throw rolledBack;
      }),
      rolledBack,
    );
    // … and gone with it.
    assert.deepEqual(await keyOf(db).execute({ key: 'k1' }), []);
  });

  it('commits with the transaction, and runs again with other values', async () => {
    await db.transaction(async (tx) => {
      await insertKey(tx).execute({ key: 'k2' });
      await insertKey(tx).execute({ key: 'k3' });
    });
    assert.deepEqual(await keyOf(db).execute({ key: 'k2' }), [{ key: 'k2' }]);
    assert.deepEqual(await keyOf(db).execute({ key: 'k3' }), [{ key: 'k3' }]);
  });
});
