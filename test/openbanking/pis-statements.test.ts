import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { recordSent, recordStatements } from '../support/statements.ts';
import { sweepingFacts } from '../../src/openbanking/vrp/rules/sweeping.ts';
import {
  authorisedSweepingVrp,
  createHarness,
  domesticConsent,
  sweepingVrpConsent,
  type Harness,
} from './pis-support.ts';

/**
 * What one domestic payment submission costs the database, counted at the store clients (bench/README.md,
 * "Payments"). On-us it was 25 besides BEGIN/COMMIT (the guard's consent read, 24 in the transaction, six
 * of them SAVEPOINT/RELEASE), then 14 (16 through clearing), then 12 either way: the idempotency key row
 * is written once with its answer, the posting's origin check rides on the statement that locks the
 * accounts, and through clearing the internal accounts are read by that statement too and are not
 * upserted per payment. Now 10: the consent's transition and its audit row are one statement, and so are
 * the payment's row and its event. Now 8: the ledger's entry, its postings and the accounts' cached balances are
 * one statement. Now 7: the creditor's account is read with the debtor's; 6: the payment's row and its event are
 * written by the posting's statement. The bounds keep the cuts from coming back unnoticed.
 */
const h: Harness = await createHarness();
afterEach(async () => h.assertLedgerSound());

/** A consent staged and authorised, and the submission that pays it. */
async function authorisedSubmission(
  creditor: Parameters<typeof domesticConsent>[0] = h.bob,
  extra: Parameters<typeof domesticConsent>[2] = {},
) {
  const body = domesticConsent(creditor, '10.50', extra);
  const staged = await h.post('/domestic-payment-consents', body);
  assert.equal(staged.status, 201, staged.text);
  const consentId = String(staged.body.Data?.ConsentId);
  const token = await h.authorise(consentId);
  const submission = { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: body.Risk };
  return () => h.post('/domestic-payments', submission, { token });
}

async function submitCounted(
  creditor: Parameters<typeof domesticConsent>[0] = h.bob,
  extra: Parameters<typeof domesticConsent>[2] = {},
) {
  const submit = await authorisedSubmission(creditor, extra);
  const { result, statements } = await recordStatements(submit);
  assert.equal(result.status, 201, result.text);
  const transactionControl = /^\s*(begin|commit|rollback|COMMIT or ROLLBACK)\b/i;
  return {
    statements,
    work: statements.filter((text) => !transactionControl.test(text)),
  };
}

describe('statements per domestic payment submission', () => {
  it('on-us: no savepoint, at most 6 statements besides BEGIN/COMMIT', async () => {
    const { statements, work } = await submitCounted();
    assert.deepEqual(
      statements.filter((text) => /^\s*(savepoint|release)\b/i.test(text)),
      [],
      'nested transactions inside the idempotent one',
    );
    assert.ok(work.length <= 6, `${work.length} statements:\n${work.join('\n')}`);
  });

  it('to another bank through clearing: no savepoint, at most 6 statements besides BEGIN/COMMIT', async () => {
    const { statements, work } = await submitCounted({
      sortCode: '401276',
      accountNumber: '31926819',
      name: 'ACME Ltd',
    });
    assert.equal(statements.filter((text) => /^\s*(savepoint|release)\b/i.test(text)).length, 0);
    assert.ok(work.length <= 6, `${work.length} statements:\n${work.join('\n')}`);
  });

  it('naming its debtor account: checked on the row read, no second look-up, at most 6 statements besides BEGIN/COMMIT', async () => {
    // Was 7: the named debtor was looked up by its identification (`bank_account_by_sort_code`) and compared.
    const { work } = await submitCounted(h.bob, { debtor: h.alice });
    assert.ok(work.length <= 6, `${work.length} statements:\n${work.join('\n')}`);
    // Still refused when the TPP names another account of the PSU than the one they chose.
    const other = await authorisedSubmission(h.bob, { debtor: h.aliceOther });
    const refused = await other();
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.Errors?.[0]?.Path, 'Data.Initiation.DebtorAccount');
  });

  it(
    'sends the fixed-shape statements as named statements on PostgreSQL (parsed and planned once per connection)',
    { skip: !process.env.DATABASE_URL },
    async () => {
      // The submissions' statements only (staging a consent claims an idempotency key too).
      const submissions = [
        await authorisedSubmission(),
        await authorisedSubmission({ sortCode: '401276', accountNumber: '31926819', name: 'ACME Ltd' }),
      ];
      const names: unknown[] = [];
      const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
      const query = prototype.query;
      prototype.query = function (this: unknown, ...args: unknown[]) {
        const [config] = args;
        if (typeof config === 'object' && config !== null) names.push((config as { name?: unknown }).name);
        return query.apply(this, args);
      };
      try {
        for (const submit of submissions) assert.equal((await submit()).status, 201);
      } finally {
        prototype.query = query;
      }
      const count = (name: string) => names.filter((each) => each === name).length;
      for (const name of [
        'bank_held_account_with_creditor_by_sort_code',
        'ledger_accounts_for_posting',
        'bank_payment_posted',
        'ob_idempotency_claim',
      ])
        assert.equal(count(name), 2, `${name} once per submission: ${JSON.stringify(names)}`);
      // The creditor is read with the debtor, not looked up again; the payment and its event are written by
      // the posting's statement.
      for (const name of [
        'bank_held_account',
        'bank_account_by_sort_code',
        'ledger_post_entry',
        'bank_payment_with_event',
      ])
        assert.equal(count(name), 0, `${name} not sent: ${JSON.stringify(names)}`);
      // The consumption and its audit row: a statement prepared per transition shape (src/consent/intents.ts).
      const consumed = names.filter(
        (name) => typeof name === 'string' && name.startsWith('consent_consumed_'),
      );
      assert.equal(consumed.length, 2, `the consumption once per submission: ${JSON.stringify(names)}`);
    },
  );

  it(
    'on PGlite: 10 protocol messages per submission (every statement named: one message; BEGIN and COMMIT two)',
    { skip: !!process.env.DATABASE_URL },
    async () => {
      const embedded = h.store.embedded!;
      // Once first: a named statement's first run in the process also parses and describes it.
      await submitCounted();
      const submit = await authorisedSubmission();
      const before = embedded.writeCount();
      const result = await submit();
      const messages = embedded.writeCount() - before;
      assert.equal(result.status, 201, result.text);
      // Was 24: the idempotency claim and the consent's transition went through PGlite's `query` (six each);
      // then 14, before the entry, its postings and the cached balances were one statement; then 12, before
      // the creditor's account was read with the debtor's; then 11, before the payment's row and its event
      // were written by the posting's statement.
      assert.ok(messages <= 10, `${messages} protocol messages`);
    },
  );

  it('serialises the response body once: the key row stores the text the reply sends', async () => {
    const submit = await authorisedSubmission();
    // Every JSON text made while the submission runs (the TPP's request was built and signed before).
    const made: string[] = [];
    const stringify = JSON.stringify;
    JSON.stringify = function (this: unknown, ...args: Parameters<typeof stringify>) {
      const text = stringify.apply(this, args);
      if (typeof text === 'string') made.push(text);
      return text;
    } as typeof stringify;
    let result;
    try {
      result = await submit();
    } finally {
      JSON.stringify = stringify;
    }
    assert.equal(result.status, 201, result.text);
    // Was 2: the key row's answer, then fastify's serialisation of the same object for the reply.
    assert.equal(made.filter((text) => text === result.text).length, 1);
    assert.equal(result.headers['content-type'], 'application/json; charset=utf-8');
  });
});

