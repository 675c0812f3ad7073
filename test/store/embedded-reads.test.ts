import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { PGlite } from '@electric-sql/pglite';
import {
  openStore,
  readSetting,
  schema,
  writeSetting,
  type EmbeddedReads,
  type Store,
} from '../../src/store/index.ts';
import { readsUntilNextWrite } from '../../src/shared/reads-until-next-write.ts';
import { createTestStore } from '../support/store.ts';
import { recordStatements } from '../support/statements.ts';

const embedded = !process.env.DATABASE_URL;

function embeddedOf(store: Store): EmbeddedReads {
  assert.ok(store.embedded, 'the embedded database has embedded reads');
  return store.embedded;
}

/** The setting `key` read through the read-only statements, as a cached read would. */
async function readOnlySetting(reads: EmbeddedReads, key: string): Promise<unknown> {
  const [row] = await reads.db
    .select({ value: schema.settings.value })
    .from(schema.settings)
    .where(eq(schema.settings.key, key));
  return row?.value;
}

describe('embedded reads: a count of every write through the one handle', () => {
  it('is absent on PostgreSQL, where other instances write too', { skip: embedded }, async () => {
    const store = await createTestStore();
    assert.equal(store.embedded, undefined);
  });

  it('advances on every kind of write and not on a read-only statement', { skip: !embedded }, async () => {
    const store = await createTestStore();
    const reads = embeddedOf(store);
    const advances = async (what: string, work: () => Promise<unknown>, expected = true) => {
      const before = reads.writeCount();
      await work();
      assert.equal(reads.writeCount() > before, expected, what);
    };
    await advances('a statement', () => writeSetting(store.db, 'k', 1));
    await advances('a transaction', () => store.db.transaction((tx) => writeSetting(tx, 'k', 2)));
    await advances('an ordinary read (not marked read-only: counted)', () => readSetting(store.db, 'k'));
    await advances('exec', () => store.db.execute(sql`update settings set value = '3' where key = 'k'`));
    await advances('a notification (with the change version)', () => store.notify('test_channel', 'x'));
    await advances('a listen', () => store.listen('test_channel', () => undefined));
    await advances('a read-only statement', () => readOnlySetting(reads, 'k'), false);
    assert.equal(await readOnlySetting(reads, 'k'), 3);
  });

  it('takes a list parameter (`= any($1)`), each element as given', { skip: !embedded }, async () => {
    const store = await createTestStore();
    const reads = embeddedOf(store);
    const keys = ['plain', 'with "quotes"', 'with \\ backslash', 'with,comma {braces}'];
    for (const [index, key] of keys.entries()) await writeSetting(store.db, key, index);
    await writeSetting(store.db, 'not asked', 99);
    const rows = await reads.db
      .select({ key: schema.settings.key })
      .from(schema.settings)
      .where(sql`${schema.settings.key} = any(${sql.placeholder('keys')})`)
      .prepare('settings_by_keys')
      .execute({ keys: [...keys, null] });
    assert.deepEqual(rows.map((row) => row.key).sort(), [...keys].sort());
  });

  it('refuses anything but a SELECT through the read-only statements', { skip: !embedded }, async () => {
    const store = await createTestStore();
    const reads = embeddedOf(store);
    await writeSetting(store.db, 'k', 'before');
    // Drizzle wraps the refusal ("Failed query: …"), with it as the cause.
    const refused = (error: unknown) =>
      /not a read-only statement/.test(String((error as Error).cause ?? error));
    await assert.rejects(
      reads.db.update(schema.settings).set({ value: 'after' }).where(eq(schema.settings.key, 'k')),
      refused,
    );
    await assert.rejects(reads.db.execute(sql`delete from settings`), refused);
    assert.equal(await readSetting(store.db, 'k'), 'before');
  });

  it(
    'is shared by every store opened over the same handle (instances on one store)',
    { skip: !embedded },
    async () => {
      const client = new PGlite();
      const first = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
      const second = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
      try {
        await first.migrate();
        const before = embeddedOf(first).writeCount();
        await writeSetting(second.db, 'k', 1);
        assert.ok(embeddedOf(first).writeCount() > before);
        assert.equal(first.embedded, second.embedded);
      } finally {
        await first.close();
      }
    },
  );

  it(
    'answers a read again without a statement until the next write, then reads again',
    { skip: !embedded },
    async () => {
      const store = await createTestStore();
      const reads = embeddedOf(store);
      await writeSetting(store.db, 'a', 'one');
      const read = readsUntilNextWrite(reads, ([key]) => readOnlySetting(reads, key ?? ''));
      assert.equal(await read(['a']), 'one');
      const again = await recordStatements(async () => read(['a']));
      assert.equal(again.result, 'one');
      assert.deepEqual(again.statements, [], 'nothing written since: no statement');
      // Once arrived, the answer itself: no promise to wait for.
      assert.equal(read(['a']), 'one');
      // Another key is its own read.
      assert.equal((await recordStatements(async () => read(['b']))).statements.length, 1);
      await writeSetting(store.db, 'a', 'two');
      const after = await recordStatements(async () => read(['a']));
      assert.equal(after.result, 'two');
      assert.equal(after.statements.length, 1, 'written since: read again');
      // Requests in flight together with nothing written between them share one read.
      await writeSetting(store.db, 'a', 'three');
      const together = await recordStatements(() => Promise.all([read(['a']), read(['a'])]));
      assert.deepEqual(together.result, ['three', 'three']);
      assert.equal(together.statements.length, 1);
    },
  );

  it('never keeps an answer read while a write was under way', { skip: !embedded }, async () => {
    const store = await createTestStore();
    const reads = embeddedOf(store);
    await writeSetting(store.db, 'a', 'old');
    const read = readsUntilNextWrite(reads, ([key]) => readOnlySetting(reads, key ?? ''));
    // The read is asked for while a transaction holds the database: it waits for it, and sees its write.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writing = store.db.transaction(async (tx) => {
      await writeSetting(tx, 'a', 'new');
      await held;
    });
    await new Promise((resolve) => setImmediate(resolve));
    const reading = read(['a']);
    release();
    await writing;
    assert.equal(await reading, 'new');
    // Asked before the COMMIT was sent: not answered again after it.
    assert.equal((await recordStatements(async () => read(['a']))).statements.length, 1);
  });
});
