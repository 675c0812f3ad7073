import { createHash, randomUUID } from 'node:crypto';
import {
  and,
  asc,
  desc,
  eq,
  gt,
  inArray,
  isNotNull,
  isNull,
  lte,
  not,
  or,
  sql,
  type SQL,
  type SQLWrapper,
} from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import { inTransaction, preparedStatement, type Queryable, type Store } from '../store/index.ts';
import { consentAudit, consentIntents } from '../store/schema/consent.ts';
import { EVENT_TYPES, raiseEvent } from '../events/index.ts';
import { INTENT_KINDS, KIND_INFO, isIntentStatus, type IntentKind, type IntentStatus } from './kinds.ts';
import { ACCOUNT_PERMISSIONS, type AccountPermission } from './permissions.ts';

/**
 * Intents and their one lifecycle:
 *
 *   AwaitingUpload ──upload──▶ AwaitingAuthorisation ──authorise──▶ Authorised ──consume──▶ Consumed
 *                                        │                             │ ▲ └──revoke───▶ Revoked
 *                                        └──reject──▶ Rejected         └─┘ reauthenticate (same PSU)
 *
 * Access withdrawn at the bank (`withdrawAccess`, account access and VRP) is no status of its own: the intent
 * stays Authorised with `accessWithdrawnAt` set — not usable, its tokens dead — until `reauthenticate` clears it.
 *
 * "Expired" is not stored: an intent whose `expiresAt` has passed (by the injected clock) can no longer be
 * uploaded to, authorised, re-authenticated, used or consumed, and reports itself expired through `isExpired`;
 * of the statuses it can still be in, `EXPIRY_ENDS` are those its expiry ends. Nor is a payment consent's
 * authorisation deadline (`authoriseBy`, its `Data.Authorisation.CompletionDateTime`): past it, one still
 * awaiting authorisation can never be authorised. `endedByTime` says which of the two has ended an intent.
 *
 * Every transition is one `UPDATE … WHERE id = ? AND status = <expected>` and its audit row, written by one
 * statement (`updateAudited`): of two racing transitions from the same status exactly one updates the row;
 * the other gets an `IntentTransitionError` with reason `wrong_status`.
 */

export type Actor = 'tpp' | 'psu' | 'system';

export type JsonObject = { [key: string]: unknown };

export interface Intent {
  id: string;
  kind: IntentKind;
  clientId: string;
  status: IntentStatus;
  statusUpdatedAt: Date;
  /**
   * The OB request's `Data`, as staged. International payment consents add `Quote`: the `Charges` and
   * `ExchangeRateInformation` the bank quoted to the TPP at staging, as the TPP received them.
   */
  data: JsonObject;
  /** The OB request's `Risk`, as staged. */
  risk: JsonObject;
  /** Account-access permissions (empty for other kinds). */
  permissions: string[];
  expiresAt: Date | undefined;
  /**
   * A payment consent's `Data.Authorisation.CompletionDateTime`: by when the PSU must complete its
   * authorisation (`endedByTime`). Optional only for intents built outside the store.
   */
  authoriseBy?: Date | undefined;
  /** The PSU who authorised it (bank customer id), once authorised. */
  customerId: string | undefined;
  /** The accounts the PSU selected, once authorised. */
  accountIds: string[];
  createdAt: Date;
  authorisedAt: Date | undefined;
  lastUsedAt: Date | undefined;
  /**
   * The Read/Write API version it was staged on (e.g. `v3.1.11`, `v4.0`; stored for every intent, absent
   * only on intents built outside the store); src/openbanking/versions.ts rules on which versions may use it.
   */
  apiVersion?: string;
  /**
   * When the PSU withdrew the TPP's access at the bank, while the consent stays Authorised (`withdrawAccess`);
   * undefined otherwise. A withdrawn intent is not usable until the PSU re-authenticates it.
   */
  accessWithdrawnAt?: Date | undefined;
}

export type AuditEvent =
  | 'created'
  | 'uploaded'
  | 'authorised'
  | 'reauthenticated'
  | 'rejected'
  | 'consumed'
  | 'revoked'
  | 'access-withdrawn'
  | 'used'
  | 'migrated'
  | 'account-removed';

export interface AuditEntry {
  intentId: string;
  at: Date;
  actor: Actor;
  event: AuditEvent;
  from: IntentStatus | undefined;
  to: IntentStatus | undefined;
  detail: string | undefined;
}

/** What every lifecycle function works with: the database (or a transaction) and the one clock. */
export interface ConsentContext {
  db: Queryable;
  clock: Clock;
}

/** Told of every revocation after it is stored, so every instance can drop tokens and caches at once. */
export type RevocationNotifier = (intentId: string) => Promise<void>;

export const CONSENT_REVOKED_CHANNEL = 'obkit_consent_revoked';

/** The notifier the server wires: `NOTIFY obkit_consent_revoked, '<intent id>'` through the store. */
export function storeRevocationNotifier(store: Pick<Store, 'notify'>): RevocationNotifier {
  return (intentId) => store.notify(CONSENT_REVOKED_CHANNEL, intentId);
}

/**
 * Told after an authorised consent changed without being revoked (an account the PSU stopped sharing): every
 * instance drops what it cached of the consent; the tokens resting on it stay valid.
 */
export type ConsentChangeNotifier = (intentId: string) => Promise<void>;

export const CONSENT_CHANGED_CHANNEL = 'obkit_consent_changed';

/** Subscribes to revocations published by any instance; returns the unsubscribe function. */
export function onConsentRevoked(
  store: Pick<Store, 'listen'>,
  handler: (intentId: string) => void,
): Promise<() => Promise<void>> {
  return store.listen(CONSENT_REVOKED_CHANNEL, handler);
}

