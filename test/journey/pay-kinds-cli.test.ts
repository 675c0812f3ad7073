import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  balanceOf,
  findCustomerByUsername,
  getScheduledPayment,
  getStandingOrder,
  listCustomerAccounts,
} from '../../src/bank/index.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';

type Resource = Record<string, unknown> & {
  Status: string;
  ConsentId: string;
  Debtor?: { Identification: string };
  Charges?: { Amount: { Amount: string; Currency: string } }[];
  ExchangeRateInformation?: { UnitCurrency: string; ExchangeRate: number; RateType: string };
};

/** Checks a resource printed by `--json` (the response's Data) against the spec's GET response schema. */
function assertValidResource(payments: string, id: string, data: Resource): void {
  assertValidResponse(PIS_V3_1_11, `${payments}/${id}`, 'get', 200, {
    Data: data,
    Links: { Self: `https://localhost/open-banking/v3.1/pisp${payments}/${id}` },
    Meta: {},
  });
}

const inDays = (days: number) =>
  new Date(Date.now() + days * 86_400_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');

describe('obkit tpp pay: international, scheduled and standing-order payments', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const tpp = await sandbox.tpp('pay-kinds-cli', ['PISP']);
  const alice = await findCustomerByUsername(db, 'alice');
  const aliceAccounts = await listCustomerAccounts(db, alice!.id);
  const pay = (args: string[]) =>
    runCli(
      ['tpp', 'pay', '--api-version', '3.1.11', '--bundle', tpp.bundle.dir, '--ca', caFile, ...args],
      {},
      120_000,
    );
  const accountOf = (debtor: { Identification: string } | undefined) => {
    const account = aliceAccounts.find(
      (candidate) => `${candidate.sortCode}${candidate.accountNumber}` === debtor?.Identification,
    );
    assert.ok(account, `alice's debtor account ${JSON.stringify(debtor)}`);
    return account;
  };

  it('pays to an IBAN abroad, shows the quoted rate and charge, and debits the amount plus the 5.00 GBP charge', async () => {
    const balances = new Map(
      await Promise.all(
        aliceAccounts.map(
          async (account) => [account.id, (await balanceOf(db, account.id)).bookedMinor] as const,
        ),
      ),
    );
    const result = await pay([
      '--to-iban',
      'DE89 3704 0044 0532 0130 00',
      '--amount',
      '2.00',
      '--currency',
      'GBP',
      '--transfer-currency',
      'EUR',
      '--payee-name',
      'Hans',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /staged international-payment consent \S+/);
    assert.match(
      result.stderr,
      /the bank quotes: indicative exchange rate 1 GBP = 1\.165 EUR, charge 5\.00 GBP \(BorneByDebtor\)/,
    );
    assert.match(result.stderr, /submitted international payment \S+: /);
    const payment = JSON.parse(result.stdout) as Resource & { InternationalPaymentId: string };
    assertValidResource('/international-payments', payment.InternationalPaymentId, payment);
    assert.ok(
      ['AcceptedSettlementCompleted', 'AcceptedCreditSettlementCompleted'].includes(payment.Status),
      payment.Status,
    );
    assert.equal((payment['Initiation'] as { CurrencyOfTransfer: string }).CurrencyOfTransfer, 'EUR');
    assert.deepEqual(payment.Charges?.[0]?.Amount, { Amount: '5.00', Currency: 'GBP' });
    assert.equal(payment.ExchangeRateInformation?.RateType, 'Actual');
    const debited = accountOf(payment.Debtor);
    assert.equal(balances.get(debited.id)! - (await balanceOf(db, debited.id)).bookedMinor, 200n + 500n);
    for (const account of aliceAccounts.filter((candidate) => candidate.id !== debited.id))
      assert.equal((await balanceOf(db, account.id)).bookedMinor, balances.get(account.id), account.id);
    const consents = readBundle(tpp.bundle.dir).summary.consents;
    assert.equal(consents.at(-1)?.kind, 'international-payment');
    assert.equal(consents.at(-1)?.status, 'Consumed');
  });

  it('sets up a domestic standing order: final at InitiationCompleted, and the bank holds the order', async () => {
    const carol = await findCustomerByUsername(db, 'carol');
    const payee = (await listCustomerAccounts(db, carol!.id)).find((account) => account.currency === 'GBP')!;
    const first = inDays(3);
    const result = await pay([
      '--every',
      'IntrvlMnthDay:01:15',
      '--first',
      first,
      '--count',
      '3',
      '--amount',
      '12.00',
      '--to',
      `${payee.sortCode}/${payee.accountNumber}`,
      '--payee-name',
      'Carol',
      '--reference',
      'Rent share',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /submitted standing order \S+: InitiationCompleted — final: the bank has set it up and executes each payment when due/,
    );
    const order = JSON.parse(result.stdout) as Resource & { DomesticStandingOrderId: string };
    assertValidResource('/domestic-standing-orders', order.DomesticStandingOrderId, order);
    assert.equal(order.Status, 'InitiationCompleted');
    const held = await getStandingOrder(db, order.DomesticStandingOrderId);
    assert.ok(held, 'the bank has the standing order');
    assert.equal(held.status, 'Active');
    assert.equal(held.frequency, 'IntrvlMnthDay:01:15');
    assert.equal(held.numberOfPayments, 3);
    assert.equal(held.firstPaymentMinor, 1200n);
    assert.equal(held.firstPaymentAt?.getTime(), new Date(first).getTime());
    assert.equal(held.creditor.identification, `${payee.sortCode}${payee.accountNumber}`);
    assert.equal(held.accountId, accountOf(order.Debtor).id);
  });

  it('sets up an international standing order ending on a date, with the charge of each payment', async () => {
    const first = inDays(2);
    const until = inDays(40);
    const result = await pay([
      '--to-iban',
      'DE89370400440532013000',
      '--every',
      'EvryWorkgDay',
      '--first',
      first,
      '--until',
      until,
      '--amount',
      '20.00',
      '--currency',
      'EUR',
      '--transfer-currency',
      'EUR',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /the bank quotes: no exchange rate quoted for a standing order, charge 5\.00 GBP/,
    );
    assert.match(result.stderr, /submitted international standing order \S+: InitiationCompleted — final/);
    const order = JSON.parse(result.stdout) as Resource & { InternationalStandingOrderId: string };
    assertValidResource('/international-standing-orders', order.InternationalStandingOrderId, order);
    assert.equal(order.Status, 'InitiationCompleted');
    const held = await getStandingOrder(db, order.InternationalStandingOrderId);
    assert.ok(held);
    assert.equal(held.frequency, 'EvryWorkgDay');
    assert.equal(held.finalPaymentAt?.getTime(), new Date(until).getTime());
    assert.equal(held.numberOfPayments, null);
  });

  it('schedules a payment at a date, domestic and abroad: final at InitiationCompleted, executed later', async () => {
    const at = inDays(5);
    const domestic = await pay(['--at', at, '--amount', '3.50', '--json']);
    assert.equal(domestic.code, 0, domestic.stderr);
    assert.match(
      domestic.stderr,
      /submitted scheduled payment \S+: InitiationCompleted — final: the bank has set it up and executes it when due/,
    );
    const scheduled = JSON.parse(domestic.stdout) as Resource & { DomesticScheduledPaymentId: string };
    assertValidResource('/domestic-scheduled-payments', scheduled.DomesticScheduledPaymentId, scheduled);
    assert.equal(scheduled.Status, 'InitiationCompleted');
    const held = await getScheduledPayment(db, scheduled.DomesticScheduledPaymentId);
    assert.equal(held?.status, 'Pending');
    assert.equal(held?.scheduledAt.getTime(), new Date(at).getTime());
    assert.equal(held?.amountMinor, 350n);

    const abroad = await pay(['--at', at, '--to-iban', 'DE89370400440532013000', '--amount', '4.00']);
    assert.equal(abroad.code, 0, abroad.stderr);
    assert.match(abroad.stdout, /the bank quotes: no currency exchange \(paid in GBP\), charge 5\.00 GBP/);
    const line = /^international-scheduled-payment (\S+) {2}InitiationCompleted {2}consent \S+$/m.exec(
      abroad.stdout,
    );
    assert.ok(line?.[1], abroad.stdout);
    assert.equal((await getScheduledPayment(db, line[1]))?.status, 'Pending');
  });

  it('refuses bad combinations and malformed IBANs, frequencies and dates before contacting anyone (exit 2)', async () => {
    const consentsBefore = readBundle(tpp.bundle.dir).summary.consents.length;
    const future = inDays(3);
    for (const [args, message] of [
      [['--every', 'EvryDay'], /--every needs --first/],
      [['--first', future], /a standing order needs --every/],
      [
        ['--every', 'EvryDay', '--first', future, '--count', '2', '--until', inDays(9)],
        /--count or by --until, not both/,
      ],
      [['--at', future, '--every', 'EvryDay', '--first', future], /--at schedules one payment/],
      [['--to', '040004/12345678', '--to-iban', 'DE89370400440532013000'], /give one payee/],
      [['--to-iban', 'DE88370400440532013000'], /--to-iban must be an IBAN/],
      [['--to-iban', 'not-an-iban'], /--to-iban must be an IBAN/],
      [['--transfer-currency', 'EUR'], /--transfer-currency is for international payments/],
      [
        ['--to-iban', 'DE89370400440532013000', '--transfer-currency', 'euro'],
        /--transfer-currency must be an ISO 4217/,
      ],
      [['--every', 'Monthly', '--first', future], /--every must be an Open Banking frequency code/],
      [
        ['--every', 'IntrvlMnthDay:07:15', '--first', future],
        /--every must be an Open Banking frequency code/,
      ],
      [['--at', 'tomorrow'], /--at must be an ISO 8601 date-time/],
      [['--at', '2030-02-30T10:00:00Z'], /--at must be an ISO 8601 date-time/],
      [['--at', '2030-07-01T10:00:00'], /--at must be an ISO 8601 date-time with a zone/],
      [['--every', 'EvryDay', '--first', '2030-13-01'], /--first must be an ISO 8601 date-time/],
      [['--every', 'EvryDay', '--first', future, '--count', '0'], /--count must be a whole number/],
      [['--every', 'EvryDay', '--first', inDays(9), '--until', future], /--until .* is before --first/],
    ] as const) {
      const result = await pay(['--amount', '1.00', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stdout, /staged/);
    }
    assert.equal(readBundle(tpp.bundle.dir).summary.consents.length, consentsBefore);
  });
});
