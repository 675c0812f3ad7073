import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * Event notifications (issue 16), owned by src/events. `event_notifications` is the outbox: one row per
 * event the bank raised for a TPP, written in the transaction of the change that caused it, kept until the
 * TPP acknowledges it (or reports an error for it) by polling, or it expires. The delivery columns are for
 * real-time push: a deliverer claims due rows with `for update skip locked`. `event_subscriptions` is what
 * a TPP asked for: at most one per client, with a callback URL for push or none to poll.
 */
const ts = (name: string) => timestamp(name, { withTimezone: true });

export const eventSubscriptions = pgTable(
  'event_subscriptions',
  {
    /** EventSubscriptionId (at most 40 characters). */
    id: text('id').primaryKey(),
    clientId: text('client_id').notNull(),
    /** The Read/Write version it was created on (`v3.1.11`, `v4.0`): where its links point. */
    apiVersion: text('api_version').notNull(),
    /** The `Version` the TPP gave (the event notification version it wants). */
    version: text('version').notNull(),
    callbackUrl: text('callback_url'),
    /** Event type URNs it wants; null: every type. */
    eventTypes: jsonb('event_types').$type<string[]>(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('event_subscriptions_client_ux').on(t.clientId)],
);

export const eventNotifications = pgTable(
  'event_notifications',
  {
    /** The SET's `jti`. */
    id: text('id').primaryKey(),
    /** The TPP (client) that owns the resource: the only one the event is ever given to. */
    clientId: text('client_id').notNull(),
    /** The event type URN (`urn:uk:org:openbanking:events:resource-update`, …). */
    type: text('type').notNull(),
    /** `http://openbanking.org.uk/rty`: account-access-consent, domestic-payment, … */
    resourceType: text('resource_type').notNull(),
    /** `http://openbanking.org.uk/rid`. */
    resourceId: text('resource_id').notNull(),
    /**
     * The Read/Write version a consent was staged on (the oldest its links may name); null for payments,
     * which follow their consent's version (looked up when the event is handed out).
     */
    resourceVersion: text('resource_version'),
    /** The event's own claims besides `subject` (e.g. `reason`). */
    detail: jsonb('detail').$type<Record<string, string>>().notNull(),
    /** `txn`: ties events raised by one change together. */
    txn: text('txn').notNull(),
    /** `toe`: when the change happened (the bank's clock). */
    occurredAt: ts('occurred_at').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    /** When the TPP positively acknowledged it (`ack`), or reported an error for it (`setErrs`). */
    acknowledgedAt: ts('acknowledged_at'),
    /** The TPP's negative acknowledgement: `{ err, description }`. */
    error: jsonb('error').$type<{ err: string; description: string }>(),
    /** Real-time push: attempts made, when the next is due, when one succeeded. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at'),
    deliveredAt: ts('delivered_at'),
  },
  (t) => [
    // Polling: a client's pending events, oldest first.
    index('event_notifications_pending_ix')
      .on(t.clientId, t.createdAt)
      .where(sql`${t.acknowledgedAt} is null and ${t.deliveredAt} is null`),
    // Push: events due for an attempt.
    index('event_notifications_due_ix')
      .on(t.nextAttemptAt)
      .where(
        sql`${t.nextAttemptAt} is not null and ${t.deliveredAt} is null and ${t.acknowledgedAt} is null`,
      ),
    index('event_notifications_expiry_ix').on(t.expiresAt),
  ],
);

/**
 * The push delivery log (issue 16): one row per attempt to POST an event to its TPP's callback, with the
 * HTTP status the TPP answered or the error that stopped the attempt. What the operator reads to see why
 * an event was not delivered; never read by the bank's own logic.
 */
export const eventDeliveries = pgTable(
  'event_deliveries',
  {
    id: text('id').primaryKey(),
    eventId: text('event_id').notNull(),
    /** Which attempt this was (1, 2, …). */
    attempt: integer('attempt').notNull(),
    at: ts('at').notNull(),
    callbackUrl: text('callback_url').notNull(),
    /** The TPP's HTTP status; null when no answer came (connection, TLS, timeout). */
    status: integer('status'),
    error: text('error'),
  },
  (t) => [index('event_deliveries_event_ix').on(t.eventId, t.at)],
);