/** Input that cannot become an intent; `path` names the offending OB field. */
export class IntentInputError extends Error {
  override name = 'IntentInputError';
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

export type TransitionFailure =
  'not_found' | 'wrong_status' | 'expired' | 'not_allowed_for_kind' | 'invalid_accounts' | 'wrong_customer';

/** A transition that the lifecycle does not allow, or that lost a race. */
export class IntentTransitionError extends Error {
  override name = 'IntentTransitionError';
  readonly reason: TransitionFailure;
  readonly intentId: string;
  /** The status the intent had when the transition was refused, when it exists. */
  readonly status: IntentStatus | undefined;
  constructor(
    reason: TransitionFailure,
    intentId: string,
    status: IntentStatus | undefined,
    message: string,
  ) {
    super(message);
    this.reason = reason;
    this.intentId = intentId;
    this.status = status;
  }
}

export interface CreateIntentInput {
  kind: IntentKind;
  clientId: string;
  data: JsonObject;
  risk: JsonObject;
  /** Overrides the expiry read from `data` (ExpirationDateTime, or ControlParameters.ValidToDateTime for VRP). */
  expiresAt?: Date;
  /** The Read/Write API version the TPP staged it on; `v3.1.11` when not said. */
  apiVersion?: string;
}

type Row = typeof consentIntents.$inferSelect;

function toIntent(row: Row): Intent {
  if (!(INTENT_KINDS as readonly string[]).includes(row.kind))
    throw new Error(`unknown intent kind ${row.kind}`);
  if (!isIntentStatus(row.status)) throw new Error(`unknown intent status ${row.status}`);
  return {
    id: row.id,
    kind: row.kind as IntentKind,
    clientId: row.clientId,
    status: row.status,
    statusUpdatedAt: row.statusUpdatedAt,
    data: row.data as JsonObject,
    risk: row.risk as JsonObject,
    permissions: row.permissions,
    expiresAt: row.expiresAt ?? undefined,
    authoriseBy: row.authoriseBy ?? undefined,
    customerId: row.customerId ?? undefined,
    accountIds: row.accountIds ?? [],
    createdAt: row.createdAt,
    authorisedAt: row.authorisedAt ?? undefined,
    lastUsedAt: row.lastUsedAt ?? undefined,
    apiVersion: row.apiVersion,
    accessWithdrawnAt: row.accessWithdrawnAt ?? undefined,
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** An OB date-time field, parsed; undefined when absent; an IntentInputError when malformed. */
export function readDateTime(object: JsonObject, field: string, path: string): Date | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value))) {
    throw new IntentInputError(
      `${path}.${field}`,
      `${path}.${field} must be an ISO 8601 date-time with a zone`,
    );
  }
  return new Date(value);
}

function expiryFromData(kind: IntentKind, data: JsonObject): Date | undefined {
  if (kind === 'account-access' || kind === 'funds-confirmation') {
    return readDateTime(data, 'ExpirationDateTime', 'Data');
  }
  if (kind === 'domestic-vrp') {
    const control = data['ControlParameters'];
    return isObject(control) ? readDateTime(control, 'ValidToDateTime', 'Data.ControlParameters') : undefined;
  }
  return undefined;
}

function permissionsFromData(kind: IntentKind, data: JsonObject): AccountPermission[] {
  if (kind !== 'account-access') return [];
  const permissions = data['Permissions'];
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw new IntentInputError('Data.Permissions', 'Data.Permissions must list at least one permission');
  }
  const seen = new Set<AccountPermission>();
  for (const permission of permissions) {
    if (typeof permission !== 'string' || !(ACCOUNT_PERMISSIONS as readonly string[]).includes(permission)) {
      throw new IntentInputError('Data.Permissions', `unknown permission ${JSON.stringify(permission)}`);
    }
    seen.add(permission as AccountPermission);
  }
  // OB rule: transaction detail levels and credit/debit filters only make sense together.
  const level = seen.has('ReadTransactionsBasic') || seen.has('ReadTransactionsDetail');
  const direction = seen.has('ReadTransactionsCredits') || seen.has('ReadTransactionsDebits');
  if (level !== direction) {
    throw new IntentInputError(
      'Data.Permissions',
      level
        ? 'ReadTransactionsBasic/Detail needs ReadTransactionsCredits and/or ReadTransactionsDebits'
        : 'ReadTransactionsCredits/Debits needs ReadTransactionsBasic or ReadTransactionsDetail',
    );
  }
  return [...seen];
}

/** Account access: the transaction window, when given, is two well-formed date-times in order. */
function checkTransactionWindow(data: JsonObject): void {
  const from = readDateTime(data, 'TransactionFromDateTime', 'Data');
  const to = readDateTime(data, 'TransactionToDateTime', 'Data');
  if (from && to && from.getTime() > to.getTime()) {
    throw new IntentInputError(
      'Data.TransactionToDateTime',
      'Data.TransactionToDateTime is before Data.TransactionFromDateTime',
    );
  }
}

/** `Data.Authorisation.CompletionDateTime` (payment consents), parsed; undefined when not given. */
function authorisationDeadlineFromData(data: JsonObject): Date | undefined {
  const authorisation = data['Authorisation'];
  return isObject(authorisation)
    ? readDateTime(authorisation, 'CompletionDateTime', 'Data.Authorisation')
    : undefined;
}

/** Whether the intent's expiry has passed at `now`. */
export function isExpired(intent: Pick<Intent, 'expiresAt'>, now: Date): boolean {
  return intent.expiresAt !== undefined && intent.expiresAt.getTime() <= now.getTime();
}

/**
 * The statuses a passed expiry ends though it stays stored: every step on from them (`markFileUploaded`,
 * `authorise`, `reauthenticate`, `consume`, `recordUse`) needs the intent unexpired, so an expired one awaiting
 * authorisation can never be authorised, nor an expired Authorised one used. Rejected, Consumed and Revoked
 * intents had ended before; their expiry changes nothing.
 */
export const EXPIRY_ENDS: readonly IntentStatus[] = ['AwaitingUpload', 'AwaitingAuthorisation', 'Authorised'];

/**
 * The statuses the authorisation deadline (`authoriseBy`) ends: an intent still awaiting its file or its
 * authorisation past it can never be authorised (`checkIntentAuthorisable` refuses it). Its status stays as
 * stored, and so the TPP reads it: neither version's payment consent statuses has one for this (v3.1.11
 * AwaitingAuthorisation, Authorised, Consumed, Rejected; v4.0 AWAU, AUTH, COND, RJCT; files add AwaitingUpload
 * / AWUP).
 */
export const AUTHORISATION_DEADLINE_ENDS: readonly IntentStatus[] = [
  'AwaitingUpload',
  'AwaitingAuthorisation',
];

/** What ended an intent by time, and when (`endedByTime`). */
export interface EndedByTime {
  /** `expiry`: its `expiresAt` (EXPIRY_ENDS); `authorisation-deadline`: its `authoriseBy`. */
  cause: 'expiry' | 'authorisation-deadline';
  at: Date;
}

/**
 * Whether time has ended the intent in the status it is stored in, and how: its expiry has passed in a status
 * that ends (`EXPIRY_ENDS`), or it still awaits authorisation past its authorisation deadline
 * (`AUTHORISATION_DEADLINE_ENDS`). Undefined while it can still go on. The earlier of the two when both have
 * passed. `endedByTimeRows` is the same rule as a condition on rows: the two must agree.
 */
