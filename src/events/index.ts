/**
 * src/events: the events the bank raises for TPPs (OB Event Notification APIs). Rows written in the
 * transaction of the change that causes them (`raiseEvent`), kept in a durable outbox until the TPP
 * acknowledges them by polling or they expire; the TPPs' subscriptions. No HTTP and no keys here: the
 * Read/Write layer (src/openbanking/events) signs and serves them.
 */
export * from './types.ts';
export * from './raise.ts';
export * from './outbox.ts';
export * from './subscriptions.ts';
export * from './push-outbox.ts';
