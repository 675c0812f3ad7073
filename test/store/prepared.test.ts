import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { preparedRows, preparedSql, preparedStatement, schema } from '../../src/store/index.ts';
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

  /** Drizzle's error of a failed statement, caused by the database's with `code`. */
  const failedWith = (code: string) => (error: unknown) =>
    (error as { cause?: { code?: unknown } }).cause?.code === code;

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

  it('outside a transaction: a failed run leaves it usable, with the database error; values other than text', async () => {
    await insertKey(db).execute({ key: 'k4' });
    // A duplicate key fails in Execute (the statement was prepared): the same statement runs again after.
    await assert.rejects(insertKey(db).execute({ key: 'k4' }), failedWith('23505'));
    assert.deepEqual((await insertKey(db).execute({ key: 'k5' })).rows, [{ key: 'k5' }]);
    // A statement that fails to parse fails every time, and leaves the others working.
    const broken = preparedSql(
      'test_prepared_broken',
      sql`select key from no_such_table where key = ${sql.placeholder('key')}`,
    );
    for (let i = 0; i < 2; i++) await assert.rejects(broken(db).execute({ key: 'k5' }), failedWith('42P01'));
    assert.deepEqual(await keyOf(db).execute({ key: 'k5' }), [{ key: 'k5' }]);
    // A number or a Date is turned into text by the parameter's type, as the driver does.
    const counted = preparedSql<{ n: number; at: string }>(
      'test_prepared_typed',
      sql`select ${sql.placeholder('n')}::int + 1 as n, ${sql.placeholder('at')}::timestamptz = '2026-01-02T03:04:05Z'::timestamptz as at`,
    );
    assert.deepEqual((await counted(db).execute({ n: 41, at: new Date('2026-01-02T03:04:05Z') })).rows, [
      { n: 42, at: true },
    ]);
  });

  it(
    'inside an embedded transaction: one protocol message per run, values of every type sent as the driver sends them',
    { skip: !!process.env.DATABASE_URL },
    async () => {
      // A value of each kind drizzle hands the driver: text, number, bigint, Date, array, JSON text, null.
      const typed = preparedSql<{ n: number; big: string; at: string; ids: string; doc: string; none: null }>(
        'test_prepared_typed_in_transaction',
        sql`select ${sql.placeholder('n')}::int + 1 as n, (${sql.placeholder('big')}::int8 + 1)::text as big,
          ${sql.placeholder('at')}::timestamptz as at, array_to_string(${sql.placeholder('ids')}::text[], '|') as ids,
          (${sql.placeholder('doc')}::jsonb ->> 'a') as doc, ${sql.placeholder('none')}::text as none`,
      );
      const values = {
        n: 41,
        big: 9_007_199_254_740_993n,
        at: new Date('2026-01-02T03:04:05.678Z'),
        ids: ['a,b', 'c"d', 'e'],
        doc: JSON.stringify({ a: 'x' }),
        none: null,
      };
      const expected = [
        {
          n: 42,
          big: '9007199254740994',
          at: '2026-01-02 03:04:05.678+00',
          ids: 'a,b|c"d|e',
          doc: 'x',
          none: null,
        },
      ];
      // Outside a transaction first (prepared and described there), then inside one: the same answer.
      assert.deepEqual((await typed(db).execute(values)).rows, expected);
      await insertKey(db).execute({ key: 'm0' });
      const embedded = store.embedded!;
      await db.transaction(async (tx) => {
        const before = embedded.writeCount();
        assert.deepEqual((await typed(tx).execute(values)).rows, expected);
        await insertKey(tx).execute({ key: 'm1' });
        assert.deepEqual(await keyOf(tx).execute({ key: 'm1' }), [{ key: 'm1' }]);
        // PGlite's transaction `query` hands over six messages per statement (Parse, Describe, Bind, Describe,
        // Execute, Sync) and parses and plans it each time; a named statement is one message.
        assert.equal(embedded.writeCount() - before, 3);
      });
      assert.deepEqual(await keyOf(db).execute({ key: 'm1' }), [{ key: 'm1' }]);
    },
  );

  it(
    'inside an embedded transaction: a failed run rolls the transaction back and leaves the statement usable',
    { skip: !!process.env.DATABASE_URL },
    async () => {
      await insertKey(db).execute({ key: 'f1' });
      await assert.rejects(
        db.transaction(async (tx) => {
          await insertKey(tx).execute({ key: 'f2' });
          await insertKey(tx).execute({ key: 'f1' });
        }),
        failedWith('23505'),
      );
      assert.deepEqual(await keyOf(db).execute({ key: 'f2' }), []);
      await db.transaction(async (tx) => {
        await insertKey(tx).execute({ key: 'f3' });
      });
      assert.deepEqual(await keyOf(db).execute({ key: 'f3' }), [{ key: 'f3' }]);
    },
  );

  it('hands its rows unmapped, as arrays in column order, on the handle it is given', async () => {
    const keysAfter = preparedRows(
      'test_prepared_rows',
      sql`select key, status, null as nothing from ob_idempotency where key > ${sql.placeholder('key')} order by key`,
      (rows) => rows.map(([key, status, nothing]) => ({ key, status, nothing })),
    );
    await insertKey(db).execute({ key: 'r1' });
    assert.deepEqual(await keysAfter(db).execute({ key: 'r' }), [{ key: 'r1', status: 201, nothing: null }]);
    await db.transaction(async (tx) => {
      await insertKey(tx).execute({ key: 'r2' });
      assert.deepEqual(
        (await keysAfter(tx).execute({ key: 'r' })).map((row) => row.key),
        ['r1', 'r2'],
      );
    });
  });
});
