import { sql } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { ConsentContext } from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { ObError } from '../errors.ts';
import { bodyHash } from './jws.ts';

/**
 * `x-idempotency-key` (OB Read/Write, required on every PIS POST): the same key and body from the same
 * client on the same endpoint within 24 hours gets the same answer, and the work runs once.
 *
 * Insert-first: the key row (table `ob_idempotency`, primary key client + key + endpoint) is inserted in
 * the SAME transaction that then does the work (consent consumed, ledger posted, payment stored). A
 * concurrent retry's insert waits on the primary key until that transaction ends: on commit it finds the
 * row and answers with the stored response, on rollback its own insert goes through and it does the work.
 * PGlite runs one transaction at a time, which gives the same result. A refused request (an ObError)
 * rolls the transaction back, so the key is not spent on it.
 */
export type Db = ConsentContext['db'];
/** The transaction an idempotent piece of work runs in. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** OB: max 40 characters, no leading or trailing whitespace. */
const KEY = /^\S(?:.{0,38}\S)?$/;

export interface IdempotencyScope {
  clientId: string;
  key: string;
  /** `POST /domestic-payments`: the same key may be used on different endpoints. */
  endpoint: string;
  bodyHash: string;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotentOutcome extends StoredResponse {
  /** True when this is the answer given earlier to the same key and body. */
  replayed: boolean;
}

/** Reads and checks the `x-idempotency-key` header. */
export function idempotencyKeyOf(request: FastifyRequest): string {
  const key = request.headers['x-idempotency-key'];
  if (key === undefined || key === '')
    throw ObError.single(
      400,
      'UK.OBIE.Header.Missing',
      'the x-idempotency-key header is required',
      'x-idempotency-key',
    );
  if (typeof key !== 'string' || !KEY.test(key))
    throw ObError.single(
      400,
      'UK.OBIE.Header.Invalid',
      'x-idempotency-key must be 1 to 40 characters without leading or trailing spaces',
      'x-idempotency-key',
    );
  return key;
}

/** The scope of a request: its client, key, route and the hash of its exact body bytes. */
export function idempotencyScopeOf(request: FastifyRequest, clientId: string): IdempotencyScope {
  return {
    clientId,
    key: idempotencyKeyOf(request),
    endpoint: `${request.method} ${request.routeOptions.url ?? request.url}`,
    bodyHash: bodyHash(request.rawBody),
  };
}

function rowsOf<T>(result: unknown): T[] {
  const value = result as { rows?: T[] } | T[];
  return Array.isArray(value) ? value : (value.rows ?? []);
}

/**
 * Runs `work` once per (client, key, endpoint) within 24 hours, inside one transaction with the key row;
 * a repeat with the same body gets the stored response, a repeat with another body is refused.
 */
export async function idempotent(
  db: Db,
  clock: Clock,
  scope: IdempotencyScope,
  work: (tx: Tx) => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  const now = clock.now();
  const expires = new Date(now.getTime() + IDEMPOTENCY_TTL_MS);
  return db.transaction(async (tx) => {
    const claimed = rowsOf<{ key: string }>(
      await tx.execute(sql`
        insert into ob_idempotency (client_id, key, endpoint, body_hash, status, body, created_at, expires_at)
        values (${scope.clientId}, ${scope.key}, ${scope.endpoint}, ${scope.bodyHash}, 0, 'null'::jsonb,
                ${now.toISOString()}::timestamptz, ${expires.toISOString()}::timestamptz)
        on conflict (client_id, key, endpoint) do update
          set body_hash = excluded.body_hash, status = 0, body = 'null'::jsonb,
              created_at = excluded.created_at, expires_at = excluded.expires_at
          where ob_idempotency.expires_at <= ${now.toISOString()}::timestamptz
        returning key`),
    );
    if (claimed.length === 0) {
      const [stored] = rowsOf<{ body_hash: string; status: number; body: unknown }>(
        await tx.execute(sql`
          select body_hash, status, body from ob_idempotency
          where client_id = ${scope.clientId} and key = ${scope.key} and endpoint = ${scope.endpoint}`),
      );
      if (!stored) throw new Error('idempotency row vanished between insert and select');
      if (stored.body_hash !== scope.bodyHash) {
        throw ObError.single(
          400,
          'UK.OBIE.Header.Invalid',
          'this x-idempotency-key was used with a different body in the last 24 hours',
          'x-idempotency-key',
        );
      }
      const body = typeof stored.body === 'string' ? (JSON.parse(stored.body) as unknown) : stored.body;
      return { status: Number(stored.status), body, replayed: true };
    }
    const response = await work(tx);
    await tx.execute(sql`
      update ob_idempotency set status = ${response.status}, body = ${JSON.stringify(response.body)}::jsonb
      where client_id = ${scope.clientId} and key = ${scope.key} and endpoint = ${scope.endpoint}`);
    return { ...response, replayed: false };
  });
}

/** Deletes expired keys; returns how many. For a periodic sweeper. */
export async function sweepIdempotencyKeys(db: Db, clock: Clock): Promise<number> {
  const deleted = rowsOf<{ key: string }>(
    await db.execute(
      sql`delete from ob_idempotency where expires_at <= ${clock.now().toISOString()}::timestamptz returning key`,
    ),
  );
  return deleted.length;
}