export function endedByTime(
  intent: {
    status: string;
    expiresAt?: Date | null | undefined;
    authoriseBy?: Date | null | undefined;
  },
  now: Date,
): EndedByTime | undefined {
  const ended: EndedByTime[] = [];
  if (intent.expiresAt != null && expiryEnded({ status: intent.status, expiresAt: intent.expiresAt }, now))
    ended.push({ cause: 'expiry', at: intent.expiresAt });
  if (
    intent.authoriseBy != null &&
    (AUTHORISATION_DEADLINE_ENDS as readonly string[]).includes(intent.status) &&
    !withinAuthorisationWindow({ authoriseBy: intent.authoriseBy }, now)
  )
    ended.push({ cause: 'authorisation-deadline', at: intent.authoriseBy });
  return ended.sort((a, b) => a.at.getTime() - b.at.getTime())[0];
}

/** Whether its expiry has ended the intent: passed (`isExpired`) in a status it ends (`EXPIRY_ENDS`). */
export function expiryEnded(intent: { status: string; expiresAt?: Date | undefined }, now: Date): boolean {
  return (
    (EXPIRY_ENDS as readonly string[]).includes(intent.status) &&
    isExpired({ expiresAt: intent.expiresAt }, now)
  );
}

/** `endedByTime` as a condition on `consent_intents` rows: the rows time has ended at `now`. */
export function endedByTimeRows(now: Date): SQL {
  return or(
    and(inArray(consentIntents.status, [...EXPIRY_ENDS]), expiredIntentRows(now)),
    and(
      inArray(consentIntents.status, [...AUTHORISATION_DEADLINE_ENDS]),
      not(withinAuthorisationWindowRows(now)),
    ),
  )!;
}

/** Whether the intent may still be authorised by its deadline (`authoriseBy`): none, or a later one. */
function withinAuthorisationWindow(intent: { authoriseBy?: Date | undefined }, now: Date): boolean {
  return intent.authoriseBy === undefined || intent.authoriseBy.getTime() > now.getTime();
}

/** `withinAuthorisationWindow` as a condition on `consent_intents` rows. */
function withinAuthorisationWindowRows(now: Date | SQLWrapper): SQL {
  return or(isNull(consentIntents.authoriseBy), gt(consentIntents.authoriseBy, now))!;
}

/** `isExpired` as a condition on `consent_intents` rows, for the queries that pick or count by it. */
export function expiredIntentRows(now: Date): SQL {
  return and(isNotNull(consentIntents.expiresAt), lte(consentIntents.expiresAt, now))!;
}

/** The rows `isExpired` says are not expired at `now` (no expiry, or a later one). */
export function unexpiredIntentRows(now: Date | SQLWrapper): SQL {
  return or(isNull(consentIntents.expiresAt), gt(consentIntents.expiresAt, now))!;
}

/**
 * Authorised, not expired, its access not withdrawn at the bank: what the API layer's guard asks before serving
 * a request on it, and the authorization server before issuing a token resting on it.
 */
export function isUsable(
  intent: Pick<Intent, 'status' | 'expiresAt' | 'accessWithdrawnAt'>,
  now: Date,
): boolean {
  return intent.status === 'Authorised' && intent.accessWithdrawnAt === undefined && !isExpired(intent, now);
}

export function newIntentId(kind: IntentKind): string {
  return `${KIND_INFO[kind].prefix}-${randomUUID()}`;
}

/** The columns a staged intent is written with (the rest are null until a transition sets them). */
const STAGED_COLUMNS = [
  'id',
  'kind',
  'clientId',
  'status',
  'statusUpdatedAt',
  'data',
  'risk',
  'permissions',
  'expiresAt',
  'authoriseBy',
  'createdAt',
  'apiVersion',
] as const satisfies readonly (keyof typeof consentIntents._.columns)[];
type StagedColumn = (typeof STAGED_COLUMNS)[number];

/**
 * The staged intent and its audit row as one statement (see `auditOfChanged`), prepared once with every value
 * a placeholder: no query building per staging, a named statement on both stores.
 */
const intentStaged = preparedStatement((db) => {
  const created = db.$with('changed').as(
    db
      .insert(consentIntents)
      .values(columnPlaceholders(STAGED_COLUMNS, '') as unknown as typeof consentIntents.$inferInsert)
      .returning(),
  );
  return db
    .with(created, auditOfChanged(db, AUDIT_PLACEHOLDERS))
    .select()
    .from(created)
    .prepare('consent_created');
});

export async function createIntent(ctx: ConsentContext, input: CreateIntentInput): Promise<Intent> {
  if (!(INTENT_KINDS as readonly string[]).includes(input.kind)) {
    throw new IntentInputError('kind', `unknown intent kind ${String(input.kind)}`);
  }
  if (typeof input.clientId !== 'string' || input.clientId.length === 0) {
    throw new IntentInputError('clientId', 'clientId is required');
  }
  if (!isObject(input.data)) throw new IntentInputError('Data', 'Data must be an object');
  if (!isObject(input.risk)) throw new IntentInputError('Risk', 'Risk must be an object');
  const now = ctx.clock.now();
  const expiresAt = input.expiresAt ?? expiryFromData(input.kind, input.data);
  if (expiresAt !== undefined && expiresAt.getTime() <= now.getTime()) {
    const path =
      input.expiresAt !== undefined
        ? 'expiresAt'
        : input.kind === 'domestic-vrp'
          ? 'Data.ControlParameters.ValidToDateTime'
          : 'Data.ExpirationDateTime';
    throw new IntentInputError(path, `${path} is in the past`);
  }
  const authoriseBy = authorisationDeadlineFromData(input.data);
  const permissions = permissionsFromData(input.kind, input.data);
  if (input.kind === 'account-access') checkTransactionWindow(input.data);
  const status = KIND_INFO[input.kind].initialStatus;
  const id = newIntentId(input.kind);
  const staged: Record<StagedColumn, unknown> = {
    id,
    kind: input.kind,
    clientId: input.clientId,
    status,
    statusUpdatedAt: now,
    data: input.data,
    risk: input.risk,
    permissions,
    expiresAt: expiresAt ?? null,
    authoriseBy: authoriseBy ?? null,
    createdAt: now,
    apiVersion: input.apiVersion ?? consentIntents.apiVersion.default,
  };
  const audit: AuditOf = {
    at: now,
    actor: 'tpp',
    event: 'created',
    from: null,
    to: status,
    detail: `staged by client ${input.clientId}`,
  };
  const values = encodeColumnValues(auditPlaceholderValues(audit), STAGED_COLUMNS, staged, '');
  const [row] = await intentStaged(ctx.db).execute(values);
  return toIntent(row!);
}

/** Prepared once: every API call behind a consent reads its intent (the guard's, unless cached). */
const intentById = preparedStatement((db) =>
  db
    .select()
    .from(consentIntents)
    .where(eq(consentIntents.id, sql.placeholder('id')))
    .prepare('consent_intent_by_id'),
);

