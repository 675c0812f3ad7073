import type { PGlite, QueryOptions, Results, Transaction } from '@electric-sql/pglite';
import { NamedStatements } from './embedded-named-statements.ts';

/** What drizzle's PGlite session calls on its client. */
export interface EmbeddedQueryClient {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
}

/**
 * Fixed-shape statements (`preparedStatement`, src/store/prepared.ts) on the embedded database: named
 * statements of the handle (`NamedStatements`), each run one protocol message — outside a transaction
 * written to disk after it as PGlite's `query` writes it; inside one (`inTransaction`), as the transaction's
 * `query` runs it, written at its COMMIT. For the token endpoint's one statement (its assertion's `jti` and its
 * token, src/auth/assertion-replays.ts) ~1.0 ms of the main thread through PGlite's `query` against ~0.35 ms
 * named (bench/README.md, Tokens, session 13); a transaction's statements each ~0.14 ms less (session 16).
 *
 * These are writes as much as reads: every message is counted as one by `embeddedReadsOf`'s write count,
 * as PGlite's `query`'s are. Values are sent as PGlite's `query` sends them: text and null as they are (its
 * serializers pass a string through for every type), anything else (a number, a bigint, a Date, a list)
 * through the serializer of its parameter's type, the types asked for once per statement
 * (`NamedStatements`).
 */
export class EmbeddedPrepared implements EmbeddedQueryClient {
  readonly #client: PGlite;
  readonly #statements: NamedStatements;
  /** The open transaction these statements run in (`inTransaction`), or undefined: the handle itself. */
  readonly #transaction: Transaction | undefined;

  constructor(client: PGlite, statements?: NamedStatements, transaction?: Transaction) {
    this.#client = client;
    // A fixed set of texts (one per `preparedStatement`), so no cap; each run written to disk after it.
    this.#statements =
      statements ??
      new NamedStatements(client, {
        prefix: 'obkit_prepared_',
        maxNamed: Infinity,
        syncToFs: true,
      });
    this.#transaction = transaction;
  }

  /**
   * The same named statements run inside `transaction`, an open transaction of this handle: each run one
   * protocol message as outside, where PGlite's transaction `query` sends six and parses and plans the text
   * every time (bench/README.md, Tokens, session 16). Values other than text are serialised by their
   * parameters' types, as outside.
   */
  inTransaction(transaction: Transaction): EmbeddedPrepared {
    return new EmbeddedPrepared(this.#client, this.#statements, transaction);
  }

  query<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    return this.named<T>(text, params, options);
  }

  /**
   * Runs `text` as the handle's named statement (prepared by its first run). Its own method so that
   * whoever counts statements (test/support/statements.ts, bench/support/statements.ts) can count it.
   */
  async named<T>(text: string, values: readonly unknown[], options?: QueryOptions): Promise<Results<T>> {
    if (this.#transaction)
      return this.#statements.runInTransaction<T>(this.#transaction, text, values, options);
    return this.#statements.run<T>(text, values, options);
  }
}

const byClient = new WeakMap<PGlite, EmbeddedPrepared>();

/** The named statements of `client`: one set per handle (named statements live in its one session). */
export function embeddedPreparedOf(client: PGlite): EmbeddedPrepared {
  let prepared = byClient.get(client);
  if (!prepared) {
    prepared = new EmbeddedPrepared(client);
    byClient.set(client, prepared);
  }
  return prepared;
}
