import { PGlite, type Transaction as PgliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';
import { EmbeddedPrepared, EmbeddedReader, isListenerConnection } from '../../src/store/index.ts';

/** One statement as the store receives it, and whether it went as a prepared (named) statement. */
export interface SentStatement {
  text: string;
  prepared: boolean;
}

/**
 * Every SQL statement the process sends to either store while `work` runs, in order, as the server
 * receives it: every `pg` client's (BEGIN, COMMIT, SAVEPOINT included; prepared when given a `name`: parsed
 * and planned once per connection; not the store's listener connection's), the PGlite client's queries (inside its transactions too), the embedded
 * database's read-only statements (`EmbeddedReader`) and its named prepared ones (`EmbeddedPrepared`, the
 * only prepared ones there). PGlite's own BEGIN/COMMIT around `transaction()` are recorded as such.
 * Counting is process-wide: run nothing else against a store meanwhile.
 */
export async function recordSent<T>(work: () => Promise<T>): Promise<{ result: T; sent: SentStatement[] }> {
  const sent: SentStatement[] = [];

  type PgQuery = (...args: unknown[]) => unknown;
  const pgPrototype = pg.Client.prototype as unknown as { query: PgQuery };
  const pgQuery = pgPrototype.query;
  pgPrototype.query = function (this: unknown, ...args: unknown[]) {
    // The store's listener connection works in the background (LISTEN, cache lease renewals and
    // acknowledgements), on its own timers: not a request's statements.
    if (isListenerConnection(this)) return pgQuery.apply(this, args);
    const [config] = args;
    if (typeof config === 'string') sent.push({ text: config, prepared: false });
    else {
      const { text, name } = config as { text?: unknown; name?: unknown };
      sent.push({ text: String(text ?? config), prepared: !!name });
    }
    return pgQuery.apply(this, args);
  };

  type PgliteQuery = (query: string, ...rest: unknown[]) => Promise<unknown>;
  const record = (run: PgliteQuery, prepared: boolean): PgliteQuery =>
    function (this: unknown, text, ...rest) {
      sent.push({ text, prepared });
      return run.call(this, text, ...rest);
    };
  const pglitePrototype = PGlite.prototype as unknown as {
    query: PgliteQuery;
    exec: PgliteQuery;
    transaction: (callback: (tx: PgliteTransaction) => Promise<unknown>) => Promise<unknown>;
  };
  const { query, exec, transaction } = pglitePrototype;
  const readerPrototype = EmbeddedReader.prototype as unknown as { query: PgliteQuery };
  const readerQuery = readerPrototype.query;
  const preparedPrototype = EmbeddedPrepared.prototype as unknown as { named: PgliteQuery };
  const preparedNamed = preparedPrototype.named;
  readerPrototype.query = record(readerQuery, false);
  preparedPrototype.named = record(preparedNamed, true);
  pglitePrototype.query = record(query, false);
  pglitePrototype.exec = record(exec, false);
  pglitePrototype.transaction = function (this: unknown, callback) {
    sent.push({ text: 'BEGIN', prepared: false });
    return transaction
      .call(this, (tx) => {
        const recorded = tx as unknown as { query: PgliteQuery; exec: PgliteQuery };
        recorded.query = record(recorded.query.bind(tx), false);
        recorded.exec = record(recorded.exec.bind(tx), false);
        return callback(tx);
      })
      .finally(() => sent.push({ text: 'COMMIT or ROLLBACK', prepared: false }));
  };
  try {
    return { result: await work(), sent };
  } finally {
    pgPrototype.query = pgQuery;
    Object.assign(pglitePrototype, { query, exec, transaction });
    readerPrototype.query = readerQuery;
    preparedPrototype.named = preparedNamed;
  }
}

/** The texts of the statements `work` sends (`recordSent`). */
export async function recordStatements<T>(
  work: () => Promise<T>,
): Promise<{ result: T; statements: string[] }> {
  const { result, sent } = await recordSent(work);
  return { result, statements: sent.map(({ text }) => text) };
}
