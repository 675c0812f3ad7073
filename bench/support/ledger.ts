/**
 * Growing the model bank's ledger for "cost as work grows" figures: more booked transactions on an
 * account, more accounts each with their own history. Rows are written in bulk, as the ledger itself would
 * have written them: each entry a balanced pair (the currency's clearing account → the account), booked in
 * time order just after the accounts' latest posting, with the customer leg's booking order (`bank_book_seq`),
 * running balance (`balance_after_minor`), cached balance and latest booking (`last_booked_at`) kept (the bank's internal accounts keep none of
 * them; `verifyLedger` holds), and the details a
 * received credit carries (reference, information, bank transaction code, counterparty). One multi-row
 * INSERT per batch of entries and one of postings: through the posting functions one at a time the ledger
 * took about 9 postings a second on the loaded 2-core machine, which made 100× growth unmeasurable.
 */
import { sql } from 'drizzle-orm';
import { BTC, createCustomer, ensureInternalAccount, openAccount } from '../../src/bank/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Queryable, Store } from '../../src/store/index.ts';

const ctx = { clock: systemClock };
/** Entries per statement: large enough that a run of 100,000 is a few statements, small enough for PGlite. */
const BATCH = 10_000;

/**
 * `count` booked credits of `amountMinor` (100 unless said) on `accountId` (GBP unless said), each one
 * entry of two postings with the account's clearing account as the other leg.
 */
export async function addTransactions(
  store: Store,
  accountId: string,
  count: number,
  { currency = 'GBP', amountMinor = 100n }: { currency?: string; amountMinor?: bigint } = {},
): Promise<void> {
  const clearing = await ensureInternalAccount(store.db, ctx, 'clearing', currency);
  for (let start = 0; start < count; start += BATCH) {
    const entries = Math.min(BATCH, count - start);
    await store.db.transaction((tx) =>
      postBatch(tx, { accountId, clearing, currency, amountMinor, entries }),
    );
  }
}

async function postBatch(
  tx: Queryable,
  batch: { accountId: string; clearing: string; currency: string; amountMinor: bigint; entries: number },
): Promise<void> {
  const { accountId, clearing, currency, amountMinor, entries } = batch;
  const tag = crypto.randomUUID();
  const code = BTC.receivedTransfer;
  const counterparty = JSON.stringify({ name: 'Bench Payer Ltd' });
  // The account's row locked first, so that the balance read below is the one the update at the end replaces.
  await tx.execute(sql`select id from bank_accounts where id = ${accountId} for update`);
  await tx.execute(sql`
    with base as (
      select greatest(now(), coalesce((select max(booked_at) from bank_postings
                                       where account_id in (${accountId}, ${clearing})), now())) as at,
             (select booked_minor from bank_accounts where id = ${accountId}) as mine
    ), n as (
      select g, base.at + g * interval '1 microsecond' as at, base.mine
      from generate_series(1, ${entries}::int) g, base
    ), entries as (
      insert into bank_entries (id, kind, status, booked_at, value_at, created_at)
      select 'bench-' || ${tag} || '-' || g, 'external-credit', 'Booked', at, at, now() from n
    )
    insert into bank_postings
      (id, entry_id, account_id, amount_minor, currency, status, booked_at, value_at, book_seq,
       balance_after_minor, transaction_reference, transaction_information, bank_transaction_code,
       bank_transaction_sub_code, counterparty)
    select 'bench-' || ${tag} || '-' || g || side, 'bench-' || ${tag} || '-' || g,
           case side when 'a' then ${clearing} else ${accountId} end,
           case side when 'a' then -${amountMinor}::bigint else ${amountMinor}::bigint end, ${currency},
           'Booked', at, at,
           case side when 'a' then null else nextval('bank_book_seq') end,
           case side when 'a' then null else mine + g * ${amountMinor}::bigint end,
           case side when 'a' then null else 'BENCH ' || g end,
           case side when 'a' then null else 'BENCH ' || g end,
           case side when 'a' then null else ${code.code} end,
           case side when 'a' then null else ${code.subCode} end,
           case side when 'a' then null else ${counterparty}::jsonb end
    from n, (values ('a'), ('b')) sides(side)
    order by g, side`);
  const total = amountMinor * BigInt(entries);
  // The account's cached balance and latest booking, kept with every posting (verifyLedger checks both).
  await tx.execute(sql`
    update bank_accounts set booked_minor = booked_minor + ${total},
      last_booked_at = (select max(booked_at) from bank_postings where account_id = ${accountId})
    where id = ${accountId}`);
}

/** `count` new customers with one GBP current account each, holding `transactionsEach` transactions. */
export async function addAccounts(
  store: Store,
  count: number,
  transactionsEach: number,
  tag: string,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const customer = await createCustomer(store.db, ctx, {
      username: `bench${tag}${i}`,
      displayName: `Bench Customer ${i}`,
      kind: 'personal',
    });
    const account = await openAccount(store.db, ctx, {
      holders: [customer.id],
      currency: 'GBP',
      name: `Bench Customer ${i}`,
    });
    await addTransactions(store, account.id, transactionsEach);
  }
}
