import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray, isNotNull, isNull, lte, min, sql } from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import type { Database } from '../store/index.ts';
import { eventDeliveries, eventNotifications, eventSubscriptions } from '../store/schema/events.ts';
import type { StoredEvent } from './outbox.ts';

/** NOTIFY channel of events raised for a TPP that takes them by push (payload: its client id). */
export const EVENT_RAISED_CHANNEL = 'events_raised';

/**
 * NOTIFY channel of each push attempt recorded in the delivery log (payload: the event id), on commit:
 * what an operator's console (or a test) follows instead of polling the log.
 */
export const EVENT_PUSH_ATTEMPTED_CHANNEL = 'event_push_attempted';

/** How pushing is retried: the budget of attempts and the exponential back-off between them. */
export interface PushRetryPolicy {
  /** Attempts per event; after the last failure the event waits for polling. */
  maxAttempts: number;
  /** The wait after the first failure; doubled after each further one. */
  backoffMs: number;
  /** The longest wait between two attempts. */
  maxBackoffMs: number;
  /**
   * How long a claimed attempt holds its event: no other instance attempts it meanwhile, and an instance
   * that died mid-attempt leaves it due again afterwards. Longer than one attempt's timeout.
   */
  leaseMs: number;
}

export interface ClaimedEvent {
  event: StoredEvent;
  callbackUrl: string;
  /** This attempt's number (1 for the first). */
  attempt: number;
}

/** Waiting for push: an attempt scheduled, not delivered, not acknowledged by polling, unexpired. */
const awaitingPush = (now: Date) =>
  and(
    isNotNull(eventNotifications.nextAttemptAt),
    isNull(eventNotifications.deliveredAt),
    isNull(eventNotifications.acknowledgedAt),
    gt(eventNotifications.expiresAt, now),
  );

/**
 * Claims up to `limit` due events of TPPs that have a callback, for one attempt each: the rows are locked
 * with `for update skip locked` (another instance claiming at once takes others), and in the same
 * transaction their attempt is counted and their next attempt put off by the lease — so each event has
 * exactly one attempt in flight across every instance, and the lock is not held while the TPP answers.
 */
export async function claimDueEvents(
  db: Database,
  clock: Clock,
  policy: PushRetryPolicy,
  limit: number,
): Promise<ClaimedEvent[]> {
  const now = clock.now();
  return db.transaction(async (tx) => {
    const due = await tx
      .select({ id: eventNotifications.id, callbackUrl: eventSubscriptions.callbackUrl })
      .from(eventNotifications)
      .innerJoin(eventSubscriptions, eq(eventSubscriptions.clientId, eventNotifications.clientId))
      .where(
        and(
          awaitingPush(now),
          lte(eventNotifications.nextAttemptAt, now),
          isNotNull(eventSubscriptions.callbackUrl),
        ),
      )
      .orderBy(asc(eventNotifications.nextAttemptAt))
      .limit(limit)
      .for('update', { of: eventNotifications, skipLocked: true });
    if (due.length === 0) return [];
    const claimed = await tx
      .update(eventNotifications)
      .set({
        attempts: sql`${eventNotifications.attempts} + 1`,
        nextAttemptAt: new Date(now.getTime() + policy.leaseMs),
      })
      .where(
        inArray(
          eventNotifications.id,
          due.map((row) => row.id),
        ),
      )
      .returning();
    const callbacks = new Map(due.map((row) => [row.id, row.callbackUrl ?? '']));
    return claimed.map((event) => ({
      event,
      callbackUrl: callbacks.get(event.id) ?? '',
      attempt: event.attempts,
    }));
  });
}

/** What one attempt came to: the TPP's HTTP status, or the error that left no answer. */
export type PushOutcome = { status: number; error?: undefined } | { status?: undefined; error: string };

/**
 * Records an attempt in the delivery log and its consequence: a 202 delivers the event (polling hands it
 * out no more); any other answer or none schedules the next attempt after the back-off, or, once the
 * budget is spent, stops pushing (the event stays for polling until acknowledged or expired).
 */
export async function recordPushAttempt(
  db: Database,
  clock: Clock,
  policy: PushRetryPolicy,
  claimed: ClaimedEvent,
  outcome: PushOutcome,
): Promise<void> {
  const now = clock.now();
  const delivered = outcome.status === 202;
  const backoff = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (claimed.attempt - 1));
  const next = delivered || claimed.attempt >= policy.maxAttempts ? null : new Date(now.getTime() + backoff);
  await db.transaction(async (tx) => {
    await tx.insert(eventDeliveries).values({
      id: randomUUID(),
      eventId: claimed.event.id,
      attempt: claimed.attempt,
      at: now,
      callbackUrl: claimed.callbackUrl,
      status: outcome.status ?? null,
      error: outcome.error ?? null,
    });
    await tx
      .update(eventNotifications)
      .set(delivered ? { deliveredAt: now, nextAttemptAt: null } : { nextAttemptAt: next })
      // An event acknowledged by polling meanwhile keeps its cleared schedule.
      .where(and(eq(eventNotifications.id, claimed.event.id), isNull(eventNotifications.acknowledgedAt)));
    await tx.execute(sql`select pg_notify(${EVENT_PUSH_ATTEMPTED_CHANNEL}, ${claimed.event.id})`);
  });
}

/**
 * When the next push attempt falls due (of an event whose TPP still has a callback); undefined when none
 * waits.
 */
export async function nextPushDue(db: Database, clock: Clock): Promise<Date | undefined> {
  const [row] = await db
    .select({ at: min(eventNotifications.nextAttemptAt) })
    .from(eventNotifications)
    .innerJoin(eventSubscriptions, eq(eventSubscriptions.clientId, eventNotifications.clientId))
    .where(and(awaitingPush(clock.now()), isNotNull(eventSubscriptions.callbackUrl)));
  return row?.at ?? undefined;
}

export type PushDelivery = typeof eventDeliveries.$inferSelect;

/** The delivery log of an event, oldest attempt first (the operator's view). */
export async function pushDeliveriesOf(db: Database, eventId: string): Promise<PushDelivery[]> {
  return db
    .select()
    .from(eventDeliveries)
    .where(eq(eventDeliveries.eventId, eventId))
    .orderBy(asc(eventDeliveries.attempt));
}

/** The delivery backlog at `now`: events waiting for a push attempt (due or backing off), and those due now. */
export async function pushBacklog(db: Database, clock: Clock): Promise<{ waiting: number; due: number }> {
  const now = clock.now();
  const [row] = await db
    .select({
      waiting: sql<number>`count(*)::int`,
      due: sql<number>`(count(*) filter (where ${lte(eventNotifications.nextAttemptAt, now)}))::int`,
    })
    .from(eventNotifications)
    .where(awaitingPush(now));
  return { waiting: Number(row?.waiting ?? 0), due: Number(row?.due ?? 0) };
}
