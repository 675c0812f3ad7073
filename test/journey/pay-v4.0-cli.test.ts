import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  balanceOf,
  findCustomerByUsername,
  listCustomerAccounts,
  verifyLedger,
} from '../../src/bank/index.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { assertValidResponse, CVRP_V4_0, PIS_V4_0, VRP_V4_0 } from '../support/openapi.ts';

/**
 * `obkit tpp pay`, `vrp` and `pay-file` at v4.0, their default: v4.0 request bodies (the bank checks
 * them against the v4.0 file), v4.0 statuses printed, `--json` valid against the v4.0 OpenAPI files; a
 * payment kind the bank does not serve at v4.0 is one line of usage error.
 */
describe('obkit tpp pay, vrp and pay-file at v4.0 (the default)', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const tpp = await sandbox.tpp('pay-v4-cli', ['PISP']);
  const carol = await findCustomerByUsername(db, 'carol');
  const payee = (await listCustomerAccounts(db, carol!.id)).find((account) => account.currency === 'GBP')!;
  const to = `${payee.sortCode}/${payee.accountNumber}`;
  const alice = await findCustomerByUsername(db, 'alice');
  const sweepTo = (await listCustomerAccounts(db, alice!.id)).find(
    (account) => account.nickname === 'Rainy day',
  )!;
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
  const cli = (command: string, args: string[]) =>
    runCli(['tpp', command, '--bundle', tpp.bundle.dir, '--ca', caFile, ...args], {}, 120_000);

  /** The --json payment as the GET of the resource would carry it, checked against the v4.0 file. */
  function assertV4Payment(path: string, idField: string, payment: Record<string, unknown>): void {
    const id = String(payment[idField]);
    assert.ok(id, `${idField} in ${JSON.stringify(payment)}`);
    assertValidResponse(PIS_V4_0, `${path}/${id}`, 'get', 200, {
      Data: payment,
      Links: { Self: `https://localhost/open-banking/v4.0/pisp${path}/${id}` },
      Meta: {},
    });
  }

  it('pays a domestic payee at v4.0 by default: v4.0 statuses in the progress and the result, money moved once', async () => {
    const before = (await balanceOf(db, payee.id)).bookedMinor;
    const result = await cli('pay', ['--amount', '3.10', '--to', to, '--reference', 'V4 CLI']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /staged domestic-payment consent \S+ \(v4\.0\): AWAU/);
    assert.match(result.stdout, /sandbox PSU alice approved/);
    assert.match(result.stdout, /^payment \S+ {2}ACCC {2}consent \S+$/m);
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before, 310n);
    const consent = readBundle(tpp.bundle.dir).summary.consents.at(-1);
    assert.equal(consent?.kind, 'domestic-payment');
    assert.equal(consent?.status, 'Consumed');
  });

  it('prints the v4.0 payment resource with --json, valid against the v4.0 file, its reference structured', async () => {
    const result = await cli('pay', ['--amount', '1.05', '--to', to, '--reference', 'INV 42', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const payment = JSON.parse(result.stdout) as Record<string, unknown> & {
      Status: string;
      Initiation: { RemittanceInformation?: unknown };
    };
    assertV4Payment('/domestic-payments', 'DomesticPaymentId', payment);
    assert.equal(payment.Status, 'ACCC');
    assert.deepEqual(payment.Initiation.RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'INV 42' } }],
    });
  });

  it('exits 1 on a payment the bank rejects at v4.0 (RJCT), with its reason, and posts nothing', async () => {
    const result = await cli('pay', ['--amount', '999999.00', '--to', to, '--json']);
    assert.equal(result.code, 1, result.stderr);
    const payment = JSON.parse(result.stdout) as Record<string, unknown> & { Status: string };
    assertV4Payment('/domestic-payments', 'DomesticPaymentId', payment);
    assert.equal(payment.Status, 'RJCT');
    assert.match(result.stderr, /the bank rejected payment \S+: Insufficient funds/);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('pays abroad at v4.0: single, scheduled and standing order, each --json valid against the v4.0 file', async () => {
    const iban = ['--to-iban', 'DE89370400440532013000', '--payee-name', 'Hans'];
    const single = await cli('pay', [...iban, '--amount', '2.00', '--transfer-currency', 'EUR', '--json']);
    assert.equal(single.code, 0, single.stderr);
    assert.match(single.stderr, /staged international-payment consent \S+ \(v4\.0\): AWAU/);
    assert.match(
      single.stderr,
      /the bank quotes: indicative exchange rate 1 GBP = [\d.]+ EUR, charge 5\.00 GBP/,
    );
    const payment = JSON.parse(single.stdout) as Record<string, unknown> & {
      Status: string;
      Initiation: { RemittanceInformation?: unknown; CurrencyOfTransfer: string };
    };
    assertV4Payment('/international-payments', 'InternationalPaymentId', payment);
    assert.ok(['ACSC', 'ACCC'].includes(payment.Status), payment.Status);
    assert.equal(payment.Initiation.CurrencyOfTransfer, 'EUR');
    assert.deepEqual(payment.Initiation.RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'obkit payment' } }],
    });

    const scheduled = await cli('pay', [...iban, '--amount', '4.00', '--at', inDays(5), '--json']);
    assert.equal(scheduled.code, 0, scheduled.stderr);
    assert.match(
      scheduled.stderr,
      /submitted international scheduled payment \S+: \w{4} — final: the bank has set it up/,
    );
    assertV4Payment(
      '/international-scheduled-payments',
      'InternationalScheduledPaymentId',
      JSON.parse(scheduled.stdout) as Record<string, unknown>,
    );

    const order = await cli('pay', [
      ...iban,
      '--amount',
      '20.00',
      '--currency',
      'EUR',
      '--every',
      'EvryWorkgDay',
      '--first',
      inDays(2),
      '--count',
      '3',
      '--json',
    ]);
    assert.equal(order.code, 0, order.stderr);
    assert.match(
      order.stderr,
      /submitted international standing order \S+: \w{4} — final: the bank has set it up/,
    );
    const standingOrder = JSON.parse(order.stdout) as Record<string, unknown> & {
      Initiation: { NumberOfPayments?: string; MandateRelatedInformation?: unknown };
    };
    assertV4Payment('/international-standing-orders', 'InternationalStandingOrderId', standingOrder);
    assert.equal(standingOrder.Initiation.NumberOfPayments, '3');
    assert.deepEqual(standingOrder.Initiation.MandateRelatedInformation, {
      Frequency: { Type: 'EvryWorkgDay' },
      FirstPaymentDateTime: `${inDays(2)}T00:00:00+00:00`,
    });
  });

  /** The --json of `tpp vrp`: the consent and each payment, checked as their GETs against `spec`. */
  function assertVrpOutput(spec: string, stdout: string, risk: Record<string, unknown>) {
    const output = JSON.parse(stdout) as {
      consentId: string;
      consent: Record<string, unknown> & { Status: string };
      payments: { payment?: Record<string, unknown> & { DomesticVRPId: string; Status: string } }[];
    };
    assertValidResponse(spec, `/domestic-vrp-consents/${output.consentId}`, 'get', 200, {
      Data: output.consent,
      Risk: risk,
      Links: { Self: `https://localhost/open-banking/v4.0/pisp/domestic-vrp-consents/${output.consentId}` },
      Meta: {},
    });
    assert.equal(output.consent.Status, 'AUTH');
    for (const { payment } of output.payments) {
      assert.ok(payment);
      assertValidResponse(spec, `/domestic-vrps/${payment.DomesticVRPId}`, 'get', 200, {
        Data: payment,
        Risk: risk,
        Links: { Self: `https://localhost/open-banking/v4.0/pisp/domestic-vrps/${payment.DomesticVRPId}` },
        Meta: {},
      });
    }
    return output.payments.map(({ payment }) => payment?.Status);
  }

  it('sweeps at v4.0 by default: --json valid against the v4.0 VRP file, v4.0 statuses', async () => {
    const before = (await balanceOf(db, sweepTo.id)).bookedMinor;
    const result = await cli('vrp', [
      '--max-individual',
      '50',
      '--period',
      'Month:500',
      '--pay',
      '4.00',
      '--pay',
      '6.00',
      '--to',
      `${sweepTo.sortCode}/${sweepTo.accountNumber}`,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /staged domestic-vrp consent \S+ \(UK\.OBIE\.VRPType\.Sweeping, v4\.0\)/);
    const statuses = assertVrpOutput(VRP_V4_0, result.stdout, { PaymentContextCode: 'TransferToSelf' });
    assert.deepEqual(statuses, ['ACCC', 'ACCC']);
    assert.equal((await balanceOf(db, sweepTo.id)).bookedMinor - before, 1000n);
  });

  it('makes a commercial VRP (CVRP1) with the Risk the cVRP profile makes mandatory; --json valid against the cVRP file', async () => {
    const before = (await balanceOf(db, payee.id)).bookedMinor;
    const result = await cli('vrp', [
      '--type',
      'CVRP1',
      '--merchant-category-code',
      '4900',
      '--merchant-customer-id',
      'cust-42',
      '--max-individual',
      '30',
      '--period',
      'Month:100',
      '--pay',
      '7.50',
      '--to',
      to,
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /staged domestic-vrp consent \S+ \(UK\.OBIE\.VRPType\.CVRP1, v4\.0\)/);
    const statuses = assertVrpOutput(CVRP_V4_0, result.stdout, {
      PaymentContextCode: 'EcommerceMerchantInitiatedPayment',
      MerchantCategoryCode: '4900',
      MerchantCustomerIdentification: 'cust-42',
      ContractPresentIndicator: true,
      BeneficiaryPrepopulatedIndicator: true,
      PaymentPurposeCode: 'OTHR',
      CategoryPurposeCode: 'OTHR',
      BeneficiaryAccountType: 'Business',
    });
    assert.deepEqual(statuses, ['ACCC']);
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before, 750n);
  });

  it('still pays at v3.1.11 when asked, in v3.1.11 words', async () => {
    const result = await cli('pay', ['--amount', '0.50', '--to', to, '--api-version', '3.1.11']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^payment \S+ {2}AcceptedCreditSettlementCompleted {2}consent \S+$/m);
  });

  // The payment kinds the bank serves at v4.0 so far: domestic and international payments (single,
  // scheduled, standing orders) and VRP; domestic scheduled payments, domestic standing orders and file
  // payments are refused in one line that says what to do, and nothing is staged.
  it('says in one line that the bank does not serve a payment kind at v4.0 (exit 2, no stack trace)', async () => {
    const consentsBefore = readBundle(tpp.bundle.dir).summary.consents.length;
    for (const [args, what] of [
      [['--at', '2031-01-02T09:00:00Z', '--to', to], 'scheduled payments'],
      [['--every', 'EvryDay', '--first', '2031-01-02', '--count', '3', '--to', to], 'standing orders'],
    ] as const) {
      const result = await cli('pay', ['--amount', '1.00', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(
        result.stderr.trim(),
        new RegExp(
          `^obkit: --api-version 4\\.0: the bank does not serve ${what} at v4\\.0 \\(HTTP 404 at https://\\S+\\); try --api-version 3\\.1\\.11$`,
        ),
      );
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }

    const folder = mkdtempSync(join(tmpdir(), 'obkit-pay-file-v4-'));
    const file = join(folder, 'one.json');
    writeFileSync(
      file,
      JSON.stringify({
        Data: {
          DomesticPayments: [
            {
              InstructionIdentification: 'v4-file-1',
              EndToEndIdentification: 'v4-file-1',
              InstructedAmount: { Amount: '1.00', Currency: 'GBP' },
              CreditorAccount: {
                SchemeName: 'UK.OBIE.SortCodeAccountNumber',
                Identification: `${payee.sortCode}${payee.accountNumber}`,
                Name: 'Carol',
              },
            },
          ],
        },
      }),
    );
    const unservedFile = await cli('pay-file', ['--file', file]);
    assert.equal(unservedFile.code, 2, unservedFile.stderr);
    assert.match(unservedFile.stderr, /the bank does not serve file payments at v4\.0/);
    assert.equal(unservedFile.stderr.trim().split('\n').length, 1, unservedFile.stderr);
    assert.equal(readBundle(tpp.bundle.dir).summary.consents.length, consentsBefore);
  });

  it('refuses a commercial VRP without the Risk the cVRP profile asks of a merchant, before contacting the bank', async () => {
    for (const [args, message] of [
      [['--type', 'CVRP1'], /--type CVRP1 needs --merchant-category-code/],
      [['--type', 'CVRP2', '--merchant-category-code', '4900'], /--type CVRP2 needs --merchant-customer-id/],
      [
        ['--type', 'CVRP1', '--merchant-category-code', 'energy', '--merchant-customer-id', 'c1'],
        /--merchant-category-code must be an ISO 18245 code/,
      ],
      [
        [
          '--type',
          'CVRP3',
          '--merchant-category-code',
          '4900',
          '--merchant-customer-id',
          'c1',
          '--payee-account-type',
          'Shop',
        ],
        /--payee-account-type must be one of Personal, Business/,
      ],
      [['--context', 'PartyToParty'], /--context must be one of/],
    ] as const) {
      const result = await cli('vrp', [
        '--max-individual',
        '5',
        '--period',
        'Month:50',
        '--pay',
        '1',
        ...args,
      ]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /staged/);
    }
  });
});
