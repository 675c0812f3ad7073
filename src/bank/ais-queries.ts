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
