import { randomUUID } from 'node:crypto';
import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import { preparedSql, type Queryable } from '../store/index.ts';
import { eventNotifications, eventSubscriptions } from '../store/schema/events.ts';
import { EVENT_RAISED_CHANNEL } from './push-outbox.ts';
import type { EventType } from './types.ts';

/** How long an event waits to be acknowledged before it is dropped (documented in the README). */
export const EVENT_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** The resource an event is about: its OB resource type (`rty`), id (`rid`) and the version it was made on. */
export interface EventSubject {
  type: string;
  id: string;
  /** The Read/Write version a consent was staged on; undefined for a payment (it follows its consent). */
  version: string | undefined;
}

export interface RaisedEvent {
  /** The TPP (client) owning the resource: the only one the event is given to. */
  clientId: string;
  type: EventType;
  /**
   * The type a subscriber on v4.0 is given instead (its subscription's `Version`), when v4.0 names the same
   * cause differently — access withdrawn at the bank is `consent-access-revoked` there. A v4.0 subscriber
   * that listed only `type` (kept by v4.0 for backward compatibility) still gets `type`.
   */
  v4Type?: EventType;
  subject: EventSubject;
  /** The event's claims besides `subject`, e.g. `{ reason }`. */
  detail?: Record<string, string>;
  /** Ties events of one change together (`txn`); a new id when not given. */
  txn?: string;
}

/**
 * Records an event in `tx` — the transaction of the change that causes it, so the event exists exactly when
 * the change does. Its type is `v4Type` for a v4.0 subscriber when given (its `Version` is `4`, `v4`, `4.…` or
 * `v4.…`), else `type`. It is recorded only for a TPP that subscribed to that type (a subscription without
 * `EventTypes` takes every type): one INSERT … SELECT, nothing written for the rest. The SET is not signed
 * here: it is signed when it is handed out (src/openbanking/events), with the bank's current key and links
 * to the versions served then, and the bank core needs no key.
 *
 * For a TPP whose subscription has a callback the event is due for push at once, and the deliverers are
 * woken on commit (NOTIFY is transactional: never for an event rolled back).
 */
export async function raiseEvent(tx: Queryable, clock: Clock, event: RaisedEvent): Promise<void> {
  await tx.execute(raiseEventSql(eventValues(clock, event)));
}

/** The values `raiseEvent`'s statement takes, by name. */
const EVENT_FIELDS = [
  'id',
  'clientId',
  'type',
  'v4Type',
  'resourceType',
  'resourceId',
  'resourceVersion',
  'detail',
  'txn',
  'now',
  'expiresAt',
] as const;
type EventValues = Record<(typeof EVENT_FIELDS)[number], unknown>;

/** The statement's values of `event` raised now (ids drawn here). */
function eventValues(clock: Clock, event: RaisedEvent): EventValues {
  const now = clock.now();
  return {
    id: randomUUID(),
    clientId: event.clientId,
    type: event.type,
    v4Type: event.v4Type ?? null,
    resourceType: event.subject.type,
    resourceId: event.subject.id,
    resourceVersion: event.subject.version ?? null,
    detail: JSON.stringify(event.detail ?? {}),
    txn: event.txn ?? randomUUID(),
    now: now.toISOString(),
    expiresAt: new Date(now.getTime() + EVENT_LIFETIME_MS).toISOString(),
  };
}

/** `raiseEvent`'s statement, each of `v` a value or a placeholder. */
function raiseEventSql(v: EventValues, alongside?: SQLWrapper): SQL {
  return sql`
    with ${alongside ? sql`alongside as (${alongside.getSQL()}), ` : sql``}raised as (${raisedInsertSql(v)})
    select ${notifyRaisedSql} from raised where next_attempt_at is not null
  `;
}

/**
 * The insert of the event's rows (`raised`: one per subscription of its client that takes its type), each of
 * `v` a value or a placeholder; with `onlyIf`, a further condition on the statement it is part of.
 */
