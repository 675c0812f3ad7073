import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  balanceOf,
  createCustomer,
  createScheduledPayment,
  createStandingOrder,
  listScheduledPayments,
  openAccount,
  postExternalCredit,
  startPaymentScheduler,
  verifyLedger,
  type ExecutionOutcome,
  type LedgerContext,
} from '../../src/bank/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { assertLedgerInvariants } from '../bank/helpers.ts';
import { createTestDatabase } from '../support/store.ts';

/**
 * Three instances of the bank run the payment scheduler on one PostgreSQL, each with its own connections:
 * every scheduled payment and standing-order payment that falls due while the clock moves is paid exactly
 * once — all three passes run at the same moment at every step — and the ledger balances.
 */

const POSTGRES = process.env.DATABASE_URL;
const INSTANCES = 3;

describe(
  'scheduled payments with three instances running the scheduler',
  { skip: POSTGRES ? false : 'several instances share a database only on PostgreSQL (set DATABASE_URL)' },
  async () => {
    if (!POSTGRES) return;
    const url = await createTestDatabase(POSTGRES);
    const stores = [];
    for (let index = 0; index < INSTANCES; index += 1) {
      const store = await openStore({ backend: 'postgres', url, poolSize: 4 });
      after(() => store.close());
      stores.push(store);
    }
    const db = stores[0]!.db;
    await stores[0]!.migrate();
    const clock = new ManualClock('2026-03-01T08:00:00Z');
    const ctx: LedgerContext = { clock };
    const schedulers = stores.map((store) => {
      const scheduler = startPaymentScheduler(store.db, ctx, { intervalMs: 3_600_000 });
      after(() => scheduler.stop());
      return scheduler;
    });

    it('pays every due payment exactly once, whichever instance claims it', async () => {
      const customer = await createCustomer(db, ctx, {
        username: 'many-runners',
        displayName: 'Many',
        kind: 'personal',
      });
      const payer = await openAccount(db, ctx, { holders: [customer.id], currency: 'GBP', name: 'Payer' });
      const saver = await openAccount(db, ctx, { holders: [customer.id], currency: 'GBP', name: 'Saver' });
      await postExternalCredit(db, ctx, { accountId: payer.id, amountMinor: 1_000_000n, currency: 'GBP' });
      const toSaver = {
        schemeName: 'UK.OBIE.SortCodeAccountNumber',
        identification: `${saver.sortCode}${saver.accountNumber}`,
        name: 'Saver',
      };
      const scheduled = [];
      for (let day = 2; day <= 6; day += 1) {
        for (let slot = 0; slot < 3; slot += 1) {
          scheduled.push(
            await createScheduledPayment(db, ctx, {
              accountId: payer.id,
              scheduledAt: new Date(`2026-03-${String(day).padStart(2, '0')}T0${slot + 6}:00:00Z`),
              amountMinor: BigInt(100 + day * 10 + slot),
              currency: 'GBP',
              creditor: toSaver,
            }),
          );
        }
      }
      const order = await createStandingOrder(db, ctx, {
        accountId: payer.id,
        frequency: 'EvryDay',
        currency: 'GBP',
        creditor: toSaver,
        reference: 'DAILY',
        firstPaymentAt: new Date('2026-03-02T05:00:00Z'),
        firstPaymentMinor: 1_000n,
        recurringPaymentMinor: 1_000n,
        numberOfPayments: 5,
      });

      const outcomes: ExecutionOutcome[] = [];
      for (let day = 2; day <= 7; day += 1) {
        clock.set(`2026-03-${String(day).padStart(2, '0')}T12:00:00Z`);
        // Every instance runs its pass at the same moment, twice over: the second finds nothing left.
        for (let round = 0; round < 2; round += 1) {
          for (const done of await Promise.all(schedulers.map((scheduler) => scheduler.runNow()))) {
            outcomes.push(...done);
          }
        }
      }

      const paid = outcomes.filter((outcome) => outcome.kind === 'scheduled-payment');
      assert.equal(paid.length, scheduled.length, 'each scheduled payment once');
      assert.equal(new Set(paid.map((outcome) => outcome.id)).size, scheduled.length);
      assert.ok(paid.every((outcome) => outcome.status === 'Executed'));
      const daily = outcomes.filter(
        (outcome) => outcome.kind === 'standing-order' && outcome.id === order.id,
      );
      assert.deepEqual(
        daily.map((outcome) => outcome.paymentNumber).sort((left, right) => (left ?? 0) - (right ?? 0)),
        [1, 2, 3, 4, 5],
        'each standing-order payment once',
      );
      assert.deepEqual(await listScheduledPayments(db, payer.id), [], 'none left pending');

      const expected = scheduled.reduce((sum, payment) => sum + payment.amountMinor, 0n) + 5n * 1_000n;
      assert.equal((await balanceOf(db, saver.id)).bookedMinor, expected);
      assert.equal((await balanceOf(db, payer.id)).bookedMinor, 1_000_000n - expected);
      assert.deepEqual(await verifyLedger(db), []);
      await assertLedgerInvariants(db);
    });
  },
);
