import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { PGlite } from '@electric-sql/pglite';
import { embeddedHandleOf, preparedSql, type EmbeddedReads, type Store } from '../../src/store/index.ts';
import { createTestStore } from '../support/store.ts';

/**
 * The embedded database's named statements (src/store/embedded-named-statements.ts), as the read-only
 * statements (`store.embedded.db`) and the prepared ones outside a transaction (`preparedSql`) use them: one
 * protocol message a run, and one name a text however often it fails, or is dropped under it.
 */
describe('embedded named statements', { skip: Boolean(process.env.DATABASE_URL) }, () => {
  const opened = async (): Promise<{ store: Store; reads: EmbeddedReads; client: PGlite }> => {
    const store = await createTestStore();
    const client = embeddedHandleOf((store.db as unknown as { $client: object }).$client);
    assert.ok(client && store.embedded, 'the embedded database');
    return { store, reads: store.embedded, client };
  };

  /** `work`'s outcome and the protocol messages handed to PostgreSQL meanwhile (reads and writes alike). */
  const messagesOf = async (client: PGlite, work: () => Promise<unknown>) => {
    const send = client.execProtocolRawSync;
    let messages = 0;
    client.execProtocolRawSync = (message: Uint8Array) => {
      messages += 1;
      return send.call(client, message);
    };
    try {
      return {
        outcome: await work().then(
          () => 'ok',
          (error: unknown) => codeOf(error),
        ),
        messages,
      };
    } finally {
      client.execProtocolRawSync = send;
    }
  };

  /** The database's error code, under drizzle's wrapping ("Failed query: …", with it as the cause). */
  const codeOf = (error: unknown): string => {
    const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
    return String(cause?.code ?? code ?? error);
  };

  /** The rows of a drizzle `execute` (typed by the driver: unknown here). */
  const rowsOf = (result: unknown): unknown[] => (result as { rows: unknown[] }).rows;

  /** The names prepared on the handle for statements containing `marker`. */
  const preparedNames = async (client: PGlite, marker: string): Promise<string[]> =>
    (
      await client.query<{ name: string }>(
        'select name from pg_prepared_statements where statement like $1 order by name',
        [`%${marker}%`],
      )
    ).rows.map((row) => row.name);

  it('a read-only statement that fails again and again keeps one name, one message a run', async () => {
    const { reads, client } = await opened();
    const read = (value: string) => reads.db.execute(sql`select ${value}::int + 1 as read_again`);
    const runs: { outcome: string; messages: number }[] = [];
    // A bad parameter fails in Bind, after the Parse: the first run prepares the statement all the same.
    for (let i = 0; i < 4; i++) runs.push(await messagesOf(client, () => read('not a number')));
    runs.push(await messagesOf(client, () => read('41')));
    for (let i = 0; i < 3; i++) runs.push(await messagesOf(client, () => read('still not')));
    assert.deepEqual(
      runs.map((run) => run.outcome),
      ['22P02', '22P02', '22P02', '22P02', 'ok', '22P02', '22P02', '22P02'],
    );
    assert.deepEqual(
      runs.map((run) => run.messages),
      [1, 1, 1, 1, 1, 1, 1, 1],
      'protocol messages a run',
    );
    assert.equal((await preparedNames(client, 'read_again')).length, 1, 'one prepared statement');
    assert.deepEqual(rowsOf(await read('1')), [{ read_again: 2 }]);
  });

  it('a prepared statement that fails from its first run on keeps one name, one message a run', async () => {
    const { store, client } = await opened();
    const written = preparedSql<{ n: number }>(
      'test_named_fails',
      sql`select ${sql.placeholder('value')}::int + 1 as write_again`,
    );
    const runs: { outcome: string; messages: number }[] = [];
    for (let i = 0; i < 3; i++)
      runs.push(await messagesOf(client, () => written(store.db).execute({ value: 'bad' })));
    runs.push(await messagesOf(client, () => written(store.db).execute({ value: '1' })));
    runs.push(await messagesOf(client, () => written(store.db).execute({ value: 'bad' })));
    assert.deepEqual(
      runs.map((run) => run.outcome),
      ['22P02', '22P02', '22P02', 'ok', '22P02'],
    );
    assert.deepEqual(
      runs.map((run) => run.messages),
      [1, 1, 1, 1, 1],
      'protocol messages a run',
    );
    assert.equal((await preparedNames(client, 'write_again')).length, 1, 'one prepared statement');
  });

  /** The frontend messages' type bytes `work` hands to PostgreSQL, one string per protocol message. */
  const messageTypesOf = async (client: PGlite, work: () => Promise<unknown>): Promise<string[]> => {
    const send = client.execProtocolRawSync;
    const sent: string[] = [];
    client.execProtocolRawSync = (message: Uint8Array) => {
      let types = '';
      const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
      for (let at = 0; at < message.length; at += 1 + view.getInt32(at + 1))
        types += String.fromCharCode(message[at]!);
      sent.push(types);
      return send.call(client, message);
    };
    try {
      await work();
      return sent;
    } finally {
      client.execProtocolRawSync = send;
    }
  };

  it('describes a statement once: later runs parse their rows with the columns of its first run', async () => {
    const { store, reads, client } = await opened();
    const read = () =>
      reads.db.execute(
        sql`select ${'a'}::text as described_text, 2::int8 as described_big, now() as described_at`,
      );
    const written = preparedSql<{ described_write: string; described_n: number }>(
      'test_named_described',
      sql`select ${sql.placeholder('value')}::text as described_write, 7::int4 as described_n`,
    );
    const write = () => written(store.db).execute({ value: 'b' });
    const none = preparedSql(
      'test_named_no_rows',
      sql`select 1 where ${sql.placeholder('value')}::text = 'x'`,
    );
    const runs = [];
    const answers: unknown[] = [];
    for (let i = 0; i < 3; i++)
      runs.push([
        await messageTypesOf(client, async () => answers.push(rowsOf(await read()))),
        await messageTypesOf(client, async () => answers.push(rowsOf(await write()))),
        await messageTypesOf(client, async () =>
          answers.push(rowsOf(await none(store.db).execute({ value: i === 2 ? 'x' : 'y' }))),
        ),
      ]);
    // Parse and Describe (D) the first time; then Bind, Execute, Sync alone.
    assert.deepEqual(runs, [
      [['PBDES'], ['PBDES'], ['PBDES']],
      [['BES'], ['BES'], ['BES']],
      [['BES'], ['BES'], ['BES']],
    ]);
    // The same rows, named and parsed by their types, as the described first run's.
    const [first, firstWrite, , again, againWrite, , last, lastWrite, noneLast] = answers as {
      described_at: unknown;
    }[][];
    assert.deepEqual(
      [again, last].map((rows) => rows?.map((row) => ({ ...row, described_at: null }))),
      [first, first].map((rows) => rows?.map((row) => ({ ...row, described_at: null }))),
    );
    // The timestamp as the handle's parser for its type gives it (drizzle's: the text, mapped by drizzle).
    assert.deepEqual(
      [again, last].map((rows) => typeof rows?.[0]?.described_at),
      [typeof first?.[0]?.described_at, typeof first?.[0]?.described_at],
    );
    assert.deepEqual(
      [firstWrite, againWrite, lastWrite],
      Array(3).fill([{ described_write: 'b', described_n: 7 }]),
    );
    assert.deepEqual(answers[2], []);
    assert.deepEqual(noneLast, [{ '?column?': 1 }]);
  });

  it('runs a statement dropped under it (DEALLOCATE ALL) again, parsed again under its name', async () => {
    const { store, reads, client } = await opened();
    const read = () => reads.db.execute(sql`select ${'a'}::text as dropped_read`);
    const written = preparedSql<{ dropped_write: string }>(
      'test_named_dropped',
      sql`select ${sql.placeholder('value')}::text as dropped_write`,
    );
    const write = () => written(store.db).execute({ value: 'b' });
    await read();
    await write();
    const [readName] = await preparedNames(client, 'dropped_read');
    const [writeName] = await preparedNames(client, 'dropped_write');
    await store.db.execute(sql`deallocate all`);
    assert.deepEqual(await preparedNames(client, 'dropped_'), []);
    // The run that finds it gone sends it again, parsed (two messages); the next runs one each.
    const again = [await messagesOf(client, read), await messagesOf(client, write)];
    assert.deepEqual(again, [
      { outcome: 'ok', messages: 2 },
      { outcome: 'ok', messages: 2 },
    ]);
    assert.deepEqual(
      [await messagesOf(client, read), await messagesOf(client, write)],
      [
        { outcome: 'ok', messages: 1 },
        { outcome: 'ok', messages: 1 },
      ],
    );
    assert.deepEqual(rowsOf(await read()), [{ dropped_read: 'a' }]);
    assert.deepEqual(rowsOf(await write()), [{ dropped_write: 'b' }]);
    assert.deepEqual(await preparedNames(client, 'dropped_read'), [readName]);
    assert.deepEqual(await preparedNames(client, 'dropped_write'), [writeName]);
  });

  it('runs a statement whose table changed its columns, parsed again under its name', async () => {
    const { store, reads, client } = await opened();
    await store.db.execute(sql`create table named_changes (a int)`);
    await store.db.execute(sql`insert into named_changes values (1)`);
    // `*`: the statement's columns are the table's, fixed when it was parsed.
    const read = () => reads.db.execute(sql`select * from named_changes where a::text <> ${'x'}`);
    const written = preparedSql<Record<string, unknown>>(
      'test_named_changes',
      sql`select * from named_changes where a::text <> ${sql.placeholder('value')}`,
    );
    const write = () => written(store.db).execute({ value: 'x' });
    assert.deepEqual(rowsOf(await read()), [{ a: 1 }]);
    assert.deepEqual(rowsOf(await write()), [{ a: 1 }]);
    await store.db.execute(sql`alter table named_changes add column b text default 'new'`);
    assert.deepEqual(rowsOf(await read()), [{ a: 1, b: 'new' }]);
    assert.deepEqual(rowsOf(await write()), [{ a: 1, b: 'new' }]);
    assert.equal((await preparedNames(client, 'named_changes')).length, 2, 'one name each');
  });
});