export async function getIntent(db: Queryable, id: string): Promise<Intent | undefined> {
  const rows = await intentById(db).execute({ id });
  return rows[0] ? toIntent(rows[0]) : undefined;
}

/** The intent when it exists and was staged by this client; undefined otherwise (a TPP sees only its own). */
export async function getIntentForClient(
  db: Queryable,
  id: string,
  clientId: string,
): Promise<Intent | undefined> {
  const rows = await db
    .select()
    .from(consentIntents)
    .where(and(eq(consentIntents.id, id), eq(consentIntents.clientId, clientId)));
  return rows[0] ? toIntent(rows[0]) : undefined;
}

export interface ListForCustomerOptions {
  statuses?: IntentStatus[];
  limit?: number;
}

/** The intents a PSU authorised (and what became of them), newest first: the consent dashboard's list. */
export async function listIntentsForCustomer(
  db: Queryable,
  customerId: string,
  options: ListForCustomerOptions = {},
): Promise<Intent[]> {
  const conditions = [eq(consentIntents.customerId, customerId)];
  if (options.statuses && options.statuses.length > 0) {
    conditions.push(inArray(consentIntents.status, options.statuses));
  }
  const rows = await db
    .select()
    .from(consentIntents)
    .where(and(...conditions))
    .orderBy(desc(consentIntents.createdAt), desc(consentIntents.id))
    .limit(Math.max(1, Math.min(options.limit ?? 500, 5_000)));
  return rows.map(toIntent);
}

export async function listAudit(db: Queryable, intentId: string): Promise<AuditEntry[]> {
  const rows = await db
    .select()
    .from(consentAudit)
    .where(eq(consentAudit.intentId, intentId))
    .orderBy(asc(consentAudit.id));
  return rows.map((row) => ({
    intentId: row.intentId,
    at: row.at,
    actor: row.actor as Actor,
    event: row.event as AuditEvent,
    from: isIntentStatus(row.fromStatus) ? row.fromStatus : undefined,
    to: isIntentStatus(row.toStatus) ? row.toStatus : undefined,
    detail: row.detail ?? undefined,
  }));
}

interface Transition {
  id: string;
  from: readonly IntentStatus[];
  to: IntentStatus;
  event: AuditEvent;
  actor: Actor;
  detail: string | undefined;
  /** Refuse when the intent has expired. */
  requireUnexpired: boolean;
  /**
   * Refuse (`expired`) when its authorisation deadline (`authoriseBy`) has passed: the one step that needs it
   * is `authorise`, so a PSU's approval that lost the race against the deadline is refused by the UPDATE
   * itself, not only by the check made before it (`checkIntentAuthorisable`).
   */
  requireAuthorisationWindow?: boolean;
  /** Refuse (`wrong_status`) when the PSU withdrew its access at the bank (`withdrawAccess`). */
  requireAccess?: boolean;
  /** Refuse unless the kind allows it. */
  allowedFor?: (kind: IntentKind) => boolean;
  /** The refusal when `allowedFor` refuses the intent's kind; default `not_allowed_for_kind`. */
  kindRefusal?: (current: Intent) => IntentTransitionError;
  /** Refuse (`wrong_customer`) unless the intent was authorised by this customer. */
  customerId?: string;
  set?: Partial<typeof consentIntents.$inferInsert>;
  /** Runs in the transition's transaction after it is stored: the events the change raises. */
  alsoRecord?: (tx: Queryable, changed: Intent, from: IntentStatus) => Promise<void>;
}

/** The audit row a change writes: who, what, from and to which status. */
interface AuditOf {
  at: Date;
  actor: Actor;
  event: AuditEvent;
  from: IntentStatus | null;
  to: IntentStatus | null;
  detail: string | null;
}

/** An audit row's values as the statement takes them: plain values, or placeholders of a prepared statement. */
type AuditValues = Record<keyof AuditOf, unknown>;

/**
 * The audit row of the intent a data-modifying CTE named `changed` returns, as a CTE of the same statement:
 * written only when that row was, atomically with it, even outside a transaction. Raw SQL: drizzle's
 * insert … select lists every column, the generated identity `id` too.
 */
function auditOfChanged(db: Queryable, audit: AuditValues) {
  return db.$with('audited', {}).as(
    sql`insert into ${consentAudit} (intent_id, at, actor, event, from_status, to_status, detail)
      select id, ${audit.at}::timestamptz, ${audit.actor}, ${audit.event}, ${audit.from}::text,
        ${audit.to}::text, ${audit.detail}::text
      from changed`,
  );
}

/** The columns a guarded change may set (`Transition.set`, the status and its time, `lastUsedAt`). */
type Change = Partial<typeof consentIntents.$inferInsert>;
type ChangedColumn = keyof Change & keyof typeof consentIntents._.columns;

/** The conditions of a guarded change besides the intent's id: the ones a refusal names (`refusalOf`). */
interface Guard {
  /** The status the intent must be in. */
  status: IntentStatus;
  /** The kinds it must be of, when not every kind may. */
  kinds?: readonly IntentKind[] | undefined;
  /** The customer who must have authorised it. */
  customerId?: string | undefined;
  /** Its access must not have been withdrawn at the bank. */
  access?: boolean | undefined;
  /** It must not have expired (`unexpiredIntentRows`). */
  unexpired?: boolean | undefined;
  /** Its authorisation deadline must not have passed (`withinAuthorisationWindowRows`). */
  authorisationWindow?: boolean | undefined;
}

const placeholder = sql.placeholder;

type IntentColumn = keyof typeof consentIntents._.columns;

/** A placeholder per column, named `<prefix><column>`: a prepared insert's values or a prepared update's set. */
function columnPlaceholders(columns: readonly IntentColumn[], prefix: string): Record<string, SQL> {
  return Object.fromEntries(columns.map((column) => [column, sql`${placeholder(`${prefix}${column}`)}`]));
}

/**
 * Fills `columnPlaceholders`' placeholders into `into`: each value as drizzle's unprepared insert or update
 * sends it (the column's own encoding; null as null).
 */
function encodeColumnValues<C extends IntentColumn>(
  into: Record<string, unknown>,
  columns: readonly C[],
  values: Readonly<Partial<Record<C, unknown>>>,
  prefix: string,
): Record<string, unknown> {
  for (const column of columns) {
    const value = values[column];
    into[`${prefix}${column}`] =
      value === null ? null : consentIntents[column].mapToDriverValue(value as never);
  }
  return into;
}

/** The audit row's values as placeholders of a prepared statement (`auditPlaceholderValues` fills them). */
const AUDIT_PLACEHOLDERS: AuditValues = {
  at: placeholder('auditAt'),
  actor: placeholder('auditActor'),
  event: placeholder('auditEvent'),
  from: placeholder('auditFrom'),
  to: placeholder('auditTo'),
  detail: placeholder('auditDetail'),
};

