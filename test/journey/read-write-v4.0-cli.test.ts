import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { AIS_V4_0, COF_V3_1_11, COF_V4_0, validateComponent } from '../support/openapi.ts';

/**
 * `obkit tpp accounts` (Read/Write v4.0 by default) and `obkit tpp funds-check` against the sandbox:
 * their `--json` output is the bank's wire objects, valid against the version's OpenAPI file.
 */

interface AccountsJson {
  apiVersion: string;
  accounts: (Record<string, unknown> & {
    AccountId: string;
    AccountTypeCode?: string;
    Account?: { SchemeName: string; Identification: string }[];
    Balance: Record<string, unknown>[];
    Transaction: Record<string, unknown>[];
  })[];
}

function assertComponent(spec: string, name: string, value: unknown): void {
  const result = validateComponent(spec, name, value);
  assert.ok(result.valid, `${name}: ${result.errors.join('\n')}`);
}

describe('obkit tpp accounts and funds-check on Read/Write v4.0', async () => {
  const sandbox = await startSandbox();
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');

  it('accounts --json calls v4.0 by default; every account, balance and transaction is a valid v4.0 object; funds-check answers from the same account', async () => {
    const tpp = await sandbox.tpp('cli-v4', ['AISP', 'CBPII']);
    const accounts = await runCli(
      ['tpp', 'accounts', '--bundle', tpp.bundle.dir, '--ca', caFile, '--json'],
      {},
      120_000,
    );
    assert.equal(accounts.code, 0, accounts.stderr);
    const journey = JSON.parse(accounts.stdout) as AccountsJson;
    assert.equal(journey.apiVersion, '4.0');
    assert.ok(journey.accounts.length > 0);
    for (const { Balance, Transaction, ...account } of journey.accounts) {
      assertComponent(AIS_V4_0, 'OBAccount6', account);
      for (const balance of Balance) assert.ok(['ITBD', 'ITAV'].includes(balance.Type as string));
      const balances = { Data: { Balance }, Links: { Self: 'https://x/b' }, Meta: {} };
      assertComponent(AIS_V4_0, 'OBReadBalance1', balances);
      const transactions = { Data: { Transaction }, Links: { Self: 'https://x/t' }, Meta: {} };
      assertComponent(AIS_V4_0, 'OBReadTransaction6', transactions);
    }
    const current = journey.accounts.find((a) => a.AccountTypeCode === 'CACC' && a.Currency === 'GBP');
    const scan = current?.Account?.find((a) => a.SchemeName === 'UK.OBIE.SortCodeAccountNumber');
    assert.ok(scan, accounts.stdout);
    const account = `${scan.Identification.slice(0, 6)}/${scan.Identification.slice(6)}`;

    for (const [version, spec] of [
      ['4.0', COF_V4_0],
      ['3.1.11', COF_V3_1_11],
    ] as const) {
      const available = await runCli(
        ['tpp', 'funds-check', '--bundle', tpp.bundle.dir, '--ca', caFile, '--account', account].concat([
          '--amount',
          '12.34',
          '--currency',
          'GBP',
          '--api-version',
          version,
          '--json',
        ]),
        {},
        120_000,
      );
      assert.equal(available.code, 0, available.stderr);
      const answer = JSON.parse(available.stdout) as { Data: { FundsAvailable: boolean } };
      assertComponent(spec, 'OBFundsConfirmationResponse1', answer);
      assert.equal(answer.Data.FundsAvailable, true);
      assert.match(available.stderr, /✓ staged funds-confirmation consent/);
    }
    const tooMuch = await runCli(
      ['tpp', 'funds-check', '--bundle', tpp.bundle.dir, '--ca', caFile, '--account', account].concat([
        '--amount',
        '99999999.00',
      ]),
      {},
      120_000,
    );
    assert.equal(tooMuch.code, 0, tooMuch.stderr);
    assert.match(tooMuch.stdout, /funds NOT available for 99999999\.00 GBP .*Read\/Write 4\.0/);
  });

  it('refuses an unknown --api-version and a malformed --account before calling the bank', async () => {
    const tpp = await sandbox.tpp('cli-v4-usage', ['CBPII']);
    const version = await runCli(['tpp', 'accounts', '--bundle', tpp.bundle.dir, '--api-version', '5.0']);
    assert.notEqual(version.code, 0);
    assert.match(version.stderr, /--api-version/);
    const account = await runCli([
      'tpp',
      'funds-check',
      '--bundle',
      tpp.bundle.dir,
      '--ca',
      caFile,
      '--account',
      'mine',
      '--amount',
      '1',
    ]);
    assert.notEqual(account.code, 0);
    assert.match(account.stderr, /--account must be SORTCODE\/ACCOUNT/);
  });
});
