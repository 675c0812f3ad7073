/**
 * A process that writes to an embedded store in `process.argv[2]` and is killed (SIGKILL) right after its
 * last commit, without closing the store: what a process crash leaves on disk (test/store/store.test.ts).
 * Committed: a key through a prepared statement inside a transaction, one outside, and a setting through
 * drizzle's query builder; one transaction rolled back. Prints `committed` before it dies.
 */
import { sql } from 'drizzle-orm';
import { openStore, preparedSql, writeSetting } from '../../../src/store/index.ts';

const insertKey = preparedSql<{ key: string }>(
  'test_killed_writer_insert_key',
  sql`insert into ob_idempotency (client_id, key, endpoint, body_hash, status, body, created_at, expires_at)
      values ('c', ${sql.placeholder('key')}, 'e', 'h', 201, '{}'::jsonb, now(), now() + interval '1 day')
      returning key`,
);

const store = await openStore({ backend: 'pglite', dataDir: process.argv[2] });
await store.migrate();
await store.db.transaction(async (tx) => {
  await insertKey(tx).execute({ key: 'in-transaction-1' });
  await insertKey(tx).execute({ key: 'in-transaction-2' });
});
await store.db
  .transaction(async (tx) => {
    await insertKey(tx).execute({ key: 'rolled-back' });
    throw new Error('roll back');
  })
  .catch(() => undefined);
await insertKey(store.db).execute({ key: 'alone' });
await writeSetting(store.db, 'last', { n: 3 });
process.stdout.write('committed\n');
process.kill(process.pid, 'SIGKILL');
