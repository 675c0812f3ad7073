import { and, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import { errors } from 'oidc-provider';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { Clock } from '../shared/clock.ts';
import { coalescedBatches } from '../shared/coalesced-reads.ts';
import { every } from '../shared/every.ts';
import { systemClock } from '../shared/clock.ts';
import { preparedStatement, type Queryable, type Store } from '../store/index.ts';
import { authModels } from '../store/schema/auth.ts';
import {
  authModelValues,
  createAssertionReplays,
  inLockOrder,
  REPLAY_MODEL,
  type AssertionReplays,
  type AuthModelRow,
} from './assertion-replays.ts';

/**
 * oidc-provider's persistence over `src/store`: one row per model instance in `auth_models`.
 *
 * - `find`, `findByUid`, `findByUserCode` never return an expired row; `sweepExpiredAuthModels` deletes them.
 * - `upsert`s under way together go as one multi-row statement (the token rows of concurrent requests);
 *   a `client_credentials` token and its request's assertion `jti` go as one (src/auth/assertion-replays.ts).
 * - `consume` is one `UPDATE … WHERE consumed_at IS NULL RETURNING`: of two concurrent redemptions of a
 *   code (or refresh token, or PAR request_uri) exactly one updates the row; the other gets an OAuth
 *   error and, as RFC 6749 §4.1.2 asks for a reused code, every token of that grant is revoked.
 */

/** The Open Banking intent a payload rests on, read from its `claims` request or its extra claims. */
export function intentIdOfPayload(payload: AdapterPayload): string | undefined {
  const extra = payload.extra as Record<string, unknown> | undefined;
  const fromExtra = extra?.['openbanking_intent_id'];
  if (typeof fromExtra === 'string') return fromExtra;
  const claims = payload.claims as unknown;
  if (claims && typeof claims === 'object') {
    for (const member of ['id_token', 'userinfo'] as const) {
      const requested = (claims as Record<string, unknown>)[member];
      if (requested && typeof requested === 'object') {
        const intent = (requested as Record<string, unknown>)['openbanking_intent_id'];
        if (intent && typeof intent === 'object') {
          const value = (intent as Record<string, unknown>)['value'];
          if (typeof value === 'string') return value;
        }
      }
    }
  }
  return undefined;
}

/** Models whose single use is a grant rule: a second use revokes the grant (RFC 6749 §4.1.2, §10.4). */
const GRANT_SOURCES = new Set([
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const GRANTABLE = new Set([...GRANT_SOURCES, 'AccessToken']);

/**
 * Models whose saved rows, were the last few hundred milliseconds of them lost in a crash of the database
 * server, fail closed: the access token, session, interaction, pushed request or code stops working and
 * the TPP or PSU asks again; a lost assertion `jti` record reopens a replay window no longer than that
 * loss for an assertion that is also bound to the TPP's mTLS key. Their `upsert` commits through
 * `store.asyncCommitDb` (no wait for the disk flush: ~5 ms per token on PostgreSQL). Refresh tokens and
 * grants stay synchronous (losing one would force the PSU to authorise again), and so does every
 * consumption, deletion and revocation: a revocation must never be lost.
 */
const ASYNC_COMMIT_MODELS = new Set([
  REPLAY_MODEL,
  'AccessToken',
  'ClientCredentials',
  'AuthorizationCode',
  'PushedAuthorizationRequest',
  'Session',
  'Interaction',
]);

/**
 * PostgreSQL's `text` and `jsonb` cannot hold U+0000, so a NUL anywhere in a lookup key or a payload is
 * a database error rather than an answer. No identifier the provider issues contains one: a key with a
 * NUL names nothing, and a payload with one (a client's parameter) is the client's malformed request.
 */
const NUL = '\u0000';

function holdsNul(value: string): boolean {
  return value.includes(NUL);
}

function payloadHoldsNul(value: unknown): boolean {
  if (typeof value === 'string') return holdsNul(value);
  if (Array.isArray(value)) return value.some(payloadHoldsNul);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([key, member]) => holdsNul(key) || payloadHoldsNul(member));
  }
  return false;
}

/** A row that has not expired at the placeholder `now` (an ISO timestamp). */
const unexpiredAtPlaceholder = sql`(${authModels.expiresAt} is null or ${authModels.expiresAt} > ${sql.placeholder('now')}::timestamptz)`;

/** An upsert's update of a row that exists: every column the save carries. */
const UPSERT_SET = {
  payload: sql`excluded.payload`,
  grantId: sql`excluded.grant_id`,
  userCode: sql`excluded.user_code`,
  uid: sql`excluded.uid`,
  intentId: sql`excluded.intent_id`,
  expiresAt: sql`excluded.expires_at`,
  // A consumed row stays consumed whatever a later save carries.
  consumedAt: sql`coalesce(${authModels.consumedAt}, excluded.consumed_at)`,
};

/**
 * The provider's finds (by id, by `uid`, by `userCode`), its consumption and its deletion of one row:
 * fixed-shape statements prepared once (`preparedStatement`; placeholders `model`, the key, `now`), rather
 * than built by drizzle and parsed by the database on every call (bench/README.md, Whole flow, session 17).
 */
function liveRowBy(
  column: typeof authModels.id | typeof authModels.uid | typeof authModels.userCode,
  name: string,
) {
  return preparedStatement((db) =>
    db
      .select({ payload: authModels.payload, consumedAt: authModels.consumedAt })
      .from(authModels)
      .where(
        and(
          eq(authModels.model, sql.placeholder('model')),
          eq(column, sql.placeholder('value')),
          unexpiredAtPlaceholder,
        ),
      )
      .limit(1)
      .prepare(name),
  );
}

const LIVE_ROW_BY = {
  id: liveRowBy(authModels.id, 'auth_model_by_id'),
  uid: liveRowBy(authModels.uid, 'auth_model_by_uid'),
  userCode: liveRowBy(authModels.userCode, 'auth_model_by_user_code'),
};

/** Marks a live, unconsumed row consumed; answers its grant when it was this statement that did. */
const consumeRow = preparedStatement((db) =>
  db
    .update(authModels)
    .set({
      consumedAt: sql`${sql.placeholder('now')}::timestamptz`,
      payload: sql`${authModels.payload} || jsonb_build_object('consumed', ${sql.placeholder('epoch')}::bigint)`,
    })
    .where(
      and(
        eq(authModels.model, sql.placeholder('model')),
        eq(authModels.id, sql.placeholder('id')),
        isNull(authModels.consumedAt),
        unexpiredAtPlaceholder,
      ),
    )
    .returning({ grantId: authModels.grantId })
    .prepare('auth_model_consume'),
);

const destroyRow = preparedStatement((db) =>
  db
    .delete(authModels)
    .where(and(eq(authModels.model, sql.placeholder('model')), eq(authModels.id, sql.placeholder('id'))))
    .prepare('auth_model_destroy'),
);

/**
 * One row saved, the usual case (a request alone): prepared once (`preparedStatement`), so neither drizzle's
 * query building nor the database's parse and plan is paid per save; the same statement as `upsertRows`'s
 * multi-row one (bench/README.md, Whole flow, session 17).
 */
const upsertOne = preparedStatement((db) =>
  db
    .insert(authModels)
    .values({
      model: sql.placeholder('model'),
      id: sql.placeholder('id'),
      payload: sql`${sql.placeholder('payload')}::jsonb`,
      grantId: sql.placeholder('grantId'),
      userCode: sql.placeholder('userCode'),
      uid: sql.placeholder('uid'),
      intentId: sql.placeholder('intentId'),
      expiresAt: sql`${sql.placeholder('expiresAt')}::timestamptz`,
      consumedAt: sql`${sql.placeholder('consumedAt')}::timestamptz`,
    })
    .onConflictDoUpdate({ target: [authModels.model, authModels.id], set: UPSERT_SET })
    .prepare('auth_model_upsert'),
);

/**
 * Saves of the provider's models (tokens, grants, sessions, codes) that are under way together go as one
 * multi-row upsert; a later save of the same row in one batch wins, as it would have one after the other.
 */
function upsertRows(db: Queryable): (row: AuthModelRow) => Promise<void> {
  return coalescedBatches<AuthModelRow, void>(async (rows) => {
    const [only] = rows;
    if (rows.length === 1 && only) {
      await upsertOne(db).execute(authModelValues(only));
      return [undefined];
    }
    const last = new Map(rows.map((row) => [`${row.model}\n${row.id}`, row]));
    await db
      .insert(authModels)
      .values(inLockOrder([...last.values()]))
      .onConflictDoUpdate({ target: [authModels.model, authModels.id], set: UPSERT_SET });
    return rows.map(() => undefined);
  });
}

/**
 * The models a bearer token presented to the APIs may be stored as: `findAccessToken` (tokens.ts) asks
 * both for the same value.
 */
const BEARER_MODELS = new Set(['AccessToken', 'ClientCredentials']);

/** A live row of either bearer model by id (prepared once: a named statement on PostgreSQL). */
const bearerRowsById = preparedStatement((db) =>
  db
    .select({ model: authModels.model, payload: authModels.payload, consumedAt: authModels.consumedAt })
    .from(authModels)
    .where(
      and(
        sql`${authModels.model} in ('AccessToken', 'ClientCredentials')`,
        eq(authModels.id, sql.placeholder('id')),
        sql`(${authModels.expiresAt} is null or ${authModels.expiresAt} > ${sql.placeholder('now')}::timestamptz)`,
      ),
    )
    .prepare('auth_bearer_token_by_id'),
);

/** The payload as the provider expects it: a consumed row says so even when its payload does not. */
function storedPayload(row: { payload: unknown; consumedAt: Date | null }): AdapterPayload {
  const payload = { ...(row.payload as AdapterPayload) };
  if (row.consumedAt && payload.consumed === undefined) {
    payload.consumed = Math.floor(row.consumedAt.getTime() / 1000);
  }
  return payload;
}

/** Finds by model and id, for the bearer models (`BEARER_MODELS`). */
export type BearerReads = (model: string, id: string) => Promise<AdapterPayload | undefined>;

/**
 * Every find of one id under either bearer model asked in the same synchronous run is answered by one
 * statement reading both models: `findAccessToken` asks for the AccessToken and the ClientCredentials of
 * a value together, one round trip instead of two. The statement is sent a microtask after the first
 * find, once no other can join it: no find is answered by a statement that began before it asked.
 */
export function bearerReads(db: Queryable, clock: Clock = systemClock): BearerReads {
  const statement = bearerRowsById(db);
  const asked = new Map<string, Promise<Map<string, AdapterPayload>>>();
  const read = async (id: string): Promise<Map<string, AdapterPayload>> => {
    await undefined;
    asked.delete(id);
    const rows = await statement.execute({ id, now: clock.now().toISOString() });
    return new Map(rows.map((row) => [row.model, storedPayload(row)]));
  };
  return async (model, id) => {
    let rows = asked.get(id);
    if (!rows) {
      rows = read(id);
      asked.set(id, rows);
    }
    return (await rows).get(model);
  };
}

export class StoreAdapter implements Adapter {
  readonly model: string;
  readonly #db: Queryable;
  readonly #clock: Clock;
  readonly #upsert: (row: AuthModelRow) => Promise<void>;
  readonly #replays: AssertionReplays;
  readonly #bearers: BearerReads;

  /**
   * Saves go to `saveDb`: `store.asyncCommitDb` for the models of ASYNC_COMMIT_MODELS, else `db`.
   * `replays` is shared by the ReplayDetection and ClientCredentials adapters of one provider, so that a
   * token's save can write its request's assertion record (src/auth/assertion-replays.ts). `bearers` is
   * shared by the AccessToken and ClientCredentials adapters, so that a find of a value under both models
   * is one statement.
   */
  constructor(
    model: string,
    db: Queryable,
    clock: Clock = systemClock,
    saveDb: Queryable = db,
    replays: AssertionReplays = createAssertionReplays(saveDb, clock),
    bearers: BearerReads = bearerReads(db, clock),
  ) {
    this.model = model;
    this.#db = db;
    this.#clock = clock;
    this.#upsert = upsertRows(saveDb);
    this.#replays = replays;
    this.#bearers = bearers;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    if (holdsNul(id) || payloadHoldsNul(payload)) {
      throw new errors.InvalidRequest('request parameters must not contain the NUL character');
    }
    if (this.model === REPLAY_MODEL) return this.#recordOnce(id, payload, expiresIn);
    const now = this.#clock.now();
    const expiresAt =
      typeof expiresIn === 'number' && Number.isFinite(expiresIn)
        ? new Date(now.getTime() + expiresIn * 1000)
        : null;
    const consumedAt = typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null;
    const row = {
      model: this.model,
      id,
      payload,
      grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
      userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      intentId: intentIdOfPayload(payload) ?? null,
      expiresAt,
      consumedAt,
    };
    if (await this.#replays.saveWithHeldRecord(row)) return;
    await this.#upsert(row);
  }

  async #findWhere(column: keyof typeof LIVE_ROW_BY, value: string) {
    if (holdsNul(value)) return undefined;
    const rows = await LIVE_ROW_BY[column](this.#db).execute({
      model: this.model,
      value,
      now: this.#clock.now().toISOString(),
    });
    const row = rows[0];
    return row ? storedPayload(row) : undefined;
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    // A replay is caught atomically by the insert in `upsert`; reading first would only cost a round trip.
    if (this.model === REPLAY_MODEL) return undefined;
    if (BEARER_MODELS.has(this.model)) return holdsNul(id) ? undefined : this.#bearers(this.model, id);
    return this.#findWhere('id', id);
  }

  /**
   * ReplayDetection (client assertion `jti`s): one INSERT (shared with the records under way together, or
   * with the token of its request) that succeeds only when no live row holds the id, so two concurrent
   * uses of one assertion cannot both pass (the provider's own find-then-save can), on one instance or
   * several.
   */
  async #recordOnce(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const now = this.#clock.now();
    const seconds =
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? Math.max(expiresIn, 0) : 3600;
    const expiresAt = new Date(now.getTime() + seconds * 1000);
    await this.#replays.record({ model: this.model, id, payload, expiresAt });
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere('uid', uid);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.#findWhere('userCode', userCode);
  }

  async consume(id: string): Promise<void> {
    if (holdsNul(id)) throw new errors.InvalidRequest(`${describe(this.model)} not found`);
    const now = this.#clock.now();
    const epoch = Math.floor(now.getTime() / 1000);
    const won = await consumeRow(this.#db).execute({
      model: this.model,
      id,
      now: now.toISOString(),
      epoch,
    });
    if (won.length === 1) return;

    if (GRANT_SOURCES.has(this.model)) {
      const [row] = await this.#db
        .select({ grantId: authModels.grantId })
        .from(authModels)
        .where(and(eq(authModels.model, this.model), eq(authModels.id, id)))
        .limit(1);
      if (row?.grantId) await revokeGrant(this.#db, row.grantId);
      throw new errors.InvalidGrant(`${describe(this.model)} already consumed`);
    }
    throw new errors.InvalidRequest(`${describe(this.model)} already used`);
  }

  async destroy(id: string): Promise<void> {
    if (holdsNul(id)) return;
    await destroyRow(this.#db).execute({ model: this.model, id });
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    if (!GRANTABLE.has(this.model) || holdsNul(grantId)) return;
    await this.#db
      .delete(authModels)
      .where(and(eq(authModels.model, this.model), eq(authModels.grantId, grantId)));
  }
}

