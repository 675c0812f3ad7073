import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PGlite, type QueryOptions } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import {
  bigint,
  bigserial,
  boolean,
  date,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestStore } from '../support/store.ts';

const embedded = !process.env.DATABASE_URL;

/** Every column type (and mode) the schema uses, in one table of the test's own. */
const probe = pgTable('type_probe', {
  seq: bigserial('seq', { mode: 'bigint' }).primaryKey(),
  label: text('label').notNull(),
  list: text('list').array(),
  count: integer('count'),
  small: smallint('small'),
  minor: bigint('minor', { mode: 'bigint' }),
  version: bigint('version', { mode: 'number' }),
  flag: boolean('flag'),
  day: date('day', { mode: 'string' }),
  document: jsonb('document'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }),
});

const CREATE_PROBE = sql`create table type_probe (
  seq bigserial primary key, label text not null, list text[], count integer, small smallint, minor bigint,
  version bigint, flag boolean, day date, document jsonb, at timestamp with time zone)`;

const FULL = {
  label: 'full',
  list: ['a', 'with "quotes"', 'with,comma', ''],
  count: -2_147_483_648,
  small: 32_767,
  minor: 9_007_199_254_740_993n,
  version: 42,
  flag: true,
  day: '2026-12-05',
  document: { nested: { list: [1, 'two', null], at: '2026-12-05T07:00:00Z' }, big: 12.5 },
  at: new Date('2026-12-05T06:30:01.123Z'),
};

async function withProbe(store: Store): Promise<void> {
  await store.db.execute(CREATE_PROBE);
  await store.db.insert(probe).values([FULL, { label: 'nulls' }]);
}

/** Built-in types beyond the schema's, as a hand-written statement reads them (`db.execute`). */
const LITERALS = sql`select
  '2026-12-05 06:30:01.123456+00'::timestamptz as timestamptz,
  '2026-12-05 06:30:01'::timestamp as timestamp,
  '2026-12-05'::date as date,
  '1 day 02:03:04'::interval as interval,
  123456789012345678901234.5678::numeric as numeric,
  array[1.5, 2.25]::numeric[] as numerics,
  9007199254740993::int8 as int8,
  array[1, 9007199254740993]::int8[] as int8s,
  array['2026-12-05 06:30:01+00']::timestamptz[] as timestamptzs,
  array['2026-12-05']::date[] as dates,
  array['1 hour']::interval[] as intervals,
  array['x', null]::text[] as texts,
  '{"a": [1, 2.5, "x"]}'::json as json,
  '{"b": {"c": null}}'::jsonb as jsonb,
  array['{"d": 1}']::jsonb[] as jsonbs,
  2.5::float8 as float8,
  true as bool,
  '\\x0102ff'::bytea as bytea,
  null::timestamptz as missing`;

/** The rows of `db.execute` (typed `unknown` on the store's backend-neutral `Database`). */
function rowsOf(result: unknown): Record<string, unknown>[] {
  return (result as { rows: Record<string, unknown>[] }).rows;
}

describe('type parsing through the store', () => {
  it('reads every column type of the schema as the JS value drizzle maps it to', async () => {
    const store = await createTestStore();
    await withProbe(store);
    const rows = await store.db.select().from(probe).orderBy(probe.seq);
    assert.deepEqual(rows, [
      { seq: 1n, ...FULL },
      {
        seq: 2n,
        label: 'nulls',
        list: null,
        count: null,
        small: null,
        minor: null,
        version: null,
        flag: null,
        day: null,
        document: null,
        at: null,
      },
    ]);
    const inTransaction = await store.db.transaction((tx) => tx.select().from(probe).orderBy(probe.seq));
    assert.deepEqual(inTransaction, rows);
    if (store.embedded)
      assert.deepEqual(await store.embedded.db.select().from(probe).orderBy(probe.seq), rows);
  });

  it(
    'parses every type exactly as drizzle over a plain PGlite handle does, sending no parsers',
    { skip: !embedded },
    async () => {
      const client = new PGlite();
      const store = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
      await withProbe(store);
      // The reference: drizzle as it comes, over a copy of the data with PGlite's own parser table.
      const reference = drizzle({ client: (await client.clone()) as PGlite });
      try {
        const sent: (QueryOptions | undefined)[] = [];
        const query = client.query.bind(client);
        client.query = (text, params, options) => {
          sent.push(options);
          return query(text, params, options);
        };
        const typed = await store.db.select().from(probe).orderBy(probe.seq);
        assert.deepEqual(typed, await reference.select().from(probe).orderBy(probe.seq));
        assert.deepEqual(
          await store.embedded?.db.select().from(probe).orderBy(probe.seq),
          await reference.select().from(probe).orderBy(probe.seq),
        );
        const raw = rowsOf(await store.db.execute(LITERALS));
        assert.deepEqual(raw, rowsOf(await reference.execute(LITERALS)));
        assert.deepEqual(rowsOf(await store.db.transaction((tx) => tx.execute(LITERALS))), raw);
        assert.deepEqual(
          rowsOf(await store.db.execute(sql`select * from type_probe order by seq`)),
          rowsOf(await reference.execute(sql`select * from type_probe order by seq`)),
        );
        // Spot checks of what both give (so a change in both would show too).
        const [row] = raw;
        assert.equal(row?.['timestamptz'], '2026-12-05 06:30:01.123456+00');
        assert.equal(row?.['date'], '2026-12-05');
        assert.equal(row?.['int8'], 9_007_199_254_740_993n);
        assert.deepEqual(row?.['int8s'], [1, 9_007_199_254_740_993n]); // PGlite: a number while it is exact
        assert.equal(row?.['timestamptzs'], '{"2026-12-05 06:30:01+00"}');
        assert.deepEqual(row?.['jsonb'], { b: { c: null } });
        assert.deepEqual(row?.['texts'], ['x', null]);
        // Drizzle's statements go without parsers: PGlite would copy its whole table for each.
        assert.ok(sent.length > 0);
        assert.deepEqual(
          sent.filter((options) => options?.parsers !== undefined),
          [],
        );
      } finally {
        await store.close();
      }
    },
  );
});
