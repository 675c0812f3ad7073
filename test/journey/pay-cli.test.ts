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
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';

describe('obkit tpp pay --api-version 3.1.11', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const tpp = await sandbox.tpp('pay-cli', ['PISP']);
  const pay = (args: string[]) =>
    runCli(
      ['tpp', 'pay', '--api-version', '3.1.11', '--bundle', tpp.bundle.dir, '--ca', caFile, ...args],
      {},
      120_000,
    );

  it('pays a payee at the bank: a progress line per step, then the final status, and the money moves once', async () => {
    const carol = await findCustomerByUsername(db, 'carol');
    const payee = (await listCustomerAccounts(db, carol!.id)).find((account) => account.currency === 'GBP')!;
    const before = await balanceOf(db, payee.id);
    const result = await pay([
      '--amount',
      '7.25',
      '--to',
      `${payee.sortCode}/${payee.accountNumber}`,
      '--payee-name',
      'Carol',
    ]);
    assert.equal(result.code, 0, result.stderr);
    for (const step of [
      'staged domestic-payment consent',
      'sandbox PSU alice approved',
      'redeemed the code',
      'submitted payment',
    ]) {
      assert.ok(result.stdout.includes(step), `progress line "${step}" in ${result.stdout}`);
    }
    assert.match(result.stdout, /payment \S+ {2}AcceptedCreditSettlementCompleted/);
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before.bookedMinor, 725n);
    const consents = readBundle(tpp.bundle.dir).summary.consents;
    assert.equal(consents.at(-1)?.kind, 'domestic-payment');
    assert.equal(consents.at(-1)?.status, 'Consumed');
  });

  it('prints the final payment resource with --json, for an external payee', async () => {
    const result = await pay(['--amount', '1.00', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const payment = JSON.parse(result.stdout) as {
      DomesticPaymentId: string;
      Status: string;
      ConsentId: string;
    };
    assert.ok(payment.DomesticPaymentId);
    assertValidResponse(PIS_V3_1_11, `/domestic-payments/${payment.DomesticPaymentId}`, 'get', 200, {
      Data: payment,
      Links: {
        Self: `https://localhost/open-banking/v3.1/pisp/domestic-payments/${payment.DomesticPaymentId}`,
      },
      Meta: {},
    });
    assert.ok(
      [
        'AcceptedSettlementCompleted',
        'AcceptedSettlementInProcess',
        'AcceptedCreditSettlementCompleted',
      ].includes(payment.Status),
      payment.Status,
    );
  });

  it('refuses bad amounts, currencies and payees before contacting the bank (exit 2)', async () => {
    for (const [args, message] of [
      [['--amount', '-5'], /--amount must be a positive decimal/],
      [['--amount', '0'], /--amount must be a positive decimal/],
      [['--amount', '1', '--currency', 'pounds'], /--currency must be an ISO 4217 code/],
      [['--amount', '1', '--to', '12/34'], /--to must be SORTCODE\/ACCOUNT/],
      // The OB spec's maxLength (RemittanceInformation.Reference 35, CreditorAccount.Name 350): never cut short.
      [['--amount', '1', '--reference', 'r'.repeat(36)], /--reference must be 1 to 35 characters .*got 36/],
      [['--amount', '1', '--payee-name', 'n'.repeat(351)], /--payee-name must be 1 to 350 characters/],
    ] as const) {
      const result = await pay([...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  it('exits 1 when the bank rejects the payment (insufficient funds), still printing the resource', async () => {
    const result = await pay(['--amount', '999999.00', '--json']);
    assert.equal(result.code, 1, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { Status: string }).Status, 'Rejected');
    assert.match(
      result.stderr,
      /the bank rejected payment \S+: Insufficient funds: there was not enough money in the account \(ProprietaryRejection\)/,
    );
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('reports the bank refusal of an amount with too many decimals, and nothing is posted', async () => {
    const result = await pay(['--amount', '1.001']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /staging the payment consent failed with HTTP 400: .*\[UK\.OBIE\.[\w.]+\] \(https:\/\/\S+\/domestic-payment-consents\)/,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.deepEqual(await verifyLedger(db), []);
  });
});
