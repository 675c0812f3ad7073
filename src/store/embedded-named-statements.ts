import { parse, protocol, type PGlite, type QueryOptions, type Results } from '@electric-sql/pglite';
import { withoutDrizzleParsers } from './embedded-parsers.ts';

/** How one set of named statements of a handle differs from another (the read-only ones, the writes). */
export interface NamedStatementsOptions {
  /** The names' prefix: each set on a handle has its own, so that their names never meet. */
  readonly prefix: string;
  /** How many texts keep a name; past it a text is sent unnamed (parsed and planned on every run). */
  readonly maxNamed: number;
  /** Whether each run is written to disk after it, as PGlite's `query` does (writes), or not (reads). */
  readonly syncToFs: boolean;
  /** Told of every protocol message before it is sent (the read-only statements mark theirs so). */
  readonly beforeSend?: (message: Uint8Array) => void;
}

/**
 * A text's name, and what the backend holds under it: `new`, nothing (never sent); `prepared`, the text,
 * parsed (a run that fails after that leaves it so: an execution error does not deallocate); `unsure`, maybe
 * the text (a run with a Parse failed, before or after the Parse), so the next run closes the name before it
 * parses again (closing a name nothing is prepared under is no error).
 */
interface Named {
  readonly name: string;
  state: 'new' | 'prepared' | 'unsure';
  /** Its parameters' types, asked for (Describe) the first time it runs with a value that is not text. */
  types?: readonly number[];
  /**
   * Its result's columns as the backend described them on the first run since it was prepared (null: it
   * returns no rows): later runs ask for no Describe and parse their rows with it. A prepared statement's
   * columns cannot change under its name — PostgreSQL refuses a run whose plan would give others
   * (`noLongerPrepared`), and the text is then parsed and described again.
   */
  columns?: BackendMessage | null;
}

type BackendMessage = Parameters<typeof parse.parseResults>[0][number];

/**
 * Statements of one handle run by name: each text is parsed and planned once, under a name it keeps for the
 * handle's life, and each run is one protocol message (Bind, Execute, Sync; Parse and Describe before them the
 * first time) sent under both of PGlite's locks, as its own `query` takes them (`run`), or inside an open
 * transaction of the handle under its query lock, as the transaction's `query` takes it (`runInTransaction`).
 * PGlite's `query` sends six messages for one statement (six calls into the WebAssembly module) and parses and
 * plans the text every time (bench/README.md, Tokens, session 13). Values other than text are serialised by
 * their parameters' types as PGlite's `query` does; the types are asked for once per text (`#describe`: one
 * more message, the first time only).
 *
 * No name is ever leaked: a text keeps its one name whatever fails. A statement the backend no longer holds as
 * prepared (dropped by `DEALLOCATE` or `DISCARD`, or its plan unable to give the columns it was described with
 * after a table changed) is closed and parsed again under its name and the run sent again at once: both are
 * refused at Bind, before anything ran.
 */
export class NamedStatements {
  readonly #client: PGlite;
  readonly #options: NamedStatementsOptions;
  readonly #named = new Map<string, Named>();

  constructor(client: PGlite, options: NamedStatementsOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Runs `text` with `values` as the handle's named statement (prepared by its first run). */
  async run<T>(text: string, values: readonly unknown[], options?: QueryOptions): Promise<Results<T>> {
    const client = this.#client;
    // As PGlite's own `query`: refused on a closed handle, and under both of its locks (never in the middle
    // of a transaction).
    await client._checkReady();
    return client._runExclusiveTransaction(() =>
      client._runExclusiveQuery(async () => {
        const named = this.#nameOf(text);
        try {
          return await this.#send<T>(text, named, values, options, this.#options.syncToFs);
        } catch (error) {
          if (named?.state !== 'prepared' || !noLongerPrepared(error)) throw error;
          forget(named);
          return this.#send<T>(text, named, values, options, this.#options.syncToFs);
        }
      }),
    );
  }

  /**
   * Runs `text` as the handle's named statement inside `transaction`, an open transaction of this handle
   * (which holds PGlite's transaction lock: only its query lock is taken, as the transaction's own `query`
   * does), not written to disk after it (PGlite writes a transaction at its COMMIT). One difference from
   * `run`: a statement the backend no longer holds as prepared cannot be parsed again and re-run here, since
   * the failed Bind has aborted the transaction; the error is thrown (the transaction rolls back, as on any
   * failed statement) and the next run parses the text again.
   */
  async runInTransaction<T>(
    transaction: { readonly closed: boolean },
    text: string,
    values: readonly unknown[],
    options?: QueryOptions,
  ): Promise<Results<T>> {
    const client = this.#client;
    return client._runExclusiveQuery(async () => {
      // As PGlite's transaction `query`: refused once the transaction has ended.
      if (transaction.closed) throw new Error('Transaction is closed');
      const named = this.#nameOf(text);
      try {
        return await this.#send<T>(text, named, values, options, false);
      } catch (error) {
        if (named?.state === 'prepared' && noLongerPrepared(error)) forget(named);
        throw error;
      }
    });
  }

  #nameOf(text: string): Named | undefined {
    let named = this.#named.get(text);
    if (named === undefined && this.#named.size < this.#options.maxNamed) {
      named = { name: `${this.#options.prefix}${this.#named.size + 1}`, state: 'new' };
      this.#named.set(text, named);
    }
    return named;
  }