function raisedInsertSql(v: EventValues, onlyIf?: SQL): SQL {
  return sql`
      insert into ${eventNotifications} (
        id, client_id, type, resource_type, resource_id, resource_version, detail, txn,
        occurred_at, created_at, expires_at, next_attempt_at
      )
      select ${v.id}::text, ${v.clientId}::text, chosen.type, ${v.resourceType}::text, ${v.resourceId}::text,
        ${v.resourceVersion}::text, ${v.detail}::jsonb, ${v.txn}::text,
        ${v.now}::timestamptz, ${v.now}::timestamptz, ${v.expiresAt}::timestamptz,
        case when ${eventSubscriptions.callbackUrl} is not null then ${v.now}::timestamptz end
      from ${eventSubscriptions}
      cross join lateral (
        select case
          when ${v.v4Type}::text is not null and ${eventSubscriptions.version} ~ '^v?4([.]|$)'
            and (${eventSubscriptions.eventTypes} is null or ${eventSubscriptions.eventTypes} ? ${v.v4Type}::text)
          then ${v.v4Type}::text else ${v.type}::text end as type
      ) as chosen
      where ${eventSubscriptions.clientId} = ${v.clientId}::text
        and (${eventSubscriptions.eventTypes} is null or ${eventSubscriptions.eventTypes} ? chosen.type)${onlyIf ? sql` and ${onlyIf}` : sql``}
      returning client_id, next_attempt_at
    `;
}

/** Wakes the deliverers of a raised row's client (NOTIFY: sent on commit, never for a rollback). */
const notifyRaisedSql = sql`pg_notify(${EVENT_RAISED_CHANNEL}, client_id)`;

const EVENT_PLACEHOLDERS = Object.fromEntries(
  EVENT_FIELDS.map((field) => [field, sql.placeholder(`event_${field}`)]),
) as EventValues;

/**
 * `raiseEvent` as parts of another statement, for a change written by a statement `preparedRaiseEvent`'s
 * single CTE cannot hold (one that is itself a `with` of several writes, e.g. the ledger's posting: a
 * data-modifying `with` must be the statement's own). `cte` is the event's write, named `raised`, made only when
 * `onlyIf` holds (a condition on the rest of the statement, e.g. that the change was written); `notify`, a
 * scalar expression to evaluate once in the statement's result, wakes the deliverers of the events due for
 * push (NOTIFY on commit). The values are placeholders: `raisedEventValues`.
 */
export function raisedEventParts(onlyIf: SQL): { cte: SQL; notify: SQL } {
  return {
    cte: sql`raised as (${raisedInsertSql(EVENT_PLACEHOLDERS, onlyIf)})`,
    notify: sql`(select count(${notifyRaisedSql}) from raised where next_attempt_at is not null)`,
  };
}

/** The placeholders' values of `raisedEventParts` for `event` raised now. */
export function raisedEventValues(clock: Clock, event: RaisedEvent): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(eventValues(clock, event)).map(([field, value]) => [`event_${field}`, value]),
  );
}

/**
 * `raiseEvent` with the change itself in the same statement (`alongside`: one data-modifying statement
 * without RETURNING, e.g. the payment's insert, sent as a CTE, so the two are written together — one round
 * trip, one parse and plan), prepared once (`preparedSql`: a named statement on
 * PostgreSQL, parsed and planned once per connection). `alongside` writes its values as placeholders; the
 * returned function is given their values with the event.
 */
export function preparedRaiseEvent(
  name: string,
  alongside: (db: Queryable) => SQLWrapper,
): (
  tx: Queryable,
  clock: Clock,
  event: RaisedEvent,
  alongsideValues: Record<string, unknown>,
) => Promise<void> {
  const statement = preparedSql(name, (db) => raiseEventSql(EVENT_PLACEHOLDERS, alongside(db)));
  return async (tx, clock, event, alongsideValues) => {
    await statement(tx).execute({ ...raisedEventValues(clock, event), ...alongsideValues });
  };
}
