import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { balanceOf, findCustomerByUsername, listCustomerAccounts } from '../../src/bank/index.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { assertValidResponse, VRP_V3_1_11 } from '../support/openapi.ts';

interface VrpOutput {
  consentId: string;
  consent: Record<string, unknown> & { ConsentId: string; Status: string };
  payments: {
    amount: string;
    refusal?: string;
    payment?: Record<string, unknown> & { DomesticVRPId: string; Status: string };
  }[];
  limitsLeft: { PeriodType: string; Amount: string; Left: string }[];
}

describe('obkit tpp vrp', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const tpp = await sandbox.tpp('vrp-cli', ['PISP']);
  const carol = await findCustomerByUsername(db, 'carol');
  const payee = (await listCustomerAccounts(db, carol!.id)).find((account) => account.currency === 'GBP')!;
  const vrp = (args: string[]) =>
    runCli(
      [
        'tpp',
        'vrp',
        '--api-version',
        '3.1.11',
        '--bundle',
        tpp.bundle.dir,
        '--ca',
        caFile,
        '--to',
        `${payee.sortCode}/${payee.accountNumber}`,
        ...args,
      ],
      {},
      120_000,
    );

  it('stages a sweeping consent, pays twice under it, and prints the limits left as spec-valid JSON', async () => {
    const before = (await balanceOf(db, payee.id)).bookedMinor;
    const result = await vrp([
      '--max-individual',
      '50',
      '--period',
      'Month:500',
      '--period',
      'Day:100',
      '--type',
      'sweeping',
      '--pay',
      '12.34',
      '--pay',
      '20.00',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /staged domestic-vrp consent \S+/);
    assert.match(result.stderr, /sandbox PSU alice approved/);
    const output = JSON.parse(result.stdout) as VrpOutput;
    assertValidResponse(VRP_V3_1_11, `/domestic-vrp-consents/${output.consentId}`, 'get', 200, {
      Data: output.consent,
      Risk: { PaymentContextCode: 'TransferToSelf' },
      Links: { Self: `https://localhost/open-banking/v3.1/pisp/domestic-vrp-consents/${output.consentId}` },
      Meta: {},
    });
    assert.equal(output.consent.Status, 'Authorised');
    assert.equal(output.payments.length, 2);
    for (const outcome of output.payments) {
      const payment = outcome.payment;
      assert.ok(payment, JSON.stringify(outcome));
      assertValidResponse(VRP_V3_1_11, `/domestic-vrps/${payment.DomesticVRPId}`, 'get', 200, {
        Data: payment,
        Risk: { PaymentContextCode: 'TransferToSelf' },
        Links: { Self: `https://localhost/open-banking/v3.1/pisp/domestic-vrps/${payment.DomesticVRPId}` },
        Meta: {},
      });
      assert.notEqual(payment.Status, 'Rejected');
    }
    assert.deepEqual(
      output.limitsLeft.map((limit) => [limit.PeriodType, limit.Left]),
      [
        ['Month', '467.66'],
        ['Day', '67.66'],
      ],
    );
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before, 3234n);
    assert.equal(readBundle(tpp.bundle.dir).summary.consents.at(-1)?.kind, 'domestic-vrp');
  });

  it('prints the bank’s reason for a payment over the individual limit and exits 1, after paying the others', async () => {
    const before = (await balanceOf(db, payee.id)).bookedMinor;
    const result = await vrp([
      '--max-individual',
      '50',
      '--period',
      'Month:500',
      '--pay',
      '5',
      '--pay',
      '50.01',
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /vrp \S+ {2}5 GBP {2}Accepted/);
    assert.match(
      result.stderr,
      /the bank refused the VRP of 50\.01 GBP: the amount exceeds the maximum individual amount of 50\.00 GBP \[UK\.OBIE\.Rules\.FailsControlParameters\]/,
    );
    assert.match(result.stdout, /limit Month \(Calendar\) {2}495\.00 of 500 GBP left/);
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before, 500n);
  });

  it('refuses a payment beyond a periodic limit with --json: the reason in the output, exit 1', async () => {
    const result = await vrp([
      '--max-individual',
      '50',
      '--period',
      'Month:10',
      '--pay',
      '6',
      '--pay',
      '5',
      '--json',
    ]);
    assert.equal(result.code, 1, result.stderr);
    const output = JSON.parse(result.stdout) as VrpOutput;
    assert.equal(output.payments[0]?.payment?.Status !== undefined, true);
    assert.equal(output.payments[1]?.payment, undefined);
    assert.match(
      output.payments[1]?.refusal ?? '',
      /would exceed the Month limit of 10\.00 GBP \(6\.00 used since /,
    );
    assert.deepEqual(
      output.limitsLeft.map((limit) => limit.Left),
      ['4.00'],
    );
  });

  it('refuses bad values before contacting the bank (exit 2, one line)', async () => {
    const consentsBefore = readBundle(tpp.bundle.dir).summary.consents.length;
    for (const [args, message] of [
      [['--period', 'Monthly:500'], /--period must be TYPE:AMOUNT\[:ALIGNMENT\]/],
      [['--period', 'Month:-5'], /--period amount must be a positive amount/],
      [['--period', 'Month:500:Lunar'], /--period must be TYPE:AMOUNT/],
      [['--period', 'Month:500', '--type', 'CVRP1'], /commercial VRP is a v4\.0 profile \(cVRP\)/],
      [['--period', 'Month:500', '--merchant-category-code', '4900'], /is for commercial VRP/],
      [['--period', 'Month:500', '--max-individual', '1.234'], /--max-individual must be a positive amount/],
    ] as const) {
      const result = await vrp(['--max-individual', '50', '--pay', '1', ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /staged/);
    }
    const unknownType = await vrp([
      '--max-individual',
      '50',
      '--pay',
      '1',
      '--period',
      'Month:500',
      '--type',
      'commercial',
    ]);
    assert.equal(unknownType.code, 2, unknownType.stderr);
    assert.match(
      unknownType.stderr,
      /argument 'commercial' is invalid\. Allowed choices are sweeping, CVRP1, CVRP2, CVRP3/,
    );
    assert.equal(readBundle(tpp.bundle.dir).summary.consents.length, consentsBefore);
  });
});
