import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Queryable, Transaction } from './database.ts';

/**
 * Runs `work` in a transaction: a new one on the database, or — when `db` already is one — the caller's,
 * without the SAVEPOINT/RELEASE pair a nested `db.transaction` costs (two more statements). The work then
 * succeeds or fails with its caller's transaction: use it only where every error thrown after a write
 * propagates (rolling the caller back) and any error a caller catches is thrown before the first write.
 */
export async function inTransaction<T>(db: Queryable, work: (tx: Transaction) => Promise<T>): Promise<T> {
  if (db instanceof PgTransaction) return work(db as Transaction);
  return db.transaction(work);
}
