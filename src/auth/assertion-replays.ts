import { lte, sql, type SQL } from 'drizzle-orm';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../shared/clock.ts';
import { coalescedBatches } from '../shared/coalesced-reads.ts';
import { preparedSql, preparedStatement, type Queryable } from '../store/index.ts';
import { authModels } from '../store/schema/auth.ts';

/**
 * Client assertion `jti` records (oidc-provider's ReplayDetection model): an assertion authenticates its
 * client once. Each record is one atomic INSERT that takes only an id no live row holds (an expired record
 * may be replaced), so two uses of one assertion cannot both pass, on one instance or several.
 *
 * In a `client_credentials` token request, nothing happens between the client's authentication and the
 * save of the token it gets but checks that write nothing (grant type, scope, certificate binding). There
 * the record is held back and written by the token's own statement: one statement records the `jti` and
 * saves the token only if the `jti` was taken by it, and a replayed assertion gets `invalid_client` with
 * no token saved. A request that ends without saving its token (a refused scope, say) still records its
 * held `jti` before it is answered (`recordHeldAssertions`), and is answered `invalid_client` if it was a
 * replay, as it would have been at authentication. Both rows go through the same handle as before.
 */

export type AuthModelRow = typeof authModels.$inferInsert;

/**
 * Rows of a multi-row upsert in key order: the rows it updates are locked in that order, so two instances'
 * batches touching the same rows wait for each other instead of deadlocking.
 */
