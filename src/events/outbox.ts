import { and, asc, count, eq, gt, inArray, isNull, lte } from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import type { Queryable } from '../store/index.ts';
import { eventNotifications } from '../store/schema/events.ts';

export type StoredEvent = typeof eventNotifications.$inferSelect;

/** A TPP's negative acknowledgement of one event (`setErrs`): an RFC 8935 error code and a description. */
export interface EventError {
  err: string;
  description: string;
}

/** What a TPP has not yet taken: unacknowledged, not delivered by push, unexpired. */
const pendingFor = (clientId: string, now: Date) =>
  and(
    eq(eventNotifications.clientId, clientId),
    isNull(eventNotifications.acknowledgedAt),
    isNull(eventNotifications.deliveredAt),
    gt(eventNotifications.expiresAt, now),
  );

/**
 * Positive acknowledgements: the TPP's own pending events among `jtis` are marked acknowledged. Another
 * TPP's jti, or one already acknowledged or unknown, changes nothing (nothing tells the caller it exists).
 */
export async function acknowledgeEvents(
  db: Queryable,
  clock: Clock,
  clientId: string,
  jtis: readonly string[],
): Promise<void> {
  if (jtis.length === 0) return;
  const now = clock.now();
  await db
    .update(eventNotifications)
    .set({ acknowledgedAt: now, nextAttemptAt: null })
    .where(and(pendingFor(clientId, now), inArray(eventNotifications.id, [...jtis])));
}

/**
 * Negative acknowledgements (`setErrs`): the TPP received the event and could not process it. The error is
 * recorded and the event is not handed out again — RFC 8936 treats an error as the recipient's answer for
 * that SET, and re-sending the same signed facts would fail the same way; the bank reads the error instead.
 */
export async function recordEventErrors(
  db: Queryable,
  clock: Clock,
  clientId: string,
  errors: Readonly<Record<string, EventError>>,
): Promise<void> {
  const now = clock.now();
  for (const [jti, error] of Object.entries(errors)) {
    await db
      .update(eventNotifications)
      .set({ acknowledgedAt: now, error, nextAttemptAt: null })
      .where(and(pendingFor(clientId, now), eq(eventNotifications.id, jti)));
  }
}

/** Up to `limit` of a TPP's pending events, oldest first, and whether more wait behind them. */
export async function pendingEvents(
  db: Queryable,
  clock: Clock,
  clientId: string,
  limit: number,
): Promise<{ events: StoredEvent[]; moreAvailable: boolean }> {
  const now = clock.now();
  const events =
    limit > 0
      ? await db
          .select()
          .from(eventNotifications)
          .where(pendingFor(clientId, now))
          .orderBy(asc(eventNotifications.createdAt), asc(eventNotifications.id))
          .limit(limit)
      : [];
  const [total] = await db.select({ n: count() }).from(eventNotifications).where(pendingFor(clientId, now));
  return { events, moreAvailable: (total?.n ?? 0) > events.length };
}

/** Drops a TPP's expired events: nobody may be given them any more. */
export async function purgeExpiredEvents(db: Queryable, clock: Clock, clientId: string): Promise<void> {
  await db
    .delete(eventNotifications)
    .where(and(eq(eventNotifications.clientId, clientId), lte(eventNotifications.expiresAt, clock.now())));
}

/** An event by its jti, whoever owns it (tests and the operator). */
export async function getEvent(db: Queryable, jti: string): Promise<StoredEvent | undefined> {
  const [row] = await db.select().from(eventNotifications).where(eq(eventNotifications.id, jti));
  return row;
}
