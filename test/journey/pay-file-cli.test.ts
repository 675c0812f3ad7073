import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { balanceOf, findCustomerByUsername, listCustomerAccounts } from '../../src/bank/index.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';

interface PayFileOutput {
  consentId: string;
  filePaymentId: string;
  payment: Record<string, unknown> & { Status: string; FilePaymentId: string };
  transactions: { PaymentTransactionId: string; Status: string }[];
}

describe('obkit tpp pay-file', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const tpp = await sandbox.tpp('pay-file-cli', ['PISP']);
  const carol = await findCustomerByUsername(db, 'carol');
  const payee = (await listCustomerAccounts(db, carol!.id)).find((account) => account.currency === 'GBP')!;
  const folder = mkdtempSync(join(tmpdir(), 'obkit-pay-file-'));
  const fileWith = (name: string, content: string) => {
    const path = join(folder, name);
    writeFileSync(path, content);
    return path;
  };
  const item = (amount: string, id: string) => ({
    InstructionIdentification: id,
    EndToEndIdentification: `E2E-${id}`,
    LocalInstrument: 'UK.OBIE.FPS',
    InstructedAmount: { Amount: amount, Currency: 'GBP' },
    CreditorAccount: {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: `${payee.sortCode}${payee.accountNumber}`,
      Name: 'Carol',
    },
    RemittanceInformation: { Reference: `File ${id}` },
  });
  const payFile = (args: string[]) =>
    runCli(
      ['tpp', 'pay-file', '--api-version', '3.1.11', '--bundle', tpp.bundle.dir, '--ca', caFile, ...args],
      {},
      120_000,
    );

  it('stages, uploads, authorises and submits a file; prints spec-valid JSON and a status per transaction', async () => {
    const before = (await balanceOf(db, payee.id)).bookedMinor;
    const file = fileWith(
      'two.json',
      JSON.stringify({ Data: { DomesticPayments: [item('1.10', 'f1'), item('2.25', 'f2')] } }, null, 2),
    );
    const result = await payFile(['--file', file, '--json']);
    assert.equal(result.code, 0, result.stderr);
    for (const step of [
      /staged file-payment consent \S+/,
      /uploaded the file \(2 transactions\)/,
      /sandbox PSU alice approved/,
      /submitted file payment \S+: /,
    ])
      assert.match(result.stderr, step);
    const output = JSON.parse(result.stdout) as PayFileOutput;
    const self = `https://localhost/open-banking/v3.1/pisp/file-payments/${output.filePaymentId}`;
    assertValidResponse(PIS_V3_1_11, `/file-payments/${output.filePaymentId}`, 'get', 200, {
      Data: output.payment,
      Links: { Self: self },
      Meta: {},
    });
    assertValidResponse(PIS_V3_1_11, `/file-payments/${output.filePaymentId}/payment-details`, 'get', 200, {
      Data: { PaymentStatus: output.transactions },
      Links: { Self: `${self}/payment-details` },
      Meta: {},
    });
    assert.equal(output.payment.Status, 'InitiationCompleted');
    assert.equal(output.transactions.length, 2);
    for (const transaction of output.transactions) assert.notEqual(transaction.Status, 'Rejected');
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before, 335n);
    const consents = readBundle(tpp.bundle.dir).summary.consents;
    assert.equal(consents.at(-1)?.kind, 'file-payment');
    assert.equal(consents.at(-1)?.status, 'Consumed');

    const human = await payFile([
      '--file',
      fileWith('one.json', JSON.stringify({ Data: { DomesticPayments: [item('0.50', 'h1')] } })),
    ]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^file payment \S+ {2}InitiationCompleted {2}consent \S+$/m);
    assert.match(human.stdout, /^ {2}1\. \S+ {2}Accepted\w+$/m);
  });

  it("pays what it can of a file and exits 1 with the bank's reason for a transaction it rejected", async () => {
    const before = (await balanceOf(db, payee.id)).bookedMinor;
    const file = fileWith(
      'short.json',
      JSON.stringify({ Data: { DomesticPayments: [item('0.75', 'ok'), item('9999999.00', 'too-much')] } }),
    );
    const result = await payFile(['--file', file]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^ {2}1\. \S+ {2}Accepted\w+$/m);
    assert.match(result.stdout, /^ {2}2\. \S+ {2}Rejected: \S.*$/m);
    assert.match(
      result.stderr,
      /the bank rejected 1 of 2 transactions of file payment \S+ \(\S+: [^)]*funds/i,
    );
    assert.equal((await balanceOf(db, payee.id)).bookedMinor - before, 75n);
  });

  it('refuses a file it cannot send before contacting the bank (exit 2, one line)', async () => {
    const consentsBefore = readBundle(tpp.bundle.dir).summary.consents.length;
    for (const [args, message] of [
      [['--file', join(folder, 'missing.json')], /--file .*missing\.json: cannot be read \(ENOENT\)/],
      [['--file', fileWith('bad.json', '{"Data":')], /is not JSON/],
      [['--file', fileWith('empty.json', '{"Data":{"DomesticPayments":[]}}')], /1 to 5000 domestic payment/],
      [
        [
          '--file',
          fileWith('amount.json', JSON.stringify({ Data: { DomesticPayments: [item('-1', 'x')] } })),
        ],
        /Data\.DomesticPayments\.0\.InstructedAmount\.Amount must be a positive decimal/,
      ],
    ] as const) {
      const result = await payFile([...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    assert.equal(readBundle(tpp.bundle.dir).summary.consents.length, consentsBefore);
  });
});