export function inLockOrder(rows: AuthModelRow[]): AuthModelRow[] {
  return rows.sort((a, b) => (a.model === b.model ? compare(a.id, b.id) : compare(a.model, b.model)));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const REPLAY_MODEL = 'ReplayDetection';
const TOKEN_MODEL = 'ClientCredentials';
const REPLAYED = 'client assertion tokens must only be used once';

/**
 * Records under way together as one INSERT: each caller learns whether its id was taken by it. Of two
 * uses of one id in a batch, only the first can be.
 */
function recordReplays(db: Queryable, clock: Clock): (row: AuthModelRow) => Promise<boolean> {
  return coalescedBatches<AuthModelRow, boolean>(async (rows) => {
    const [only] = rows;
    if (rows.length === 1 && only) {
      const recorded = await replayAlone(db).execute({
        ...authModelValues(only),
        now: clock.now().toISOString(),
      });
      return [recorded.rows.length === 1];
    }
    const firstOf = new Map<string, AuthModelRow>();
    for (const row of rows) if (!firstOf.has(row.id)) firstOf.set(row.id, row);
    const recorded = await db
      .insert(authModels)
      .values(inLockOrder([...firstOf.values()]))
      .onConflictDoUpdate({
        target: [authModels.model, authModels.id],
        set: { payload: sql`excluded.payload`, expiresAt: sql`excluded.expires_at` },
        // Only an expired record may be replaced.
        setWhere: lte(authModels.expiresAt, clock.now()),
      })
      .returning({ id: authModels.id });
    const taken = new Set(recorded.map((row) => row.id));
    return rows.map((row) => firstOf.get(row.id) === row && taken.has(row.id));
  });
}

interface RecordWithToken {
  replay: AuthModelRow;
  token: AuthModelRow;
}

/**
 * The records' INSERT from `rows` (`values (…), …`, or a `select` of them), columns model, id, payload,
 * expires_at; only an expired record is replaced.
 */
function replayInsert(rows: SQL, now: unknown): SQL {
  return sql`insert into auth_models (model, id, payload, expires_at) ${rows}
    on conflict (model, id) do update set payload = excluded.payload, expires_at = excluded.expires_at
    where auth_models.expires_at <= ${now}::timestamptz
    returning id`;
}

/**
 * One record alone, the usual case (a PAR's or a code exchange's assertion): `replayInsert` prepared once
 * (`preparedSql`), as `replayWithToken` is (bench/README.md, Whole flow, session 17).
 */
const replayAlone = preparedSql<{ id: string }>('auth_replay_alone', () =>
  replayInsert(
    sql`values ${typedRow(REPLAY_COLUMNS, ({ field }) => sql.placeholder(field))}`,
    sql.placeholder('now'),
  ),
);

/**
 * The tokens' INSERT, each row of `rows` (a `from` item: `(values …)` or `unnest(…)`, led by its record's
 * id) saved only if `replay` took that id.
 */
function tokenInsert(rows: SQL): SQL {
  return sql`insert into auth_models (model, id, payload, grant_id, user_code, uid, intent_id, expires_at, consumed_at)
    select t.model, t.id, t.payload, t.grant_id, t.user_code, t.uid, t.intent_id, t.expires_at, t.consumed_at
    from ${rows}
      as t (jti, model, id, payload, grant_id, user_code, uid, intent_id, expires_at, consumed_at)
    where t.jti in (select id from replay)
    on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
      user_code = excluded.user_code, uid = excluded.uid, intent_id = excluded.intent_id,
      expires_at = excluded.expires_at,
      consumed_at = coalesce(auth_models.consumed_at, excluded.consumed_at)`;
}

/** A column of the statements below: the row's field, its SQL type, and the placeholder that takes it. */
interface Column<F extends string> {
  readonly field: F;
  readonly type: string;
  readonly placeholder: string;
}

/** Each field with its type, and its placeholder `<prefix>_<field>` in the statements that save a token. */
function columns<F extends string>(prefix: string, typed: readonly (readonly [F, string])[]): Column<F>[] {
  return typed.map(([field, type]) => ({ field, type, placeholder: `${prefix}_${field}` }));
}

/**
 * A record's columns (`replayInsert`) and a token's (`tokenInsert`, led by its record's id), in order: one
 * list for a row of values, a batch's arrays, and the placeholders (`replay_model`, …, `token_jti`, …) that
 * take them.
 */
const REPLAY_COLUMNS = columns('replay', [
  ['model', 'text'],
  ['id', 'text'],
  ['payload', 'jsonb'],
  ['expiresAt', 'timestamptz'],
]);
const TOKEN_COLUMNS = columns('token', [
  ['jti', 'text'],
  ['model', 'text'],
  ['id', 'text'],
  ['payload', 'jsonb'],
  ['grantId', 'text'],
  ['userCode', 'text'],
  ['uid', 'text'],
  ['intentId', 'text'],
  ['expiresAt', 'timestamptz'],
  ['consumedAt', 'timestamptz'],
]);

/** One row of `columns`, each value from `valueOf` (a value, or a placeholder), cast to its column's type. */
function typedRow<F extends string>(
  columns: readonly Column<F>[],
  valueOf: (column: Column<F>) => unknown,
): SQL {
  const values = columns.map((column) => sql`${valueOf(column)}::${sql.raw(column.type)}`);
  return sql`(${sql.join(values, sql`, `)})`;
}

/**
 * Rows as `unnest` of one array per column (each from its placeholder, cast to the column's array type): one
 * statement text for any number of rows, so a batch's statement is prepared once too.
 */
function unnestRows<F extends string>(columns: readonly Column<F>[]): SQL {
  const arrays = columns.map(
    ({ placeholder, type }) => sql`${sql.placeholder(placeholder)}::${sql.raw(`${type}[]`)}`,
  );
  return sql`unnest(${sql.join(arrays, sql`, `)})`;
}

function timestamp(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}

/**
 * A row's values as a statement's placeholders take them: the payload as JSON text, the timestamps as ISO
 * text, an absent nullable column as null. The adapter's upsert, the records and the tokens all use it.
 */
export function authModelValues(row: AuthModelRow) {
  return {
    model: row.model,
    id: row.id,
    payload: JSON.stringify(row.payload),
    grantId: row.grantId ?? null,
    userCode: row.userCode ?? null,
    uid: row.uid ?? null,
    intentId: row.intentId ?? null,
    expiresAt: timestamp(row.expiresAt),
    consumedAt: timestamp(row.consumedAt),
  };
}

/** `with replay as (…), token as (…) select id from replay`, records and tokens from the given row sources. */
function replaysWithTokens(db: Queryable, replays: SQL, tokens: SQL, name: string) {
  const replay = db
    .$with('replay', { id: sql<string>`id`.as('id') })
    .as(replayInsert(replays, sql.placeholder('now')));
  const token = db.$with('token', {}).as(tokenInsert(tokens));
  return db.with(replay, token).select({ id: replay.id }).from(replay).prepare(name);
}

/**
 * The statement for one record and its token, the usual case (a request alone): prepared once
 * (`preparedStatement`), a named statement on PostgreSQL (each connection parses and plans it once, then only
 * binds and executes it), and built by drizzle once per driver.
 */
const replayWithToken = preparedStatement((db) =>
  replaysWithTokens(
    db,
    sql`values ${typedRow(REPLAY_COLUMNS, ({ placeholder }) => sql.placeholder(placeholder))}`,
    sql`(values ${typedRow(TOKEN_COLUMNS, ({ placeholder }) => sql.placeholder(placeholder))})`,
    'auth_replay_with_token',
  ),
);

/**
 * The statement for records and tokens under way together, whatever their number: each column's values as
 * one array (`unnest`), so that it too is prepared once rather than built by drizzle and parsed by the
 * database for every batch (bench/README.md, tokens, session 20).
 */
const replaysWithTokensBatch = preparedStatement((db) =>
  replaysWithTokens(
    db,
    sql`select * from ${unnestRows(REPLAY_COLUMNS)}`,
    unnestRows(TOKEN_COLUMNS),
    'auth_replays_with_tokens',
  ),
);

/** Records `item`'s `jti` and saves its token in one statement: true when the record was taken by it. */
async function recordAloneWithToken(
  db: Queryable,
  { replay: record, token: row }: RecordWithToken,
  now: Date,
) {
  // Assigned one by one into one object: no intermediate entries, arrays or copies per token.
  const values: Record<string, unknown> = { now: now.toISOString() };
  const recordValues = authModelValues(record);
  for (const { placeholder, field } of REPLAY_COLUMNS) values[placeholder] = recordValues[field];
  const rowValues = authModelValues(row);
  for (const { placeholder, field } of TOKEN_COLUMNS)
    values[placeholder] = field === 'jti' ? record.id : rowValues[field];
  const taken = await replayWithToken(db).execute(values);
  return taken.length === 1;
}

/**
 * Records and their requests' tokens under way together as one statement: the records inserted as
 * `recordReplays` does, and each token saved only when its record was taken by this statement.
 */
function recordReplaysWithTokens(db: Queryable, clock: Clock): (item: RecordWithToken) => Promise<boolean> {
  return coalescedBatches<RecordWithToken, boolean>(async (items) => {
    const [first] = items;
    if (items.length === 1 && first) return [await recordAloneWithToken(db, first, clock.now())];
    const firstOf = new Map<string, RecordWithToken>();
    for (const item of items) if (!firstOf.has(item.replay.id)) firstOf.set(item.replay.id, item);
    const records = inLockOrder([...firstOf.values()].map((item) => item.replay)).map(authModelValues);
    // The later of two saves of one token row wins, as in `upsertRows` (token ids are fresh: never seen).
    const tokenOf = new Map<string, RecordWithToken>();
    for (const item of firstOf.values()) tokenOf.set(`${item.token.model}\n${item.token.id}`, item);
    const jtiOf = new Map([...tokenOf.values()].map((item) => [item.token, item.replay.id]));
    const tokens = inLockOrder([...jtiOf.keys()]).map((row) => ({
      jti: jtiOf.get(row)!,
      ...authModelValues(row),
    }));
    const values: Record<string, unknown> = { now: clock.now().toISOString() };
    for (const { placeholder, field } of REPLAY_COLUMNS)
      values[placeholder] = records.map((row) => row[field]);
    for (const { placeholder, field } of TOKEN_COLUMNS) values[placeholder] = tokens.map((row) => row[field]);
    const taken = new Set((await replaysWithTokensBatch(db).execute(values)).map((row) => row.id));
    return items.map((item) => firstOf.get(item.replay.id) === item && taken.has(item.replay.id));
  });
}

/** A request's held record: held until its token's save, or the end of the request, writes it. */
interface Held {
  row: AuthModelRow;
  written: boolean;
}

export interface AssertionReplays {
  /** Records a `jti` (or holds it for its request's token); throws `InvalidClientAuth` for a replay. */
  record(row: AuthModelRow): Promise<void>;
  /**
   * Saves a ClientCredentials token row with its request's held record, when there is one (then true);
   * false when there is none and the caller saves it as any other row.
   */
  saveWithHeldRecord(token: AuthModelRow): Promise<boolean>;
  /**
   * Koa middleware (`provider.use`): writes what a request held and no token save wrote. Only a request
   * it runs around has its record held; without it every record is written at authentication.
   */
  recordHeldAssertions(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void>;
}

function holdsForToken(ctx: KoaContextWithOIDC | undefined): ctx is KoaContextWithOIDC {
  return ctx?.oidc?.route === 'token' && ctx.oidc.params?.['grant_type'] === 'client_credentials';
}

export function createAssertionReplays(db: Queryable, clock: Clock): AssertionReplays {
  const recordAlone = recordReplays(db, clock);
  const recordWithToken = recordReplaysWithTokens(db, clock);
  const held = new WeakMap<KoaContextWithOIDC, Held>();
  /** Requests `recordHeldAssertions` runs around: only their records may be held (it writes them). */
  const covered = new WeakSet<KoaContextWithOIDC>();
  return {
    async record(row) {
      const ctx = Provider.ctx;
      if (holdsForToken(ctx) && covered.has(ctx) && !held.has(ctx)) {
        held.set(ctx, { row, written: false });
        return;
      }
      if (!(await recordAlone(row))) throw new errors.InvalidClientAuth(REPLAYED);
    },
    async saveWithHeldRecord(token) {
      const ctx = Provider.ctx;
      const record = token.model === TOKEN_MODEL && ctx ? held.get(ctx) : undefined;
      if (!record || record.written) return false;
      // Written or failed, this statement is the record's one attempt: a failed one saved nothing.
      record.written = true;
      if (!(await recordWithToken({ replay: record.row, token })))
        throw new errors.InvalidClientAuth(REPLAYED);
      return true;
    },
    async recordHeldAssertions(ctx, next) {
      covered.add(ctx);
      try {
        await next();
      } finally {
        const record = held.get(ctx);
        if (record && !record.written) {
          record.written = true;
          if (!(await recordAlone(record.row))) {
            // As the provider answers a replay found at authentication (its description hides the detail).
            const refusal = new errors.InvalidClientAuth(REPLAYED);
            ctx.status = 401;
            ctx.body = { error: refusal.error, error_description: refusal.error_description };
          }
        }
      }
    },
  };
}