  /**
   * Prepares `named` (if it is not) and asks for its parameters' types, kept with it: one protocol message
   * (Close if unsure, Parse if not prepared, Describe, Sync), once per text; nothing is executed.
   */
  async #describe(text: string, named: Named): Promise<readonly number[]> {
    const parts: Uint8Array[] = [];
    if (named.state === 'unsure') parts.push(protocol.serialize.close({ type: 'S', name: named.name }));
    if (named.state !== 'prepared') parts.push(protocol.serialize.parse({ name: named.name, text }));
    parts.push(protocol.serialize.describe({ type: 'S', name: named.name }), protocol.serialize.sync());
    const message = concatMessages(parts);
    this.#options.beforeSend?.(message);
    let messages;
    try {
      messages = await this.#client.execProtocolStream(message, { syncToFs: false });
    } catch (error) {
      if (named.state === 'new') named.state = 'unsure';
      throw error;
    }
    named.state = 'prepared';
    named.types = parse.parseDescribeStatementResults(messages);
    return named.types;
  }

  /** One run, one protocol message; `named` undefined: past the cap, as the unnamed statement. */
  async #send<T>(
    text: string,
    named: Named | undefined,
    values: readonly unknown[],
    options: QueryOptions | undefined,
    syncToFs: boolean,
  ): Promise<Results<T>> {
    const client = this.#client;
    const name = named?.name ?? '';
    let texts: (string | null)[];
    if (values.every((value) => value === null || typeof value === 'string')) {
      texts = values as (string | null)[];
    } else {
      if (named === undefined) throw new Error(`only text values without a name: ${text.slice(0, 60)}`);
      const types = named.types ?? (await this.#describe(text, named));
      texts = values.map((value, index) => asText(client, value, types[index], options));
    }
    // Described once since it was prepared (`Named.columns`): the backend's RowDescription is not asked for
    // and parsed again on every run.
    const columns = named?.state === 'prepared' ? named.columns : undefined;
    const parts: Uint8Array[] = [];
    if (named?.state === 'unsure') parts.push(protocol.serialize.close({ type: 'S', name }));
    if (named?.state !== 'prepared') parts.push(protocol.serialize.parse({ name, text }));
    parts.push(protocol.serialize.bind({ statement: name, values: texts }));
    if (columns === undefined) parts.push(protocol.serialize.describe({ type: 'P' }));
    parts.push(protocol.serialize.execute({}), protocol.serialize.sync());
    const message = concatMessages(parts);
    this.#options.beforeSend?.(message);
    let messages;
    try {
      messages = await client.execProtocolStream(message, { syncToFs });
    } catch (error) {
      // Its Parse sent and failed somewhere: maybe prepared, maybe not.
      if (named?.state === 'new') named.state = 'unsure';
      throw error;
    }
    if (named) {
      named.state = 'prepared';
      if (columns === undefined)
        named.columns = messages.find((message) => message.name === 'rowDescription') ?? null;
    }
    // Drizzle's parsers are in the handle's table (`embeddedReadsOf`): not merged into a copy of it here.
    const [results] = parse.parseResults(
      columns ? [columns, ...messages] : messages,
      client.parsers,
      withoutDrizzleParsers(options),
    );
    if (!results) throw new Error(`no result for: ${text.slice(0, 60)}`);
    return results as Results<T>;
  }
}

/** The backend no longer holds `named` as prepared: parsed, its types and columns asked for again. */
function forget(named: Named): void {
  named.state = 'unsure';
  named.types = undefined;
  named.columns = undefined;
}

/**
 * A value as PGlite's `query` sends it: by its parameter's type, through the statement's or the handle's
 * serializer for that type (dates, arrays, JSON, bigints…), else its `toString()`; null and undefined as null.
 */
function asText(
  client: PGlite,
  value: unknown,
  type: number | undefined,
  options?: QueryOptions,
): string | null {
  if (value === null || value === undefined) return null;
  const serializer =
    type === undefined ? undefined : (options?.serializers?.[type] ?? client.serializers[type]);
  return serializer ? serializer(value) : String(value);
}

/**
 * Whether `error` says the backend does not hold the statement as prepared: gone (`DEALLOCATE`, `DISCARD
 * ALL`), or its plan can no longer give the columns it was described with (a table changed under it), which
 * PostgreSQL refuses on every later run of that statement.
 */
function noLongerPrepared(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    code === '26000' ||
    (code === '0A000' && typeof message === 'string' && message.includes('cached plan must not change'))
  );
}

/** Protocol messages as one, handed to PostgreSQL in one call. */
function concatMessages(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
