import { parse, protocol, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { withoutDrizzleParsers } from './embedded-parsers.ts';
import { concatMessages } from './embedded-reads.ts';

/** What drizzle's PGlite session calls on its client. */
export interface EmbeddedQueryClient {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
}

/**
 * Fixed-shape statements (`preparedStatement`, src/store/prepared.ts) on the embedded database, outside a
 * transaction: each text is parsed and planned once per handle, under a name, and each run is one protocol
 * message (Bind, Describe, Execute, Sync) written to disk after it as PGlite's `query` writes it. PGlite's
 * `query` sends six messages for one statement (Parse, Describe, Bind, Describe, Execute, Sync: six calls
 * into the WebAssembly module) and parses and plans the text every time: for the token endpoint's one
 * statement (its assertion's `jti` and its token, src/auth/assertion-replays.ts) ~1.0 ms of the main
 * thread against ~0.35 ms named (bench/README.md, Tokens, session 13).
 *
 * These are writes as much as reads: every message is counted as one by `embeddedReadsOf`'s write count,
 * as PGlite's `query`'s are. Only string and null parameters are sent this way, which PGlite's `query`
 * would send unchanged too (its serializers pass a string through for every type); a statement with any
 * other value (a number, a Date, a list) goes through PGlite's `query`, whose serializers turn it into
 * text by the parameter's type.
 */
export class EmbeddedPrepared implements EmbeddedQueryClient {
  readonly #client: PGlite;
  /** Statement name by text; a fixed set of texts (one per `preparedStatement`), so no cap. */
  readonly #prepared = new Map<string, string>();
  #named = 0;

  constructor(client: PGlite) {
    this.#client = client;
  }

  query<T>(text: string, params: unknown[] = [], options?: QueryOptions): Promise<Results<T>> {
    if (params.every((value) => value === null || typeof value === 'string'))
      return this.named<T>(text, params as (string | null)[], options);
    return this.#client.query<T>(text, params, withoutDrizzleParsers(options));
  }

  /**
   * Runs `text` as the handle's named statement (prepared by its first run). Its own method so that
   * whoever counts statements (test/support/statements.ts, bench/support/statements.ts) can count it.
   */
  async named<T>(text: string, values: (string | null)[], options?: QueryOptions): Promise<Results<T>> {
    const client = this.#client;
    // As PGlite's own `query`: refused on a closed handle, and under both of its locks (never in the middle
    // of a transaction).
    await client._checkReady();
    return client._runExclusiveTransaction(() =>
      client._runExclusiveQuery(async () => {
        const known = this.#prepared.get(text);
        const name = known ?? `obkit_prepared_${(this.#named += 1)}`;
        const parts: Uint8Array[] = [];
        if (known === undefined) parts.push(protocol.serialize.parse({ name, text }));
        parts.push(
          protocol.serialize.bind({ statement: name, values }),
          protocol.serialize.describe({ type: 'P' }),
          protocol.serialize.execute({}),
          protocol.serialize.sync(),
        );
        // A failure leaves a known name prepared (an error does not deallocate); a new one is known only
        // once it ran, so a failed Parse is sent again, under the next name.
        const messages = await client.execProtocolStream(concatMessages(parts), { syncToFs: true });
        if (known === undefined) this.#prepared.set(text, name);
        const [results] = parse.parseResults(messages, client.parsers, withoutDrizzleParsers(options));
        if (!results) throw new Error(`no result for: ${text.slice(0, 60)}`);
        return results as Results<T>;
      }),
    );
  }
}

const byClient = new WeakMap<PGlite, EmbeddedPrepared>();

/** The named statements of `client`: one set per handle (named statements live in its one session). */
export function embeddedPreparedOf(client: PGlite): EmbeddedQueryClient {
  let prepared = byClient.get(client);
  if (!prepared) {
    prepared = new EmbeddedPrepared(client);
    byClient.set(client, prepared);
  }
  return prepared;
}