function describe(model: string): string {
  return model === 'AuthorizationCode'
    ? 'authorization code'
    : model === 'RefreshToken'
      ? 'refresh token'
      : model === 'PushedAuthorizationRequest'
        ? 'request_uri'
        : model;
}

/** Deletes the grant and every code and token issued under it. */
export async function revokeGrant(db: Queryable, grantId: string): Promise<void> {
  await db
    .delete(authModels)
    .where(
      or(
        and(eq(authModels.grantId, grantId), inArray(authModels.model, [...GRANTABLE])),
        and(eq(authModels.model, 'Grant'), eq(authModels.id, grantId)),
      ),
    );
}

/**
 * Revokes everything that rests on an Open Banking intent: its codes, access and refresh tokens, and
 * the grants they were issued under. Returns how many rows went.
 */
export async function revokeIntentTokens(db: Queryable, intentId: string): Promise<number> {
  const grants = await db
    .selectDistinct({ grantId: authModels.grantId })
    .from(authModels)
    .where(and(eq(authModels.intentId, intentId), isNotNull(authModels.grantId)));
  const grantIds = grants.map((row) => row.grantId).filter((id): id is string => typeof id === 'string');
  const conditions = [eq(authModels.intentId, intentId)];
  if (grantIds.length > 0) {
    conditions.push(
      and(inArray(authModels.grantId, grantIds), inArray(authModels.model, [...GRANTABLE]))!,
      and(eq(authModels.model, 'Grant'), inArray(authModels.id, grantIds))!,
    );
  }
  const deleted = await db
    .delete(authModels)
    .where(or(...conditions))
    .returning({ id: authModels.id });
  return deleted.length;
}

