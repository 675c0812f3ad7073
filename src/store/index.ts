export { openStore, migrationsFolder, isListenerConnection } from './database.ts';
export { CHANGE_VERSION_CHANNEL, type CacheLease } from './cache-lease.ts';
export { inTransaction } from './transactions.ts';
export { preparedRows, preparedSql, preparedStatement, type PreparedStatement } from './prepared.ts';
export {
  idempotencyKeys,
  startIdempotencyKeySweeper,
  type IdempotencyKeys,
  type IdempotencyAnswer,
  type IdempotencyKeyOf,
} from './idempotency.ts';
export { rowAsText, type RowAsText } from './text-row.ts';
export { EmbeddedReader, type EmbeddedReads } from './embedded-reads.ts';
export { EmbeddedPrepared } from './embedded-prepared.ts';
export { embeddedHandleOf } from './embedded-parsers.ts';
export type {
  Store,
  StoreOptions,
  Database,
  Transaction,
  Queryable,
  Backend,
  PoolStats,
} from './database.ts';
export * as schema from './schema/index.ts';
export * from './settings.ts';
export { changeVersionOf, currentChangeVersion, oneRow } from './change-version.ts';
