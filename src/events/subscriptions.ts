import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Clock } from '../shared/clock.ts';
import type { Queryable } from '../store/index.ts';
import { eventSubscriptions } from '../store/schema/events.ts';
import type { EventType } from './types.ts';

export interface EventSubscription {
  id: string;
  clientId: string;
  /** The Read/Write version it was created on. */
  apiVersion: string;
  /** The event notification version the TPP named (`Version`). */
  version: string;
  callbackUrl: string | undefined;
  /** The types it takes; undefined: every type. */
  eventTypes: EventType[] | undefined;
}

export interface SubscriptionInput {
  version: string;
  callbackUrl: string | undefined;
  eventTypes: EventType[] | undefined;
}

/** A TPP asked for a second subscription: the bank keeps one per TPP (OB answers 409). */
export class SubscriptionExistsError extends Error {
  override name = 'SubscriptionExistsError';
  readonly existingId: string;
  constructor(existingId: string) {
    super(`the TPP already has event subscription ${existingId}`);
    this.existingId = existingId;
  }
}

function toSubscription(row: typeof eventSubscriptions.$inferSelect): EventSubscription {
  return {
    id: row.id,
    clientId: row.clientId,
    apiVersion: row.apiVersion,
    version: row.version,
    callbackUrl: row.callbackUrl ?? undefined,
    eventTypes: (row.eventTypes as EventType[] | null) ?? undefined,
  };
}

/** `es-<uuid>`: within OB's 40 characters. */
function newSubscriptionId(): string {
  return `es-${randomUUID()}`;
}

export async function createSubscription(
  db: Queryable,
  clock: Clock,
  clientId: string,
  apiVersion: string,
  input: SubscriptionInput,
): Promise<EventSubscription> {
  const [row] = await db
    .insert(eventSubscriptions)
    .values({
      id: newSubscriptionId(),
      clientId,
      apiVersion,
      version: input.version,
      callbackUrl: input.callbackUrl ?? null,
      eventTypes: input.eventTypes ?? null,
      createdAt: clock.now(),
    })
    .onConflictDoNothing({ target: eventSubscriptions.clientId })
    .returning();
  if (row) return toSubscription(row);
  const existing = await subscriptionsOf(db, clientId);
  throw new SubscriptionExistsError(existing[0]?.id ?? 'unknown');
}

export async function subscriptionsOf(db: Queryable, clientId: string): Promise<EventSubscription[]> {
  const rows = await db.select().from(eventSubscriptions).where(eq(eventSubscriptions.clientId, clientId));
  return rows.map(toSubscription);
}

/** Replaces the TPP's own subscription `id`; undefined when it has none of that id. */
export async function updateSubscription(
  db: Queryable,
  clientId: string,
  id: string,
  input: SubscriptionInput,
): Promise<EventSubscription | undefined> {
  const [row] = await db
    .update(eventSubscriptions)
    .set({
      version: input.version,
      callbackUrl: input.callbackUrl ?? null,
      eventTypes: input.eventTypes ?? null,
    })
    .where(and(eq(eventSubscriptions.id, id), eq(eventSubscriptions.clientId, clientId)))
    .returning();
  return row ? toSubscription(row) : undefined;
}

/** Deletes the TPP's own subscription `id`; false when it has none of that id. Raised events stay pollable. */
export async function deleteSubscription(db: Queryable, clientId: string, id: string): Promise<boolean> {
  const rows = await db
    .delete(eventSubscriptions)
    .where(and(eq(eventSubscriptions.id, id), eq(eventSubscriptions.clientId, clientId)))
    .returning({ id: eventSubscriptions.id });
  return rows.length > 0;
}