function auditPlaceholderValues(audit: AuditOf): Record<string, unknown> {
  return {
    auditAt: audit.at.toISOString(),
    auditActor: audit.actor,
    auditEvent: audit.event,
    auditFrom: audit.from,
    auditTo: audit.to,
    auditDetail: audit.detail,
  };
}

/**
 * The guarded UPDATE and its audit row, prepared once per shape — the columns it sets and the conditions that
 * hold it (a transition's shape is fixed: the consumption, an approval, a use …) — with every value a
 * placeholder: no query building per call, a named statement on both stores. The conditions are built by the
 * same helpers as everywhere else (`unexpiredIntentRows`, `withinAuthorisationWindowRows`), at the
 * placeholder `now`.
 */
const guardedUpdates = new Map<string, ReturnType<typeof guardedUpdateOf>>();

function guardedUpdateOf(columns: readonly ChangedColumn[], guard: Guard, name: string, answered: boolean) {
  return preparedStatement<(Row | ChangedId)[]>((db) => {
    const changed = db.$with('changed').as(
      db
        .update(consentIntents)
        .set(columnPlaceholders(columns, 'set_'))
        .where(
          and(
            eq(consentIntents.id, placeholder('id')),
            and(
              eq(consentIntents.status, placeholder('status')),
              guard.kinds ? inArray(consentIntents.kind, [...guard.kinds]) : undefined,
              guard.customerId !== undefined
                ? eq(consentIntents.customerId, placeholder('customerId'))
                : undefined,
              guard.access ? isNull(consentIntents.accessWithdrawnAt) : undefined,
              guard.unexpired ? unexpiredIntentRows(placeholder('now')) : undefined,
              guard.authorisationWindow ? withinAuthorisationWindowRows(placeholder('now')) : undefined,
            ),
          ),
        )
        .returning(),
    );
    const statement = db.with(changed, auditOfChanged(db, AUDIT_PLACEHOLDERS));
    // Unanswered: only the id comes back, so the row is neither sent nor parsed and mapped (a submission's
    // consent was read and mapped by the guard already).
    return answered
      ? statement.select().from(changed).prepare(name)
      : statement.select({ id: changed.id }).from(changed).prepare(name);
  });
}

/** What an unanswered guarded change gives back: that it changed the intent. */
interface ChangedId {
  id: string;
}

/**
 * The guarded UPDATE of one intent and its audit row as one statement: the changed row (`answered` false: only
 * its id), or undefined when the conditions did not hold and nothing was written.
 */
async function updateAudited<Answered extends boolean = true>(
  db: Queryable,
  id: string,
  change: Change,
  guard: Guard,
  audit: AuditOf,
  now: Date,
  answered: Answered = true as Answered,
): Promise<(Answered extends true ? Row : ChangedId) | undefined> {
  const columns = (Object.keys(change) as ChangedColumn[])
    .filter((column) => change[column] !== undefined)
    .sort();
  const shape = JSON.stringify([
    columns,
    guard.kinds ?? null,
    guard.customerId !== undefined,
    !!guard.access,
    !!guard.unexpired,
    !!guard.authorisationWindow,
    answered,
  ]);
  const key = `${audit.event} ${shape}`;
  let statement = guardedUpdates.get(key);
  if (!statement) {
    // Named for the audit event it records, so a statement list reads; the hash keeps one text per name.
    const hash = createHash('sha256').update(shape).digest('hex').slice(0, 12);
    statement = guardedUpdateOf(
      columns,
      guard,
      `consent_${audit.event.replaceAll('-', '_')}_${hash}`,
      answered,
    );
    guardedUpdates.set(key, statement);
  }
  const values = encodeColumnValues(
    {
      id,
      status: guard.status,
      customerId: guard.customerId,
      now: now.toISOString(),
      ...auditPlaceholderValues(audit),
    },
    columns,
    change,
    'set_',
  );
  const [row] = await statement(db).execute(values);
  // The statement was prepared for `answered`: the whole row, or only its id.
  return row as (Answered extends true ? Row : ChangedId) | undefined;
}

/**
 * Makes `step`'s change, guarded, with its audit row: the changed intent; with `answered` false, nothing (its
 * row is not read back when the one statement goes through: for a caller that does not use it).
 */
function transition(ctx: ConsentContext, step: Transition): Promise<Intent>;
function transition(ctx: ConsentContext, step: Transition, answered: false): Promise<void>;
async function transition(ctx: ConsentContext, step: Transition, answered = true): Promise<Intent | void> {
  const now = ctx.clock.now();
  const change = { ...step.set, status: step.to, statusUpdatedAt: now };
  const audit = (from: IntentStatus): AuditOf => ({
    at: now,
    actor: step.actor,
    event: step.event,
    from,
    to: step.to,
    detail: step.detail ?? null,
  });
  const from = step.from.length === 1 ? step.from[0] : undefined;
  // One statement when the transition goes through: the UPDATE holds every condition a refusal names
  // (status, kind, customer, access, expiry), so of two racing transitions exactly one changes the row.
  const kinds = step.allowedFor ? INTENT_KINDS.filter((kind) => step.allowedFor!(kind)) : undefined;
  const guardOf = (status: IntentStatus): Guard => ({
    status,
    kinds,
    customerId: step.customerId,
    access: step.requireAccess,
    unexpired: step.requireUnexpired,
    authorisationWindow: step.requireAuthorisationWindow,
  });
  const guarded = (db: Queryable, status: IntentStatus) =>
    updateAudited(db, step.id, change, guardOf(status), audit(status), now);
  // Without events to record in the same transaction, the one statement needs no transaction of its own.
  if (from !== undefined && !step.alsoRecord) {
    if (!answered) {
      if (await updateAudited(ctx.db, step.id, change, guardOf(from), audit(from), now, false)) return;
    } else {
      const row = await guarded(ctx.db, from);
      if (row) return toIntent(row);
    }
  }
  // The caller's transaction when there is one, without a savepoint: a refusal is thrown before any write.
  return inTransaction(ctx.db, async (tx) => {
    let row = from !== undefined && step.alsoRecord ? await guarded(tx, from) : undefined;
    let left = from;
    if (!row) {
      // Refused, or a step from several statuses: the locked row says which refusal, or which status it
      // leaves (a racing transition waits here and then sees the status this one leaves).
      const locked = await tx
        .select()
        .from(consentIntents)
        .where(eq(consentIntents.id, step.id))
        .for('update');
      const current = locked[0] ? toIntent(locked[0]) : undefined;
      const refusal = refusalOf(step, current, now);
      if (refusal) throw refusal;
      left = current!.status;
      // The conditional UPDATE is the guard that holds even without the lock: one writer per status change.
      row = await updateAudited(tx, step.id, change, { status: left }, audit(left), now);
      if (!row) {
        throw new IntentTransitionError(
          'wrong_status',
          step.id,
          undefined,
          `intent ${step.id} changed concurrently`,
        );
      }
    }
    const changed = toIntent(row);
    await step.alsoRecord?.(tx, changed, left!);
    return answered ? changed : undefined;
  });
}

