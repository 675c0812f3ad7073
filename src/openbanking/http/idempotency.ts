import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsentContext } from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { ObError } from '../errors.ts';
import { bodyHash } from './jws.ts';

/**
 * `x-idempotency-key` (OB Read/Write, required on every PIS POST): the same key and body from the same
 * client on the same endpoint within 24 hours gets the same answer, and the work runs once.
 *
 * Answer-last: the work (consent consumed, ledger posted, payment stored) runs first, and its answer is
 * stored under the key (table `ob_idempotency`, primary key client + key + endpoint) by ONE insert at the
 * end of the same transaction — the key row is written once, never inserted empty and then updated. When
 * the key is already taken (a row not expired), the transaction rolls back and the stored answer is given
 * (or the key refused, when it was given with another body): the work's effects never outlive a replay.
 * A retry after a committed request is refused by the work itself (the consent is Consumed, the file
 * uploaded, the migration done) or meets the key row: either way it gets the stored answer, because a
 * refusal (an ObError) is answered from the key row when there is one. A concurrent retry waits on the
 * work's own lock (the consent row, the VRP consent's payment lock) or on the key's primary key until the
 * first transaction ends: on commit it gets the stored answer, on rollback it does the work. PGlite runs
 * one transaction at a time, which gives the same result. A refused request rolls its transaction back,
 * so the key is not spent on it.
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
  /**
   * `body` as the JSON text the reply sends (`sendOutcome`): serialised once, for the key row and the reply
   * alike (undefined when there is no body).
   */
  json: string | undefined;
  /** True when this is the answer given earlier to the same key and body. */
  replayed: boolean;
}

/** The media type fastify gives a JSON body it serialises itself: the same bytes, the same header. */
const JSON_MEDIA_TYPE = 'application/json; charset=utf-8';

/** Answers with `outcome`: its status and its body's JSON text, as fastify would have serialised `body`. */
export function sendOutcome(reply: FastifyReply, outcome: IdempotentOutcome): FastifyReply {
  reply.status(outcome.status);
  return outcome.json === undefined ? reply.send() : reply.type(JSON_MEDIA_TYPE).send(outcome.json);
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

/**
 * The key rows' two statements, prepared by the store (src/store/idempotency.ts: `idempotencyKeys`) and given
 * by whoever mounts the payment APIs, as src/openbanking may not import the store (DESIGN.md).
 */
export interface IdempotencyKeys {
  /**
   * Stores the answer under its key unless a row not expired at `createdAt` holds the key (an expired one
   * is replaced): whether it was stored.
   */
  claim(
    tx: Tx,
    answer: Omit<IdempotencyScope, 'bodyHash'> & {
      bodyHash: string;
      status: number;
      /** The answer's body as JSON text (what the reply sends); undefined: none. */
      bodyJson: string | undefined;
      createdAt: Date;
      expiresAt: Date;
    },
  ): Promise<boolean>;
  /** The answer stored under the key, unless it expired by `now`. */
  stored(
    db: Db,
    key: Pick<IdempotencyScope, 'clientId' | 'key' | 'endpoint'>,
    now: Date,
  ): Promise<(StoredResponse & { bodyHash: string }) | undefined>;
}

/** What an idempotent piece of work runs with: the database, the clock, the key rows' statements. */
export interface IdempotencyContext {
  db: Db;
  clock: Clock;
  idempotencyKeys: IdempotencyKeys;
}

/** The key's row was committed by another request while this one did its work. */
class KeyTaken extends Error {}

/**
 * Runs `work` once per (client, key, endpoint) within 24 hours, inside one transaction with the key row;
 * a repeat with the same body gets the stored response, a repeat with another body is refused.
 */
export async function idempotent(
  context: IdempotencyContext,
  scope: IdempotencyScope,
  work: (tx: Tx) => Promise<StoredResponse>,
): Promise<IdempotentOutcome> {
  const { db, clock, idempotencyKeys } = context;
  const now = clock.now();
  const expires = new Date(now.getTime() + IDEMPOTENCY_TTL_MS);
  try {
    return await db.transaction(async (tx) => {
      const response = await work(tx);
      // Serialised once: the key row stores this text and the reply sends it (`sendOutcome`).
      const json = JSON.stringify(response.body) as string | undefined;
      const claimed = await idempotencyKeys.claim(tx, {
        clientId: scope.clientId,
        key: scope.key,
        endpoint: scope.endpoint,
        bodyHash: scope.bodyHash,
        status: response.status,
        bodyJson: json,
        createdAt: now,
        expiresAt: expires,
      });
      if (!claimed) throw new KeyTaken();
      return { ...response, json, replayed: false };
    });
  } catch (error) {
    // Rolled back. A refusal may be the work meeting its own earlier success (a retry): the key row says.
    if (!(error instanceof KeyTaken) && !(error instanceof ObError)) throw error;
    const stored = await idempotencyKeys.stored(db, scope, now);
    if (!stored) {
      if (error instanceof KeyTaken)
        throw new Error('idempotency row vanished after its key was found taken', { cause: error });
      throw error;
    }
    if (stored.bodyHash !== scope.bodyHash) {
      throw ObError.single(
        400,
        'UK.OBIE.Header.Invalid',
        'this x-idempotency-key was used with a different body in the last 24 hours',
        'x-idempotency-key',
      );
    }
    return {
      status: stored.status,
      body: stored.body,
      json: JSON.stringify(stored.body) as string | undefined,
      replayed: true,
    };
  }
}
