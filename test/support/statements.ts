import { PGlite, type Transaction as PgliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';
import { EmbeddedPrepared, EmbeddedReader } from '../../src/store/index.ts';

/**
 * Every SQL statement the process sends to either store while `work` runs, in order, as the server
 * receives it: the PGlite client's queries (inside its transactions too), and every `pg` client's (BEGIN,
 * COMMIT, SAVEPOINT included), and the embedded database's read-only statements (`EmbeddedReader`) and named
 * prepared ones (`EmbeddedPrepared`). PGlite's
 * own BEGIN/COMMIT around `transaction()` are recorded as such.
 * Counting is process-wide: run nothing else against a store meanwhile.
 */
export async function recordStatements<T>(
  work: () => Promise<T>,
): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const textOf = (query: unknown): string =>
    typeof query === 'string' ? query : String((query as { text?: unknown }).text ?? query);

  type PgQuery = (...args: unknown[]) => unknown;
  const pgPrototype = pg.Client.prototype as unknown as { query: PgQuery };
  const pgQuery = pgPrototype.query;
  pgPrototype.query = function (this: unknown, ...args: unknown[]) {
    statements.push(textOf(args[0]));
    return pgQuery.apply(this, args);
  };

  type PgliteQuery = (query: string, ...rest: unknown[]) => Promise<unknown>;
  const count = (run: PgliteQuery): PgliteQuery =>
    function (this: unknown, query, ...rest) {
      statements.push(query);
      return run.call(this, query, ...rest);
    };
  const pglitePrototype = PGlite.prototype as unknown as {
    query: PgliteQuery;
    exec: PgliteQuery;
    transaction: (callback: (tx: PgliteTransaction) => Promise<unknown>) => Promise<unknown>;
  };
  const { query, exec, transaction } = pglitePrototype;
  const readerPrototype = EmbeddedReader.prototype as unknown as { query: PgliteQuery };
  const readerQuery = readerPrototype.query;
  readerPrototype.query = count(readerQuery);
  const preparedPrototype = EmbeddedPrepared.prototype as unknown as { named: PgliteQuery };
  const preparedNamed = preparedPrototype.named;
  preparedPrototype.named = count(preparedNamed);
  pglitePrototype.query = count(query);
  pglitePrototype.exec = count(exec);
  pglitePrototype.transaction = function (this: unknown, callback) {
    statements.push('BEGIN');
    return transaction
      .call(this, (tx) => {
        const counted = tx as unknown as { query: PgliteQuery; exec: PgliteQuery };
        counted.query = count(counted.query.bind(tx));
        counted.exec = count(counted.exec.bind(tx));
        return callback(tx);
      })
      .finally(() => statements.push('COMMIT or ROLLBACK'));
  };
  try {
    return { result: await work(), statements };
  } finally {
    pgPrototype.query = pgQuery;
    Object.assign(pglitePrototype, { query, exec, transaction });
    readerPrototype.query = readerQuery;
    preparedPrototype.named = preparedNamed;
  }
}

/**
 * Which of the statements `work` sends go as prepared (named) statements, on either store: `pg` queries
 * given a `name` (parsed and planned once per connection), and the embedded database's named statements
 * (`EmbeddedPrepared`). Each with its text; `prepared` false for the rest (built and parsed per call).
 */
export async function recordPreparedness<T>(
  work: () => Promise<T>,
): Promise<{ result: T; sent: { text: string; prepared: boolean }[] }> {
  const sent: { text: string; prepared: boolean }[] = [];
  type PgQuery = (...args: unknown[]) => unknown;
  const pgPrototype = pg.Client.prototype as unknown as { query: PgQuery };
  const pgQuery = pgPrototype.query;
  pgPrototype.query = function (this: unknown, ...args: unknown[]) {
    const [config] = args;
    const named = typeof config === 'object' && config !== null && !!(config as { name?: unknown }).name;
    const text = typeof config === 'string' ? config : String((config as { text?: unknown }).text);
    sent.push({ text, prepared: named });
    return pgQuery.apply(this, args);
  };
  type Run = (query: string, ...rest: unknown[]) => Promise<unknown>;
  const pglitePrototype = PGlite.prototype as unknown as { query: Run; exec: Run };
  const { query, exec } = pglitePrototype;
  const preparedPrototype = EmbeddedPrepared.prototype as unknown as { named: Run };
  const preparedNamed = preparedPrototype.named;
  const as = (run: Run, prepared: boolean): Run =>
    function (this: unknown, text, ...rest) {
      sent.push({ text, prepared });
      return run.call(this, text, ...rest);
    };
  pglitePrototype.query = as(query, false);
  pglitePrototype.exec = as(exec, false);
  preparedPrototype.named = as(preparedNamed, true);
  try {
    return { result: await work(), sent };
  } finally {
    pgPrototype.query = pgQuery;
    Object.assign(pglitePrototype, { query, exec });
    preparedPrototype.named = preparedNamed;
  }
}