function refusalOf(
  step: Transition,
  current: Intent | undefined,
  now: Date,
): IntentTransitionError | undefined {
  if (!current)
    return new IntentTransitionError('not_found', step.id, undefined, `intent ${step.id} not found`);
  if (step.allowedFor && !step.allowedFor(current.kind)) {
    if (step.kindRefusal) return step.kindRefusal(current);
    return new IntentTransitionError(
      'not_allowed_for_kind',
      step.id,
      current.status,
      `a ${current.kind} intent cannot be ${step.event}`,
    );
  }
  if (!step.from.includes(current.status)) {
    return new IntentTransitionError(
      'wrong_status',
      step.id,
      current.status,
      `intent ${step.id} is ${current.status}; it cannot be ${step.event} (needs ${step.from.join(' or ')})`,
    );
  }
  if (step.requireAccess && current.accessWithdrawnAt !== undefined) {
    return new IntentTransitionError(
      'wrong_status',
      step.id,
      current.status,
      `the PSU withdrew access to intent ${step.id} at the bank; it cannot be ${step.event} until re-authenticated`,
    );
  }
  if (step.requireUnexpired && isExpired(current, now)) {
    return new IntentTransitionError('expired', step.id, current.status, `intent ${step.id} has expired`);
  }
  if (step.requireAuthorisationWindow && !withinAuthorisationWindow(current, now)) {
    return new IntentTransitionError(
      'expired',
      step.id,
      current.status,
      `intent ${step.id} was not authorised by its Data.Authorisation.CompletionDateTime`,
    );
  }
  if (step.customerId !== undefined && current.customerId !== step.customerId) {
    return new IntentTransitionError(
      'wrong_customer',
      step.id,
      current.status,
      `intent ${step.id} was authorised by another customer`,
    );
  }
  return undefined;
}

/** A file-payment consent whose file the TPP has uploaded: AwaitingUpload → AwaitingAuthorisation. */
export async function markFileUploaded(ctx: ConsentContext, id: string, detail?: string): Promise<Intent> {
  return transition(ctx, {
    id,
    from: ['AwaitingUpload'],
    to: 'AwaitingAuthorisation',
    event: 'uploaded',
    actor: 'tpp',
    detail,
    requireUnexpired: true,
    allowedFor: (kind) => kind === 'file-payment',
  });
}

export interface AuthoriseInput {
  customerId: string;
  accountIds: string[];
  actor?: Actor;
  detail?: string;
}

/**
 * The PSU approved: AwaitingAuthorisation → Authorised, with the PSU and the accounts selected. Refused when
 * expired, already decided, or the account selection does not fit the kind (one debtor account for payments
 * and funds confirmation, at least one for account access).
 */
export async function authorise(ctx: ConsentContext, id: string, input: AuthoriseInput): Promise<Intent> {
  const accountIds = [...new Set(input.accountIds)];
  if (!input.customerId) {
    throw new IntentTransitionError('invalid_accounts', id, undefined, 'a customer id is required');
  }
  if (accountIds.length === 0 || accountIds.some((account) => typeof account !== 'string' || !account)) {
    throw new IntentTransitionError('invalid_accounts', id, undefined, 'select at least one account');
  }
  const now = ctx.clock.now();
  // Several accounts suit only the kinds that take many: a condition of the guarded UPDATE rather than a
  // read of the intent before it, refused (as invalid_accounts) before any status or expiry refusal.
  const severalForOne: Partial<Transition> =
    accountIds.length === 1
      ? {}
      : {
          allowedFor: (kind) => KIND_INFO[kind].accounts === 'many',
          kindRefusal: (current) =>
            new IntentTransitionError(
              'invalid_accounts',
              id,
              current.status,
              `a ${current.kind} intent is authorised for exactly one account`,
            ),
        };
  return transition(ctx, {
    id,
    from: ['AwaitingAuthorisation'],
    to: 'Authorised',
    event: 'authorised',
    actor: input.actor ?? 'psu',
    detail: input.detail ?? `customer ${input.customerId}; accounts ${accountIds.join(', ')}`,
    requireUnexpired: true,
    requireAuthorisationWindow: true,
    set: { customerId: input.customerId, accountIds, authorisedAt: now },
    ...severalForOne,
  });
}

export interface DecisionInput {
  actor?: Actor;
  detail?: string;
}

export interface ReauthenticateInput extends DecisionInput {
  /** The PSU who re-authenticated: the one who authorised it, or the change is refused. */
  customerId: string;
}

/**
 * The PSU re-authenticated an Authorised consent through a new authorization request naming the same
 * ConsentId: Authorised → Authorised, with its audit row (`reauthenticated`). Only the kinds whose profiles
 * allow it (`KIND_INFO[kind].reauthenticatable`: account access, VRP), only while unexpired ("A PSU can
 * re-authenticate an Account Access Consent if: the account-access-consent has a status of Authorised and the
 * ExpirationDateTime … has not elapsed", Account and Transaction API Profile v3.1.11 and v4.0, "Consent
 * Re-authentication"), and only by the customer who authorised it. Nothing else about the consent changes:
 * its ConsentId, permissions, expiry, accounts and `authorisedAt` stay as they were (the customer journey
 * says "all other elements of the consent … remain unchanged"); the authorization server then issues a new
 * code, and new tokens, bound to it. Tokens issued before stay as they were. A consent whose access the PSU
 * withdrew at the bank (`withdrawAccess`) is given it back: `accessWithdrawnAt` is cleared, so the new tokens
 * work (v4.0 account access reads `AUTH` again); the tokens that died with the withdrawal stay dead.
 */
export async function reauthenticate(
  ctx: ConsentContext,
  id: string,
  input: ReauthenticateInput,
): Promise<Intent> {
  if (!input.customerId) {
    throw new IntentTransitionError('wrong_customer', id, undefined, 'a customer id is required');
  }
  return transition(ctx, {
    id,
    from: ['Authorised'],
    to: 'Authorised',
    event: 'reauthenticated',
    actor: input.actor ?? 'psu',
    detail: input.detail ?? `re-authenticated by customer ${input.customerId}`,
    requireUnexpired: true,
    allowedFor: (kind) => KIND_INFO[kind].reauthenticatable,
    customerId: input.customerId,
    set: { accessWithdrawnAt: null },
  });
}