/** A sweeping VRP consent (a daily and a monthly limit) authorised from Alice's account; a payment under it to Bob. */
async function authorisedVrpPayment() {
  const consent = sweepingVrpConsent(h.bob, [
    { PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '100.00' },
    { PeriodType: 'Month', PeriodAlignment: 'Consent', Amount: '500.00' },
  ]);
  const { pay } = await authorisedSweepingVrp(h, consent);
  return () => pay('1.00');
}

describe('statements per VRP payment', () => {
  it('sends every statement but BEGIN/COMMIT as a named, prepared one', async () => {
    // Was: the consent's payment lock and each periodic limit's sum built by drizzle and sent unnamed; the
    // limits' sums are now one statement.
    await (
      await authorisedVrpPayment()
    )();
    const pay = await authorisedVrpPayment();
    const { result, sent } = await recordSent(pay);
    assert.equal(result.status, 201, result.text);
    const unprepared = sent.filter(
      ({ text, prepared }) => !prepared && !/^\s*(begin|commit|rollback|COMMIT or ROLLBACK)\b/i.test(text),
    );
    assert.deepEqual(
      unprepared.map(({ text }) => text.slice(0, 120)),
      [],
      'statements built and parsed for this payment alone',
    );
  });

  it('the sweeping rule takes the creditor account read with the debtor: one prepared statement, the holding', async () => {
    const creditor = {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: `${h.aliceOther.sortCode}${h.aliceOther.accountNumber}`,
      Name: 'Savings',
    };
    // Was 2 (the creditor looked up again by its identification, the holding built per call).
    const own = await recordSent(() =>
      sweepingFacts(h.store.db, h.customerId, h.alice, creditor, h.aliceOther),
    );
    assert.equal(own.result.creditorHeldByPsu, true);
    assert.deepEqual(
      own.sent.map(({ prepared }) => prepared),
      [true],
      own.sent.map(({ text }) => text).join('\n'),
    );
    const others = await recordSent(() =>
      sweepingFacts(
        h.store.db,
        h.customerId,
        h.alice,
        { ...creditor, Identification: `${h.bob.sortCode}${h.bob.accountNumber}` },
        h.bob,
      ),
    );
    assert.equal(others.result.creditorHeldByPsu, false);
    // Not ours (read as none with the debtor): no statement, the names decide.
    const outside = await recordSent(() => sweepingFacts(h.store.db, h.customerId, h.alice, creditor, null));
    assert.equal(outside.result.creditorHeldByPsu, undefined);
    assert.deepEqual(outside.sent, []);
    // Not read beforehand: looked up here, as before.
    const looked = await recordSent(() => sweepingFacts(h.store.db, h.customerId, h.alice, creditor));
    assert.equal(looked.result.creditorHeldByPsu, true);
    assert.equal(looked.sent.length, 2);
  });
});
