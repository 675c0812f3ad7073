import { sql } from 'drizzle-orm';
import type { Queryable } from '../../src/store/index.ts';
import { rowsOf } from '../../src/shared/result-rows.ts';

/** Runs SQL and returns its rows on either driver. */
export async function query<T>(db: Queryable, statement: ReturnType<typeof sql>): Promise<T[]> {
  return rowsOf<T>(await db.execute(statement));
}

/**
 * The ledger invariants checked independently of src/bank's own `verifyLedger`: every posting set sums
 * to zero per currency; every customer account's cached balances equal the sums of its postings.
 */
export async function assertLedgerInvariants(db: Queryable): Promise<{ entries: number; accounts: number }> {
  const unbalanced = await query<{ entry_id: string }>(
    db,
    sql`select entry_id from bank_postings group by entry_id, currency having sum(amount_minor) <> 0`,
  );
  if (unbalanced.length)
    throw new Error(`unbalanced posting sets: ${unbalanced.map((r) => r.entry_id).join(', ')}`);
  const lonely = await query<{ id: string }>(
    db,
    sql`select e.id from bank_entries e left join bank_postings p on p.entry_id = e.id group by e.id having count(p.id) < 2`,
  );
  if (lonely.length)
    throw new Error(`posting sets with fewer than two postings: ${lonely.map((r) => r.id).join(', ')}`);
  const accounts = await query<{ id: string; internal: boolean; cached: string; summed: string }>(
    db,
    sql`select a.id, a.internal_purpose is not null as internal, (a.booked_minor || '/' || a.pending_debit_minor || '/' || a.pending_credit_minor) as cached,
          (coalesce(sum(p.amount_minor) filter (where p.status = 'Booked'), 0) || '/' ||
           coalesce(sum(p.amount_minor) filter (where p.status = 'Pending' and p.amount_minor < 0), 0) || '/' ||
           coalesce(sum(p.amount_minor) filter (where p.status = 'Pending' and p.amount_minor > 0), 0)) as summed
        from bank_accounts a left join bank_postings p on p.account_id = a.id group by a.id`,
  );
  // Customer accounts carry a cache that must equal the sums; the bank's internal accounts keep none
  // (their balance is always computed from postings), so theirs stays at zero.
  const wrong = accounts.filter((r) => (r.internal ? r.cached !== '0/0/0' : r.cached !== r.summed));
  if (wrong.length) throw new Error(`cached balance != sum of postings: ${JSON.stringify(wrong)}`);
  const total = await query<{ currency: string; total: string }>(
    db,
    sql`select currency, sum(amount_minor)::text as total from bank_postings group by currency`,
  );
  for (const row of total)
    if (row.total !== '0') throw new Error(`ledger does not sum to 0 in ${row.currency}`);
  const [entries] = await query<{ n: number }>(db, sql`select count(*)::int as n from bank_entries`);
  return { entries: entries?.n ?? 0, accounts: accounts.length };
}
