import type { ParserOptions, PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import { NoopLogger } from 'drizzle-orm/logger';
import { PglitePreparedQuery } from 'drizzle-orm/pglite/session';

/**
 * The type parsers drizzle's PGlite session passes with every statement: dates, timestamps (with and
 * without time zone), intervals, and the arrays of those and of numerics, all kept as the text PostgreSQL
 * sent, for drizzle's own column mapping. Read from drizzle itself (a prepared query's options), so they are
 * exactly the ones it would pass.
 */
function drizzleParsers(): ParserOptions {
  const probe = new PglitePreparedQuery(
    undefined as unknown as PGlite,
    'select 1',
    [],
    new NoopLogger(),
    undefined as never,
    undefined,
    undefined,
    undefined,
    undefined,
    false,
  );
  const { queryConfig, rawQueryConfig } = probe as unknown as Record<
    'queryConfig' | 'rawQueryConfig',
    QueryOptions
  >;
  const parsers = queryConfig.parsers ?? {};
  const raw = Object.keys(rawQueryConfig.parsers ?? {});
  if (raw.length !== Object.keys(parsers).length || raw.some((type) => !(type in parsers))) {
    throw new Error('drizzle-orm/pglite: its two query configurations parse different types');
  }
  return parsers;
}

export const DRIZZLE_PARSERS: Readonly<ParserOptions> = drizzleParsers();

/**
 * Puts drizzle's parsers into the handle's own table, once: what every statement drizzle sends would
 * otherwise pay for itself. PGlite merges a statement's `parsers` into a new copy of the handle's whole table
 * (`{ ...this.parsers, ...options.parsers }`: 318 entries, the array types found at start included) on every
 * statement, ~0.16 ms each; with the handle's table already holding them, drizzle's statements are sent
 * without (`forDrizzle`), and parse exactly as before. A statement sent on the handle directly (not through
 * drizzle) now gets drizzle's text for those types too (`ping`, `notify` and `changeVersion` read none).
 */
export function installDrizzleParsers(client: PGlite): void {
  Object.assign(client.parsers, DRIZZLE_PARSERS);
}

const ARRAY_ROWS: QueryOptions = Object.freeze({ rowMode: 'array' });
const OBJECT_ROWS: QueryOptions = Object.freeze({ rowMode: 'object' });

/**
 * A statement's options without drizzle's parsers, which the handle's table holds already
 * (`installDrizzleParsers`). Only ever given options from drizzle's PGlite session.
 */
export function withoutDrizzleParsers(options: QueryOptions | undefined): QueryOptions | undefined {
  if (options?.parsers === undefined) return options;
  const { parsers: _installed, ...rest } = options;
  const keys = Object.keys(rest);
  if (keys.length === 1 && keys[0] === 'rowMode') return rest.rowMode === 'array' ? ARRAY_ROWS : OBJECT_ROWS;
  return rest;
}

interface QueryClient {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
}

/**
 * The handle as drizzle is given it: every statement (inside transactions too) sent without drizzle's
 * parsers, which `installDrizzleParsers` has put into the handle's own table.
 */
export function forDrizzle(client: PGlite): PGlite {
  installDrizzleParsers(client);
  const handle: QueryClient & Pick<PGlite, 'transaction'> = {
    query: <T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> =>
      client.query<T>(text, params, withoutDrizzleParsers(options)),
    transaction: <T>(callback: (tx: Transaction) => Promise<T>): Promise<T> =>
      client.transaction((tx) => callback(transactionForDrizzle(client, tx))),
  };
  wrapped.set(handle, client);
  return handle as unknown as PGlite;
}

const wrapped = new WeakMap<object, PGlite>();

/**
 * The PGlite handle behind a drizzle database's `$client` (`forDrizzle` wraps it): what opens a second
 * store on the same embedded database, as another instance would be (tests).
 */
export function embeddedHandleOf(drizzleClient: object): PGlite | undefined {
  return wrapped.get(drizzleClient);
}

/** Each transaction as drizzle is given it (`transactionForDrizzle`): its handle and PGlite's transaction. */
const transactions = new WeakMap<object, { client: PGlite; tx: Transaction }>();

/**
 * The PGlite handle and transaction behind a drizzle transaction's client (`forDrizzle`'s `transaction`
 * wraps it), so that prepared statements run in it as the handle's named statements (prepared.ts).
 */
export function embeddedTransactionOf(
  drizzleClient: object,
): { client: PGlite; tx: Transaction } | undefined {
  return transactions.get(drizzleClient);
}

function transactionForDrizzle(client: PGlite, tx: Transaction): Transaction {
  // The transaction's other members (rollback, closed…) as they are, through the prototype.
  const query: QueryClient['query'] = (text, params, options) =>
    tx.query(text, params, withoutDrizzleParsers(options));
  const forDrizzle = Object.assign(Object.create(tx) as Transaction, { query });
  transactions.set(forDrizzle, { client, tx });
  return forDrizzle;
}