/** Deletes every expired row; returns how many. Run it periodically (see `startAuthModelSweeper`). */
export async function sweepExpiredAuthModels(db: Queryable, clock: Clock = systemClock): Promise<number> {
  const deleted = await db
    .delete(authModels)
    .where(and(isNotNull(authModels.expiresAt), lte(authModels.expiresAt, clock.now())))
    .returning({ id: authModels.id });
  return deleted.length;
}

/** Sweeps expired rows every `intervalMs` (default 5 min) without keeping the process alive. */
export function startAuthModelSweeper(
  store: Store,
  options: { clock?: Clock; intervalMs?: number; onError?: (error: unknown) => void } = {},
): () => void {
  return every(
    options.intervalMs ?? 300_000,
    () => sweepExpiredAuthModels(store.db, options.clock),
    options.onError,
  );
}

/** The provider's adapters, and the middleware that writes the assertion records a request held. */
export type StoreAdapterFactory = AdapterFactory & Pick<AssertionReplays, 'recordHeldAssertions'>;

export function createAdapterFactory(store: Store, clock: Clock = systemClock): StoreAdapterFactory {
  const adapters = new Map<string, StoreAdapter>();
  // ReplayDetection and ClientCredentials are both async-commit models: their shared statement is too.
  const replays = createAssertionReplays(store.asyncCommitDb, clock);
  const bearers = bearerReads(store.db, clock);
  const factory = (model: string) => {
    let adapter = adapters.get(model);
    if (!adapter) {
      const saveDb = ASYNC_COMMIT_MODELS.has(model) ? store.asyncCommitDb : store.db;
      adapter = new StoreAdapter(model, store.db, clock, saveDb, replays, bearers);
      adapters.set(model, adapter);
    }
    return adapter;
  };
  return Object.assign(factory, { recordHeldAssertions: replays.recordHeldAssertions });
}