/** The PSU (or the bank) declined: AwaitingAuthorisation (or AwaitingUpload) → Rejected. */
export async function reject(ctx: ConsentContext, id: string, input: DecisionInput = {}): Promise<Intent> {
  return transition(ctx, {
    id,
    from: ['AwaitingAuthorisation', 'AwaitingUpload'],
    to: 'Rejected',
    event: 'rejected',
    actor: input.actor ?? 'psu',
    detail: input.detail,
    requireUnexpired: false,
  });
}

/** The payment (or standing order, or file) was submitted: Authorised → Consumed. Payment kinds only. */
export async function consume(ctx: ConsentContext, id: string, input: DecisionInput = {}): Promise<void> {
  // Unanswered: its one caller (a payment submission) holds the consent the guard read.
  return transition(
    ctx,
    {
      id,
      from: ['Authorised'],
      to: 'Consumed',
      event: 'consumed',
      actor: input.actor ?? 'tpp',
      detail: input.detail,
      requireUnexpired: true,
      allowedFor: (kind) => KIND_INFO[kind].consumable,
    },
    false,
  );
}

export interface RevocationContext extends ConsentContext {
  notifyRevoked: RevocationNotifier;
}

/**
 * The TPP deleted it, the bank withdrew it, or the PSU withdrew a consent at the bank whose access cannot be
 * given back (`withdrawAccess` for funds confirmation): → Revoked (kinds that can be revoked: account access,
 * funds confirmation, VRP), which is terminal. After the change is stored, `notifyRevoked` is told, so the
 * authorization server can kill every token resting on it on every instance. Revoking an intent that is
 * already Revoked notifies again and changes nothing (a retry after a failed notification).
 *
 * An authorised consent revoked by anyone but its TPP (the PSU at the bank, the bank itself) raises
 * `consent-authorization-revoked` for that TPP in the same transaction — `consent-access-revoked` when its
 * subscription is on v4.0, whose name that is for access withdrawn at the ASPSP: the profile's event is how
 * a TPP learns of a revocation made at the ASPSP. The TPP's own DELETE raises none — it made the change.
 */
export async function revoke(ctx: RevocationContext, id: string, input: DecisionInput = {}): Promise<Intent> {
  let intent: Intent;
  try {
    intent = await transition(ctx, {
      id,
      from: ['Authorised', 'AwaitingAuthorisation'],
      to: 'Revoked',
      event: 'revoked',
      actor: input.actor ?? 'psu',
      detail: input.detail,
      requireUnexpired: false,
      allowedFor: (kind) => KIND_INFO[kind].revocable,
      alsoRecord: async (tx, changed, from) => {
        if (from === 'Authorised') await raiseAccessEnded(tx, ctx.clock, changed, input.actor ?? 'psu');
      },
    });
  } catch (error) {
    if (
      error instanceof IntentTransitionError &&
      error.reason === 'wrong_status' &&
      error.status === 'Revoked'
    ) {
      const current = await getIntent(ctx.db, id);
      if (current) {
        await ctx.notifyRevoked(id);
        return current;
      }
    }
    throw error;
  }
  await ctx.notifyRevoked(id);
  return intent;
}

/**
 * The PSU withdrew the TPP's access at the bank (the consent dashboard). What the profiles say the consent
 * becomes differs by kind and version, and every rule rests on re-authenticating the SAME consent afterwards:
 * - account access, v3.1.11 — unchanged (`Authorised`), the tokens die: "The status of the
 *   account-access-consent must remain unchanged and the AISP must be allowed to request PSU to
 *   re-authenticate the same account-access-consent resource" (Account and Transaction API Profile v3.1.11,
 *   "Access Revocation"; its status table: Revoked "is not applicable for the resource created after
 *   Ver 3.1.4");
 * - account access, v4.0 — `CANC` with a reason, the tokens die, and re-authentication brings it "back to AUTH"
 *   (Account and Transaction API Profile v4.0, "Access Revocation":
 *   https://openbankinguk.github.io/read-write-api-site3/v4.0/profiles/account-and-transaction-api-profile.html#access-revocation);
 * - VRP, v4.0 and v3.1.10/11 alike — unchanged (`AUTH`, `Authorised`), only the tokens die: "The status of
 *   the domestic-vrp-consents resource must remain unchanged and the PISP must be allowed to request PSU to
 *   re-authenticate the same domestic-vrp-consents resource" (VRP Profile, "Consent Revocation":
 *   https://openbankinguk.github.io/read-write-api-site3/v4.0/profiles/vrp-profile.html#consent-revocation);
 * - funds confirmation — left to the bank ("in the competitive space", CoF Profile v4.0): this bank revokes it.
 *
 * So for the kinds that may be re-authenticated (`KIND_INFO[kind].reauthenticatable`) one stored fact serves
 * both versions: the intent stays Authorised and `accessWithdrawnAt` is set (the versions' wire status is
 * src/openbanking/versions.ts's `consentStatusOn`), with an `access-withdrawn` audit row and the same event a
 * revocation raises, in one transaction; `isUsable` refuses it from then on, and after the commit
 * `notifyRevoked` kills every token and refresh token resting on it on every instance. `reauthenticate`
 * clears it. Withdrawing again changes nothing and notifies again (a retry after a failed notification).
 * Every other kind goes to `revoke`. Refused unless Authorised (or already Revoked); an expired consent may
 * still be withdrawn.
 */
export async function withdrawAccess(
  ctx: RevocationContext,
  id: string,
  input: DecisionInput = {},
): Promise<Intent> {
  const found = await getIntent(ctx.db, id);
  // The kind never changes: read outside the transaction, it picks the rule. An already Revoked consent goes
  // to `revoke` too, which notifies again (a retry of an earlier revocation's failed notification).
  if (!found || !KIND_INFO[found.kind].reauthenticatable || found.status === 'Revoked')
    return revoke(ctx, id, input);
  const actor = input.actor ?? 'psu';
  let intent: Intent;
  try {
    intent = await transition(ctx, {
      id,
      from: ['Authorised'],
      to: 'Authorised',
      event: 'access-withdrawn',
      actor,
      detail: input.detail,
      requireUnexpired: false,
      requireAccess: true,
      allowedFor: (kind) => KIND_INFO[kind].reauthenticatable,
      set: { accessWithdrawnAt: ctx.clock.now() },
      alsoRecord: (tx, changed) => raiseAccessEnded(tx, ctx.clock, changed, actor),
    });
  } catch (error) {
    // Already withdrawn: nothing changes, the notification is repeated (a retry after it failed).
    if (error instanceof IntentTransitionError && error.reason === 'wrong_status') {
      const current = await getIntent(ctx.db, id);
      if (current?.status === 'Authorised' && current.accessWithdrawnAt !== undefined) {
        await ctx.notifyRevoked(id);
        return current;
      }
    }
    throw error;
  }
  await ctx.notifyRevoked(id);
  return intent;
}

