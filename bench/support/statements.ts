/**
 * Statements a phase sends to the database, counted by wrapping the clients' query methods for the whole
 * process (`pg.Client#query`, PGlite's `query`/`exec`, the embedded read-only statements' `EmbeddedReader#query`, the embedded named ones' `EmbeddedPrepared#named`): a deterministic figure where timings are not. A
 * statement run inside a PGlite transaction (its own `tx.query`) is not seen. Background work (MI flushes,
 * the scheduler, event delivery) is counted too: take the least of several windows (`perRequest`).
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { EmbeddedPrepared, EmbeddedReader } from '../../src/store/index.ts';

export interface StatementCounter {
  /** The statements counted so far, each as its first 80 characters. */
  readonly seen: readonly string[];
  /**
   * Those of `seen` that drizzle built and the database parsed and planned for this run alone: sent without a
   * name (`pg`: no `name`; PGlite's `query`/`exec`, a Parse message each), BEGIN/COMMIT/ROLLBACK aside.
   */
  readonly unnamed: readonly string[];
  /**
   * Those of `seen` that the embedded database's read-only statements ran (`EmbeddedReader`): named per text,
   * parsed once per text and found by it on every call; drizzle built some per call and prepared others once
   * (`preparedStatement` on the embedded reads): not told apart here.
   */
  readonly byText: readonly string[];
  reset(): void;
  stop(): void;
}

/** How a wrapped method sends its statement: see `StatementCounter`. */
type Sending = 'named' | 'unnamed' | 'byText';

const transactionControl = /^\s*(begin|commit|rollback)\b/i;

type QueryMethod = (this: unknown, ...args: unknown[]) => unknown;

function textOf(first: unknown): string {
  const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
  // Only the head is kept: collapsing a whole 2 kB statement's whitespace cost the measured thread ~0.3 ms
  // per payment submission (bench/README.md, Payments, session 12).
  return typeof text === 'string' ? text.slice(0, 400).replace(/\s+/g, ' ').slice(0, 80) : '(unreadable)';
}

/**
 * Starts counting every statement this process sends; `stop` puts the methods back. With
 * `insidePgliteTransactions`, PGlite's transactions are counted too: their BEGIN and COMMIT, and each
 * statement of their own `tx.query`/`tx.exec` (as a PostgreSQL connection would send them).
 */
export function countStatements({ insidePgliteTransactions = false } = {}): StatementCounter {
  const seen: string[] = [];
  const unnamed: string[] = [];
  const byText: string[] = [];
  const restores: (() => void)[] = [];
  const record = (first: unknown, sending: Sending): void => {
    const text = textOf(first);
    seen.push(text);
    if (sending === 'byText') byText.push(text);
    else if (sending === 'unnamed' && !transactionControl.test(text)) unnamed.push(text);
  };
  const wrap = (owner: object, name: string, sending: (first: unknown) => Sending): void => {
    const original = Reflect.get(owner, name) as QueryMethod;
    Reflect.set(owner, name, function (this: unknown, ...args: unknown[]) {
      record(args[0], sending(args[0]));
      return original.apply(this, args);
    });
    restores.push(() => Reflect.set(owner, name, original));
  };
  wrap(pg.Client.prototype, 'query', (first) =>
    typeof first === 'object' && first !== null && (first as { name?: unknown }).name ? 'named' : 'unnamed',
  );
  const base = Object.getPrototypeOf(PGlite.prototype) as object;
  wrap(base, 'query', () => 'unnamed');
  wrap(base, 'exec', () => 'unnamed');
  wrap(EmbeddedReader.prototype, 'query', () => 'byText');
  wrap(EmbeddedPrepared.prototype, 'named', () => 'named');
  if (insidePgliteTransactions) {
    type Transaction = (callback: (tx: object) => Promise<unknown>) => Promise<unknown>;
    const wrapTransaction = (original: Transaction): Transaction =>
      function (this: unknown, callback) {
        seen.push('BEGIN');
        return original
          .call(this, (tx) => {
            for (const name of ['query', 'exec']) {
              const method = (Reflect.get(tx, name) as QueryMethod).bind(tx);
              Reflect.set(tx, name, (...args: unknown[]) => {
                record(args[0], 'unnamed');
                return method(...args);
              });
            }
            return callback(tx);
          })
          .finally(() => seen.push('COMMIT'));
      };
    const original = Reflect.get(PGlite.prototype, 'transaction') as Transaction;
    Reflect.set(PGlite.prototype, 'transaction', wrapTransaction(original));
    restores.push(() => Reflect.set(PGlite.prototype, 'transaction', original));
  }
  return {
    seen,
    unnamed,
    byText,
    reset: () => [seen, unnamed, byText].forEach((list) => void list.splice(0)),
    stop: () => restores.reverse().forEach((restore) => restore()),
  };
}

/**
 * Statements per request of `request`, `count` times in each of `parallel` loops side by side (1: one
 * after another, deterministic; more: what requests in flight together share), in the least busy of
 * `windows` windows (background work only ever adds), with the statements of that window.
 */
export async function statementsPerRequest(
  counter: StatementCounter,
  request: () => Promise<unknown>,
  { count = 20, windows = 3, parallel = 1 }: { count?: number; windows?: number; parallel?: number } = {},
): Promise<{ perRequest: number; statements: string[] }> {
  let best: string[] | undefined;
  for (let window = 0; window < windows; window++) {
    counter.reset();
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = 0; i < count; i++) await request();
      }),
    );
    if (!best || counter.seen.length < best.length) best = [...counter.seen];
  }
  return { perRequest: best!.length / (count * parallel), statements: best! };
}
