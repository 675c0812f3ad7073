import { lte, sql } from 'drizzle-orm';
import { every } from '../shared/every.ts';
import type { Clock } from '../shared/clock.ts';
import type { Queryable, Store } from './database.ts';
import { preparedSql } from './prepared.ts';
import { obIdempotency } from './schema/openbanking.ts';

/**
 * The statements of `ob_idempotency` (its schema: schema/openbanking.ts), prepared once: the key's one write
 * at the end of every idempotent request's transaction, and the read of a stored answer. Their rules are
 * src/openbanking/http/idempotency.ts's, which is given them (`IdempotencyKeys` there) by whoever mounts the
 * payment APIs: src/openbanking may not import the store (DESIGN.md).
 */

/** Which key: the client, the `x-idempotency-key`, the endpoint (method and route). */
export interface IdempotencyKeyOf {
  clientId: string;
  key: string;
  endpoint: string;
}

/** The answer to store under a key, with the hash of the body it answers and when it stops counting. */
export interface IdempotencyAnswer extends IdempotencyKeyOf {
  bodyHash: string;
  status: number;
  /** The answer's body as JSON text, as the reply sends it (undefined: none). */
  bodyJson: string | undefined;
  createdAt: Date;
  expiresAt: Date;
}

const claim = preparedSql<{ key: string }>(
  'ob_idempotency_claim',
  sql`insert into ob_idempotency (client_id, key, endpoint, body_hash, status, body, created_at, expires_at)
      values (${sql.placeholder('clientId')}, ${sql.placeholder('key')}, ${sql.placeholder('endpoint')},
              ${sql.placeholder('bodyHash')}, ${sql.placeholder('status')}::int4, ${sql.placeholder('body')}::jsonb,
              ${sql.placeholder('createdAt')}::timestamptz, ${sql.placeholder('expiresAt')}::timestamptz)
      on conflict (client_id, key, endpoint) do update
        set body_hash = excluded.body_hash, status = excluded.status, body = excluded.body,
            created_at = excluded.created_at, expires_at = excluded.expires_at
        where ob_idempotency.expires_at <= ${sql.placeholder('createdAt')}::timestamptz
      returning key`,
);

const stored = preparedSql<{ body_hash: string; status: number; body: unknown }>(
  'ob_idempotency_stored',
  sql`select body_hash, status, body from ob_idempotency
      where client_id = ${sql.placeholder('clientId')} and key = ${sql.placeholder('key')}
        and endpoint = ${sql.placeholder('endpoint')} and expires_at > ${sql.placeholder('now')}::timestamptz`,
);

export const idempotencyKeys = {
  /**
   * Stores `answer` under its key unless a row not expired at `answer.createdAt` holds the key (an expired
   * one is replaced): whether it was stored.
   */
  async claim(db: Queryable, answer: IdempotencyAnswer): Promise<boolean> {
    const { rows } = await claim(db).execute({
      clientId: answer.clientId,
      key: answer.key,
      endpoint: answer.endpoint,
      bodyHash: answer.bodyHash,
      status: answer.status,
      body: answer.bodyJson ?? null,
      createdAt: answer.createdAt.toISOString(),
      expiresAt: answer.expiresAt.toISOString(),
    });
    return rows.length > 0;
  },

  /** The answer stored under the key, unless it expired by `now`. */
  async stored(
    db: Queryable,
    key: IdempotencyKeyOf,
    now: Date,
  ): Promise<{ bodyHash: string; status: number; body: unknown } | undefined> {
    const { rows } = await stored(db).execute({ ...key, now: now.toISOString() });
    const row = rows[0];
    if (!row) return undefined;
    const body = typeof row.body === 'string' ? (JSON.parse(row.body) as unknown) : row.body;
    return { bodyHash: row.body_hash, status: Number(row.status), body };
  },

  /**
   * Deletes the keys expired by `now` (a key counts for 24 hours; one a TPP never sends again would otherwise
   * stay for good), `batch` rows a statement so that a backlog is never one long statement: how many.
   */
  async sweep(db: Queryable, now: Date, batch = SWEEP_BATCH): Promise<number> {
    let swept = 0;
    for (;;) {
      const expired = db
        .select({
          clientId: obIdempotency.clientId,
          key: obIdempotency.key,
          endpoint: obIdempotency.endpoint,
        })
        .from(obIdempotency)
        .where(lte(obIdempotency.expiresAt, now))
        .limit(batch);
      const deleted = await db
        .delete(obIdempotency)
        .where(
          sql`(${obIdempotency.clientId}, ${obIdempotency.key}, ${obIdempotency.endpoint}) in (${expired})`,
        )
        .returning({ key: obIdempotency.key });
      swept += deleted.length;
      if (deleted.length < batch) return swept;
    }
  },
};

const SWEEP_BATCH = 5_000;

export type IdempotencyKeys = typeof idempotencyKeys;

/** Sweeps expired idempotency keys every `intervalMs` (default 5 min) without keeping the process alive. */
export function startIdempotencyKeySweeper(
  store: Store,
  options: { clock: Clock; intervalMs?: number; onError?: (error: unknown) => void },
): () => void {
  return every(
    options.intervalMs ?? 300_000,
    () => idempotencyKeys.sweep(store.db, options.clock.now()),
    options.onError,
  );
}