/**
 * The TPP's event when anyone but the TPP itself (the PSU at the bank, the bank) ends its access to an
 * Authorised consent (`revoke`, `withdrawAccess`): `consent-authorization-revoked`, `consent-access-revoked`
 * for a subscription on v4.0. The TPP's own DELETE raises none — it made the change.
 */
async function raiseAccessEnded(tx: Queryable, clock: Clock, changed: Intent, actor: Actor): Promise<void> {
  if (actor === 'tpp') return;
  await raiseEvent(tx, clock, {
    clientId: changed.clientId,
    type: EVENT_TYPES.consentAuthorizationRevoked,
    v4Type: EVENT_TYPES.consentAccessRevoked,
    subject: { type: `${changed.kind}-consent`, id: changed.id, version: changed.apiVersion },
  });
}

export interface AccountSharingContext extends ConsentContext {
  notifyChanged: ConsentChangeNotifier;
}

/**
 * The PSU stopped sharing one account of an authorised, unexpired account-access consent; it keeps its other
 * accounts, and the TPP's tokens keep working for them. Refused (`invalid_accounts`) for an account the
 * consent does not hold, or for its only account: a consent with no account would be a revocation in
 * disguise, and the PSU withdraws it instead. In the same transaction `account-access-consent-linked-account-update`
 * is raised for the TPP (without a reason: OB's reason codes name a closed or switched account); after the
 * commit `notifyChanged` drops the consent from every instance's caches.
 */
export async function stopSharingAccount(
  ctx: AccountSharingContext,
  id: string,
  accountId: string,
  input: DecisionInput = {},
): Promise<Intent> {
  const now = ctx.clock.now();
  const step: Transition = {
    id,
    from: ['Authorised'],
    to: 'Authorised',
    event: 'account-removed',
    actor: input.actor ?? 'psu',
    detail: input.detail,
    requireUnexpired: true,
    allowedFor: (kind) => kind === 'account-access',
  };
  const changed = await ctx.db.transaction(async (tx) => {
    const locked = await tx.select().from(consentIntents).where(eq(consentIntents.id, id)).for('update');
    const current = locked[0] ? toIntent(locked[0]) : undefined;
    const refusal = refusalOf(step, current, now);
    if (refusal) throw refusal;
    const intent = current!;
    if (!intent.accountIds.includes(accountId) || intent.accountIds.length < 2) {
      throw new IntentTransitionError(
        'invalid_accounts',
        id,
        intent.status,
        intent.accountIds.includes(accountId)
          ? `account ${accountId} is the only account of intent ${id}: revoke the consent instead`
          : `account ${accountId} is not shared under intent ${id}`,
      );
    }
    const [row] = await tx
      .update(consentIntents)
      .set({ accountIds: intent.accountIds.filter((shared) => shared !== accountId) })
      .where(eq(consentIntents.id, id))
      .returning();
    await tx.insert(consentAudit).values({
      intentId: id,
      at: now,
      actor: step.actor,
      event: step.event,
      fromStatus: null,
      toStatus: null,
      detail: input.detail ?? `account ${accountId}`,
    });
    await raiseEvent(tx, ctx.clock, {
      clientId: intent.clientId,
      type: EVENT_TYPES.linkedAccountUpdate,
      subject: { type: 'account-access-consent', id, version: intent.apiVersion },
    });
    return toIntent(row!);
  });
  await ctx.notifyChanged(id);
  return changed;
}

/**
 * The TPP used the intent (read accounts, confirmed funds, made a VRP payment): sets `lastUsedAt` and
 * appends a `used` audit entry. Refused unless the intent is usable: Authorised, unexpired, its access not
 * withdrawn at the bank.
 */
export async function recordUse(ctx: ConsentContext, id: string, detail?: string): Promise<Intent> {
  const now = ctx.clock.now();
  const row = await updateAudited(
    ctx.db,
    id,
    { lastUsedAt: now },
    { status: 'Authorised', access: true, unexpired: true },
    { at: now, actor: 'tpp', event: 'used', from: null, to: null, detail: detail ?? null },
    now,
  );
  if (row) return toIntent(row);
  const step: Transition = {
    id,
    from: ['Authorised'],
    to: 'Authorised',
    event: 'used',
    actor: 'tpp',
    detail,
    requireUnexpired: true,
    requireAccess: true,
  };
  throw (
    refusalOf(step, await getIntent(ctx.db, id), now) ??
    new IntentTransitionError('wrong_status', id, undefined, `intent ${id} changed concurrently`)
  );
}

export interface MigrationInput {
  /** The version the intent must still be on (a concurrent migration makes this one fail). */
  fromVersion: string;
  toVersion: string;
  /** The intent's `Data` and `Risk` as the new version writes them. */
  data: JsonObject;
  risk: JsonObject;
  detail?: string;
}

/**
 * The TPP moved an authorised intent to a newer Read/Write version without asking the PSU again: its
 * `Data` and `Risk` are replaced by their new version's form and its version recorded, in one transaction
 * with a `migrated` audit entry. Its status, PSU, accounts, dates and expiry stay as they are. Refused
 * unless the intent is Authorised, unexpired and still on `fromVersion`.
 */
export async function migrateIntent(ctx: ConsentContext, id: string, input: MigrationInput): Promise<Intent> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const locked = await tx.select().from(consentIntents).where(eq(consentIntents.id, id)).for('update');
    const current = locked[0] ? toIntent(locked[0]) : undefined;
    const step: Transition = {
      id,
      from: ['Authorised'],
      to: 'Authorised',
      event: 'migrated',
      actor: 'tpp',
      detail: input.detail,
      requireUnexpired: true,
    };
    const refusal = refusalOf(step, current, now);
    if (refusal) throw refusal;
    if (current!.apiVersion !== input.fromVersion)
      throw new IntentTransitionError(
        'wrong_status',
        id,
        current!.status,
        `intent ${id} is on ${current!.apiVersion ?? 'no version'}, not ${input.fromVersion}`,
      );
    const [row] = await tx
      .update(consentIntents)
      .set({ data: input.data, risk: input.risk, apiVersion: input.toVersion })
      .where(eq(consentIntents.id, id))
      .returning();
    await tx.insert(consentAudit).values({
      intentId: id,
      at: now,
      actor: 'tpp',
      event: 'migrated',
      fromStatus: current!.status,
      toStatus: current!.status,
      detail: input.detail ?? `moved from ${input.fromVersion} to ${input.toVersion}`,
    });
    return toIntent(row!);
  });
}
