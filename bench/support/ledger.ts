/**
 * Growing the model bank's ledger for "cost as work grows" figures: more booked transactions on an
 * account, more accounts each with their own history. Every row goes through the ledger's own posting
 * functions (balanced legs, cached balances kept), booked now: the ledger books in time order. Postings go
 * in batches, one database transaction each (a posting's own transaction becomes a savepoint in it); at a
 * load average of 25 on 2 cores this still posted only about 9 a second (several round trips a posting).
 */
import { createCustomer, openAccount, postExternalCredit } from '../../src/bank/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';

const ctx = { clock: systemClock };
const BATCH = 200;

/** `count` booked credits on `accountId` (GBP unless said). */
export async function addTransactions(
  store: Store,
  accountId: string,
  count: number,
  currency = 'GBP',
): Promise<void> {
  for (let start = 0; start < count; start += BATCH) {
    await store.db.transaction(async (tx) => {
      for (let index = start; index < Math.min(count, start + BATCH); index++) {
        await postExternalCredit(tx, ctx, {
          accountId,
          amountMinor: BigInt(100 + (index % 5000)),
          currency,
          reference: `BENCH ${index}`,
          counterparty: { name: 'Bench Payer Ltd' },
        });
      }
    });
  }
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
