/**
 * Growing the model bank's ledger for "cost as work grows" figures: more booked transactions on an
 * account, more accounts each with their own history. Every row goes through the ledger's own posting
 * functions (balanced legs, cached balances kept), booked now: the ledger books in time order.
 */
import { createCustomer, openAccount, postExternalCredit } from '../../src/bank/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';

const ctx = { clock: systemClock };
/** Postings in flight at once (PostgreSQL's pool takes them in parallel; PGlite queues them). */
const PARALLEL = 4;

async function inParallel(count: number, work: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** `count` booked credits on `accountId` (GBP unless said). */
export async function addTransactions(
  store: Store,
  accountId: string,
  count: number,
  currency = 'GBP',
): Promise<void> {
  await inParallel(count, (index) =>
    postExternalCredit(store.db, ctx, {
      accountId,
      amountMinor: BigInt(100 + (index % 5000)),
      currency,
      reference: `BENCH ${index}`,
      counterparty: { name: 'Bench Payer Ltd' },
    }),
  );
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
