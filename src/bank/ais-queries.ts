/**
 * Read queries the Account Information API needs beyond the per-resource lists of customers.ts: the
 * balances of several accounts in one query (the bulk `/balances`), and the accounts with their row
 * versions (the `/accounts` and transactions caches' one statement).
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Queryable } from '../store/index.ts';
import {
  changeVersionOf,
  currentChangeVersion,
  oneRow,
  preparedRows,
  rowAsText,
  schema,
} from '../store/index.ts';
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

/** The version of a `bank_accounts` row: the transaction that last wrote it (moves with every write). */
const rowVersion = sql<string>`${bankAccounts}.xmin::text`;

/** The same row again, joined only when its data is to be sent (its version is not the one known). */
const changedAccount = alias(bankAccounts, 'changed_account');

/** That row as one column (null when not sent: one null for the driver to parse, nothing to map). */
const changedRow = rowAsText(changedAccount);

/** A row of `accountsWithVersions`: the change version, and for a known id its version and changed row. */
type VersionsRow = [changeVersion: unknown, id: string | null, version: string, changed: unknown];

/**
 * The change version, each account's row version among `ids` (unknown ones absent), and the customer
 * account rows whose version is not the one at the same position in `known` (`''`: none known), in one
 * statement. Prepared once per driver (src/store/prepared.ts): a named statement on PostgreSQL, parsed and
 * planned once per connection; on the embedded database a read-only statement. Its rows are not mapped by
 * drizzle (`preparedRows`): a read reads three columns of each, and decodes the changed row only when one
 * was sent (`rowAsText`); every read, hit or miss, paid drizzle's mapping of the whole row before.
 */
const accountsWithVersions = preparedRows(
  'ais_accounts_with_versions',
  (db) =>
    db
      .select({
        changeVersion: currentChangeVersion,
        id: bankAccounts.id,
        version: rowVersion,
        changed: changedRow.column,
      })
      .from(oneRow)
      .leftJoin(bankAccounts, sql`${bankAccounts.id} = any(${sql.placeholder('ids')}::text[])`)
      .leftJoin(
        changedAccount,
        and(
          eq(changedAccount.id, bankAccounts.id),
          isNull(changedAccount.internalPurpose),
          sql`${rowVersion} <> (${sql.placeholder('known')}::text[])[array_position(${sql.placeholder('ids')}::text[], ${bankAccounts.id})]`,
        ),
      )
      .getSQL(),
  (rows) => rows as VersionsRow[],
);

/**
 * An account's row version, and the row when it is a customer account (`record` absent for an internal
 * one: never shown).
 */
export interface VersionedAccount {
  version: string;
  record?: AccountRecord;
}

/**
 * Reads the accounts among `accountIds` by id, each with its row's version, and the store's change
 * version, in one statement, with the rows' data sent only for rows whose version this reader does not
 * hold already: a repeated read (`/accounts`, and every transactions read, which needs only the versions)
 * is a primary-key read of the versions, and a read after a write sends the changed rows in the same
 * statement (one round trip, never a second read of the rows).
 *
 * The version is the row's `xmin` (the transaction that last wrote it, visible only once it committed), so
 * a row kept under a version is exactly the row while that version is current: every instance sees every
 * other's write at its next read. It is also the accounts' **ledger version**: every posting, and every
 * change of a posting's status, updates its account's row (the cached balances) in the same database
 * transaction. Other writes to the row (a nickname, a status) move it too: a cache of transactions keyed by
 * it is only ever dropped too often, never served stale. One primary-key read, however long the history.
 *
 * Rows are kept per reader (one database), the last `maxRows` read; the rows known are the ones held when
 * the statement is sent, so an answer is complete whatever other reads under way keep meanwhile.
 */
export function accountsWithVersionsReader(
  db: Queryable,
  maxRows = 10_000,
): (accountIds: readonly string[]) => Promise<WithChangeVersion<Map<string, VersionedAccount>>> {
  const statement = accountsWithVersions(db);
  const rows = new Map<string, Required<VersionedAccount>>();
  const keep = (id: string, account: Required<VersionedAccount>): void => {
    rows.delete(id);
    rows.set(id, account);
    if (rows.size > maxRows) rows.delete(rows.keys().next().value as string);
  };
  return async (accountIds) => {
    const ids = [...accountIds];
    const held = ids.map((id) => rows.get(id));
    const answer = await statement.execute({ ids, known: held.map((row) => row?.version ?? '') });
    const value = new Map<string, VersionedAccount>();
    for (const [, id, version, changed] of answer) {
      if (id === null) continue;
      const record = changedRow.decode(changed);
      if (record) {
        const account = { version, record };
        keep(id, account);
        value.set(id, account);
        continue;
      }
      // Not sent: either held already under this very version, or not a customer account.
      const known = held[ids.indexOf(id)];
      value.set(id, known?.version === version ? known : { version });
    }
    return { changeVersion: changeVersionOf(answer[0]?.[0]), value };
  };
}
