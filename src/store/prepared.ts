import { PgDialect } from 'drizzle-orm/pg-core';
import type { SQL } from 'drizzle-orm';
import type { Queryable } from './database.ts';
import { embeddedHandleOf, embeddedTransactionOf } from './embedded-parsers.ts';
import { embeddedPreparedOf } from './embedded-prepared.ts';

/** What drizzle's `.prepare(name)` gives, on either driver: run with the placeholders' values. */
export interface PreparedStatement<T> {
  execute(placeholders?: Record<string, unknown>): Promise<T>;
}

/** A drizzle session's driver handle: the pool or pooled client (`pg`), the PGlite handle or transaction. */
type DriverSession = { client?: unknown };

/**
 * A statement of fixed shape built once per process and driver (drizzle `.prepare(name)`: no query building
 * per call), run on whichever handle it is given — the database, or the caller's transaction (its
 * connection: the statement is part of that transaction, never run on another pooled connection). On
 * PostgreSQL it is a named statement, parsed and planned once per connection (`pg` sends Bind/Execute only
 * after the first time); on PGlite a named statement of the handle too, in a transaction or not, each run one
 * protocol message (`embeddedPreparedOf`).
 *
 * Drizzle binds a prepared statement to the handle it was prepared on (its session's `client`); this runs
 * a copy bound to the given handle's client (drizzle-orm 0.45: `NodePgPreparedQuery`, `PglitePreparedQuery`
 * keep it in `client`; test/store/prepared.test.ts proves it runs in the transaction on both stores).
 * `build` must give the same text for every handle: values go in placeholders (`sql.placeholder`).
 */
export function preparedStatement<T>(
  build: (db: Queryable) => PreparedStatement<T>,
): (db: Queryable) => PreparedStatement<T> {
  // One per driver: the session classes differ (node-postgres, PGlite), every handle of one shares it.
  const byDriver = new WeakMap<object, PreparedStatement<T>>();
  // The copy bound to each handle's client, made once per client (the pool, a transaction's connection):
  // copying the statement's fields on every run cost each run of every prepared statement.
  const byClient = new WeakMap<object, PreparedStatement<T>>();
  return (db) => {
    const session = db._.session as unknown as DriverSession;
    const client = session.client;
    const kept = typeof client === 'object' && client !== null ? byClient.get(client) : undefined;
    if (kept) return kept;
    const driver = Object.getPrototypeOf(session) as object;
    let built = byDriver.get(driver);
    if (!built) {
      built = build(db);
      if (!('client' in built))
        throw new Error('drizzle prepared statement without a client: see prepared.ts');
      byDriver.set(driver, built);
    }
    const bound = Object.create(Object.getPrototypeOf(built) as object) as PreparedStatement<T>;
    Object.assign(bound, built, { client: clientOf(session) });
    if (typeof client === 'object' && client !== null) byClient.set(client, bound);
    return bound;
  };
}

/**
 * The client a prepared statement runs on: the handle's own, except on the embedded database (the handle
 * `forDrizzle` wraps, or a transaction of it), whose named statements it uses.
 */
function clientOf(session: DriverSession): unknown {
  if (typeof session.client !== 'object' || session.client === null) return session.client;
  const embedded = embeddedHandleOf(session.client);
  if (embedded) return embeddedPreparedOf(embedded);
  const transaction = embeddedTransactionOf(session.client);
  return transaction ? embeddedPreparedOf(transaction.client).inTransaction(transaction.tx) : session.client;
}

const dialect = new PgDialect();

/**
 * `preparedStatement` of a statement drizzle's builders cannot write (a CTE that inserts, `on conflict … do
 * update … where`): `statement`'s values are placeholders. It answers the driver's result (`rows`).
 * `statement` may be built from the handle (a drizzle builder's `getSQL()` inside it), once per driver.
 */
export function preparedSql<Row>(
  name: string,
  statement: SQL | ((db: Queryable) => SQL),
): (db: Queryable) => PreparedStatement<{ rows: Row[] }> {
  return preparedStatement((db) =>
    db._.session.prepareQuery<{ execute: { rows: Row[] }; all: unknown; values: unknown }>(
      dialect.sqlToQuery(typeof statement === 'function' ? statement(db) : statement),
      undefined,
      name,
      false,
    ),
  );
}

/**
 * `preparedSql` whose rows come as arrays of the driver's values, in the statement's column order, given to
 * `mapRows` as they are: nothing mapped per column by drizzle (`mapResultRow`, a decoder call and an
 * `is()` per selected column of every row), for a hot statement whose caller reads only some of its columns
 * (src/bank/ais-queries.ts). `statement` as `preparedSql`'s; its columns in the order the mapper reads them.
 */
export function preparedRows<T>(
  name: string,
  statement: SQL | ((db: Queryable) => SQL),
  mapRows: (rows: unknown[][]) => T,
): (db: Queryable) => PreparedStatement<T> {
  return preparedStatement((db) =>
    db._.session.prepareQuery<{ execute: T; all: unknown; values: unknown }>(
      dialect.sqlToQuery(typeof statement === 'function' ? statement(db) : statement),
      undefined,
      name,
      true,
      (rows) => mapRows(rows as unknown[][]),
    ),
  );
}
