import assert from 'node:assert/strict';
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
import { assertValidResponse, PIS_V4_0 } from '../support/openapi.ts';

/**
 * `obkit tpp pay`, `vrp` and `pay-file` at v4.0, their default: v4.0 request bodies (the bank checks
 * them against the v4.0 file), v4.0 statuses printed, `--json` valid against the v4.0 OpenAPI files.
 */
describe('obkit tpp pay, vrp and pay-file at v4.0 (the default)', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const tpp = await sandbox.tpp('pay-v4-cli', ['PISP']);
  const carol = await findCustomerByUsername(db, 'carol');
  const payee = (await listCustomerAccounts(db, carol!.id)).find((account) => account.currency === 'GBP')!;
  const to = `${payee.sortCode}/${payee.accountNumber}`;
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

  it('still pays at v3.1.11 when asked, in v3.1.11 words', async () => {
    const result = await cli('pay', ['--amount', '0.50', '--to', to, '--api-version', '3.1.11']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^payment \S+ {2}AcceptedCreditSettlementCompleted {2}consent \S+$/m);
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
        /--payee-account-type must be one of Business/,
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
