/**
 * Read queries the Account Information API needs beyond the per-resource lists of customers.ts: the
 * balances of several accounts in one query (the bulk `/balances`).
 */
import { and, inArray, isNull, sql } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { currentChangeVersion, oneRow, schema } from '../store/index.ts';
import type { AccountRecord } from './customers.ts';
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
 * What a read folded with the store's change version answers: the data, and the change version its
 * statement's snapshot saw (the caller checks that the request was checked under at least that one).
 */
export interface WithChangeVersion<T> {
  changeVersion: number;
  value: T;
}

/**
 * The customer accounts among `ids` (a placeholder: one text array, which may be empty), for statements
 * prepared once and run many times.
 */
const idAmongPlaceholder = sql`${bankAccounts.id} = any(${sql.placeholder('ids')})`;

/** The version of a `bank_accounts` row: the transaction that last wrote it (moves with every write). */
const rowVersion = sql<string>`${bankAccounts}.xmin::text`;

/** A customer account and its row's version (`ledgerVersionsOf` reads the same version alone). */
export interface VersionedAccount {
  record: AccountRecord;
  version: string;
}

/**
 * The customer accounts among `accountIds` by id (as `getAccounts`; unknown and internal ones absent), each
 * with its row's version, and the store's change version, in one statement: one round trip for
 * `/accounts/{AccountId}` on PostgreSQL. Prepared once (a named statement: PostgreSQL parses and plans it
 * once per connection, and drizzle builds it once), run on every read.
 */
export function accountsWithChangeVersion(
  db: Queryable,
): (accountIds: readonly string[]) => Promise<WithChangeVersion<Map<string, VersionedAccount>>> {
  const statement = db
    .select({ changeVersion: currentChangeVersion, account: bankAccounts, version: rowVersion })
    .from(oneRow)
    .leftJoin(bankAccounts, and(idAmongPlaceholder, isNull(bankAccounts.internalPurpose)))
    .prepare('ais_versioned_accounts_with_change_version');
  return async (accountIds) => {
    const rows = await statement.execute({ ids: [...accountIds] });
    return {
      changeVersion: rows[0]?.changeVersion ?? 0,
      value: new Map(
        rows.flatMap(({ account, version }) =>
          account ? [[account.id, { record: account, version }] as const] : [],
        ),
      ),
    };
  };
}

/**
 * The version of each account's ledger among `accountIds` (unknown ones absent), and the store's change
 * version, in one statement. An account's ledger version changes whenever any of its transactions could
 * have: every posting, and every change of a posting's status, updates its account's row (the cached
 * balances) in the same database transaction, so the row's `xmin` (the transaction that last wrote it,
 * visible only once it committed) moves with them on every instance. One primary-key read, however long the
 * history. Other writes to the row (a nickname, a status) move it too: a cache of transactions keyed by it
 * is only ever dropped too often, never served stale; for a cache of the account itself (`/accounts`) it is
 * exactly the row's version. Prepared once, as `accountsWithChangeVersion`.
 */
export function ledgerVersionsOf(
  db: Queryable,
): (accountIds: readonly string[]) => Promise<WithChangeVersion<Map<string, string>>> {
  const statement = db
    .select({
      changeVersion: currentChangeVersion,
      id: bankAccounts.id,
      version: rowVersion,
    })
    .from(oneRow)
    .leftJoin(bankAccounts, idAmongPlaceholder)
    .prepare('ais_ledger_versions');
  return async (accountIds) => {
    const rows = await statement.execute({ ids: [...accountIds] });
    return {
      changeVersion: rows[0]?.changeVersion ?? 0,
      value: new Map(rows.flatMap((row) => (row.id === null ? [] : [[row.id, row.version] as const]))),
    };
  };
}
