/**
 * Read queries the Account Information API needs beyond the per-resource lists of customers.ts: the
 * balances of several accounts in one query (the bulk `/balances`).
 */
import { and, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { schema } from '../store/index.ts';
import type { Balance } from './ledger.ts';
import { fromMinor } from './money.ts';

const { bankAccounts } = schema;

/**
 * The cached balances (maintained with every posting, proven by `verifyLedger`) of the customer accounts
 * among `accountIds`, in the order asked; unknown and internal ids are left out.
 */
export async function balancesOf(db: Queryable, accountIds: readonly string[]): Promise<Balance[]> {
  if (accountIds.length === 0) return [];
  const rows = await db
    .select({
      accountId: bankAccounts.id,
      currency: bankAccounts.currency,
      bookedMinor: bankAccounts.bookedMinor,
      pendingDebitMinor: bankAccounts.pendingDebitMinor,
      pendingCreditMinor: bankAccounts.pendingCreditMinor,
      creditLimitMinor: bankAccounts.creditLimitMinor,
      creditLineType: bankAccounts.creditLineType,
    })
    .from(bankAccounts)
    .where(and(inArray(bankAccounts.id, [...accountIds]), sql`${bankAccounts.internalPurpose} is null`));
  const byId = new Map(
    rows.map((row) => {
      const availableMinor = row.bookedMinor + row.pendingDebitMinor;
      const balance: Balance = {
        ...row,
        availableMinor,
        booked: fromMinor(row.bookedMinor, row.currency),
        available: fromMinor(availableMinor, row.currency),
      };
      return [row.accountId, balance] as const;
    }),
  );
  return accountIds.flatMap((id) => byId.get(id) ?? []);
}

/**
 * A version of the ledger of `accountIds` that changes whenever any of their transactions could have: every
 * posting, and every change of a posting's status, updates its account's row (the cached balances) in the
 * same database transaction, so the row's `xmin` (the transaction that last wrote it, visible only once it
 * committed) moves with them on every instance. One primary-key read, however long the history; an account
 * that does not exist reads as absent. Other writes to the row (a nickname, a status) move it too: a
 * cache keyed by it is only ever dropped too often, never served stale.
 */
export async function ledgerVersionOf(db: Queryable, accountIds: readonly string[]): Promise<string> {
  if (accountIds.length === 0) return '';
  const rows = await db
    .select({ id: bankAccounts.id, version: sql<string>`${bankAccounts}.xmin::text` })
    .from(bankAccounts)
    .where(inArray(bankAccounts.id, [...accountIds]));
  const byId = new Map(rows.map((row) => [row.id, row.version]));
  return accountIds.map((id) => byId.get(id) ?? '-').join(',');
}
