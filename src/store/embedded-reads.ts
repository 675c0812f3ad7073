import type { PGlite, QueryOptions, Results } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { WriteCount } from '../shared/reads-until-next-write.ts';
import { installDrizzleParsers } from './embedded-parsers.ts';
import { NamedStatements } from './embedded-named-statements.ts';

/** `Database` of database.ts (which opens the store with these: not imported from there, to stay acyclic). */
type Database = PgDatabase<PgQueryResultHKT>;

/**
 * What the embedded database allows that a server does not: one process owns the data directory (the data
 * dir's lock file keeps any other out), so every statement that can change anything is sent through this
 * process's one PGlite handle — and, inside it, through one method, `execProtocolRawSync`, that hands a
 * protocol message to PostgreSQL. Counting every message sent there that is not a known read (a statement,
 * a BEGIN or COMMIT, a COPY, a LISTEN, PGlite's own: anything not positively marked read-only counts) gives
 * a number that stays the same exactly as long as nothing can have changed. A read made while it was N can
 * be answered again, without a statement, while it still is N.
 *
 * The reads marked read-only are those sent through `db` here: single SELECT statements, each sent to
 * PostgreSQL in one protocol message (Bind, Describe, Execute, Sync of a statement prepared once per text,
 * under a name), rather than the six messages and a new parse and plan of PGlite's `query`.
 */
export interface EmbeddedReads extends WriteCount {
  /**
   * Drizzle over read-only statements: a SELECT, with string, number, boolean or null parameters or lists
   * of them (`= any($1)`), and no function that writes (nextval, pg_notify, set_config…): whoever reads
   * through it vouches for that. A statement that does not begin with `select`, or a parameter of another
   * type, is refused.
   */
  readonly db: Database;
}

const byClient = new WeakMap<PGlite, EmbeddedReads>();

/** Statements kept prepared per handle (one per text: a list of N ids is its own text). */
const MAX_PREPARED = 256;

/**
 * The read-only statements' counterpart of PGlite's `query`, on a class of its own so that whoever counts
 * statements (test/support/statements.ts, bench/support/statements.ts) can count these too.
 */
export class EmbeddedReader {
  readonly #statements: NamedStatements;

  constructor(client: PGlite, readOnly: WeakSet<Uint8Array>) {
    this.#statements = new NamedStatements(client, {
      prefix: 'obkit_read_',
      maxNamed: MAX_PREPARED,
      // Nothing to write to disk after a read; each message marked read-only, not counted as a write.
      syncToFs: false,
      beforeSend: (message) => readOnly.add(message),
    });
  }

  /** Runs one read-only statement (same signature as PGlite's `query`, which drizzle calls). */
  async query<T>(text: string, params: readonly unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    if (!/^\s*select\s/i.test(text)) throw new Error(`not a read-only statement: ${text.slice(0, 60)}`);
    return this.#statements.run<T>(text, params.map(textValue), options);
  }
}

function textValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // `= any($1)` takes a list: sent as an array literal, as pg sends one, each element quoted.
  if (Array.isArray(value)) return `{${value.map(arrayElement).join(',')}}`;
  throw new Error(
    `a read-only statement takes only text, number, boolean or list parameters, not ${typeof value}`,
  );
}

function arrayElement(value: unknown): string {
  const text = textValue(value);
  return text === null ? 'NULL' : `"${text.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

/**
 * The embedded reads of `client`: one per handle, however many stores are opened over it (every instance
 * started on the same store shares its count, and so sees every other's writes).
 */
export function embeddedReadsOf(client: PGlite): EmbeddedReads {
  const known = byClient.get(client);
  if (known) return known;
  installDrizzleParsers(client);
  const readOnly = new WeakSet<Uint8Array>();
  let writes = 0;
  const send = client.execProtocolRawSync.bind(client);
  // PGlite sends every message of every statement, transaction, exec and listen through this method.
  client.execProtocolRawSync = (message: Uint8Array) => {
    if (!readOnly.has(message)) writes += 1;
    return send(message);
  };
  const reader = new EmbeddedReader(client, readOnly);
  const reads: EmbeddedReads = {
    writeCount: () => writes,
    db: drizzle({ client: reader as unknown as PGlite }) as unknown as Database,
  };
  byClient.set(client, reads);
  return reads;
}
