import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { recordStatements } from '../support/statements.ts';
import { createHarness, domesticConsent, type Harness } from './pis-support.ts';

/**
 * What one domestic payment submission costs the database, counted at the store clients (bench/README.md,
 * "Payments"). On-us it was 25 besides BEGIN/COMMIT (the guard's consent read, 24 in the transaction, six
 * of them SAVEPOINT/RELEASE), then 14 (16 through clearing), then 12 either way: the idempotency key row
 * is written once with its answer, the posting's origin check rides on the statement that locks the
 * accounts, and through clearing the internal accounts are read by that statement too and are not
 * upserted per payment. Now 10: the consent's transition and its audit row are one statement, and so are
 * the payment's row and its event. The bounds keep the cuts from coming back unnoticed.
 */
const h: Harness = await createHarness();
afterEach(async () => h.assertLedgerSound());

async function submitCounted(creditor: Parameters<typeof domesticConsent>[0] = h.bob) {
  const body = domesticConsent(creditor);
  const staged = await h.post('/domestic-payment-consents', body);
  assert.equal(staged.status, 201, staged.text);
  const consentId = String(staged.body.Data?.ConsentId);
  const token = await h.authorise(consentId);
  const submission = { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: body.Risk };
  const { result, statements } = await recordStatements(() =>
    h.post('/domestic-payments', submission, { token }),
  );
  assert.equal(result.status, 201, result.text);
  const transactionControl = /^\s*(begin|commit|rollback|COMMIT or ROLLBACK)\b/i;
  return {
    statements,
    work: statements.filter((text) => !transactionControl.test(text)),
  };
}

describe('statements per domestic payment submission', () => {
  it('on-us: no savepoint, at most 10 statements besides BEGIN/COMMIT', async () => {
    const { statements, work } = await submitCounted();
    assert.deepEqual(
      statements.filter((text) => /^\s*(savepoint|release)\b/i.test(text)),
      [],
      'nested transactions inside the idempotent one',
    );
    assert.ok(work.length <= 10, `${work.length} statements:\n${work.join('\n')}`);
  });

  it('to another bank through clearing: no savepoint, at most 10 statements besides BEGIN/COMMIT', async () => {
    const { statements, work } = await submitCounted({
      sortCode: '401276',
      accountNumber: '31926819',
      name: 'ACME Ltd',
    });
    assert.equal(statements.filter((text) => /^\s*(savepoint|release)\b/i.test(text)).length, 0);
    assert.ok(work.length <= 10, `${work.length} statements:\n${work.join('\n')}`);
  });

  it(
    'sends the fixed-shape statements as named statements on PostgreSQL (parsed and planned once per connection)',
    { skip: !process.env.DATABASE_URL },
    async () => {
      const names: unknown[] = [];
      const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
      const query = prototype.query;
      prototype.query = function (this: unknown, ...args: unknown[]) {
        const [config] = args;
        if (typeof config === 'object' && config !== null) names.push((config as { name?: unknown }).name);
        return query.apply(this, args);
      };
      try {
        await submitCounted();
        await submitCounted({ sortCode: '401276', accountNumber: '31926819', name: 'ACME Ltd' });
      } finally {
        prototype.query = query;
      }
      const count = (name: string) => names.filter((each) => each === name).length;
      for (const name of [
        'bank_held_account',
        'bank_account_by_sort_code',
        'ledger_accounts_for_posting',
        'ledger_entry_insert',
        'ledger_postings_insert',
        'ledger_store_cached_balances',
        'bank_payment_with_event',
      ])
        assert.equal(count(name), 2, `${name} once per submission: ${JSON.stringify(names)}`);
    },
  );
});
