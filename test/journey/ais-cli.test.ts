import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBundle } from '../../src/tpp/bundle.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { runCli, spawnCli, waitForExit, waitForOutput } from '../support/cli.ts';
import { browserClient, startSandbox } from '../support/journey.ts';

interface JourneyJson {
  consentId: string;
  authorisedBy: { kind: string; psu?: string };
  accounts: {
    AccountId: string;
    Currency: string;
    Account?: { SchemeName: string }[];
    Balance: { Type: string; Amount: { Amount: string } }[];
    Transaction: { BookingDateTime: string; TransactionInformation?: string }[];
  }[];
}

describe('obkit tpp accounts', async () => {
  const sandbox = await startSandbox();
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const work = mkdtempSync(join(tmpdir(), 'obkit-ais-cli-'));

  it('--json: stages, approves headlessly as --psu, and reads every account of that PSU with balances and transactions', async () => {
    const tpp = await sandbox.tpp('cli-accounts-json', ['AISP']);
    const result = await runCli(
      [
        'tpp',
        'accounts',
        '--bundle',
        tpp.bundle.dir,
        '--ca',
        caFile,
        '--psu',
        'bob',
        '--transactions',
        '3',
        '--api-version',
        '3.1.11',
        '--json',
      ],
      {},
      120_000,
    );
    assert.equal(result.code, 0, result.stderr);
    const journey = JSON.parse(result.stdout) as JourneyJson;
    assert.deepEqual(journey.authorisedBy, { kind: 'sandbox', psu: 'bob' });
    // bob: GBP current, USD current, joint GBP account with carol.
    assert.equal(journey.accounts.length, 3);
    assert.deepEqual(journey.accounts.map((a) => a.Currency).sort(), ['GBP', 'GBP', 'USD']);
    for (const account of journey.accounts) {
      assert.ok(account.Account?.some((a) => a.SchemeName === 'UK.OBIE.SortCodeAccountNumber'));
      assert.deepEqual(account.Balance.map((b) => b.Type).sort(), ['InterimAvailable', 'InterimBooked']);
      assert.ok(account.Transaction.length > 0 && account.Transaction.length <= 3);
      const times = account.Transaction.map((t) => Date.parse(t.BookingDateTime));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        'newest first',
      );
    }
    assert.match(result.stderr, /✓ staged account-access consent/);
    const recorded = readBundle(tpp.bundle.dir).summary.consents.find(
      (c) => c.consentId === journey.consentId,
    );
    assert.equal(recorded?.status, 'Authorised');
  });

  it('prints a readable table by default (alice)', async () => {
    const tpp = await sandbox.tpp('cli-accounts-table', ['AISP']);
    const result = await runCli(
      ['tpp', 'accounts', '--bundle', tpp.bundle.dir, '--ca', caFile, '--api-version', '3.1.11'],
      {},
      120_000,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /authorised by sandbox PSU alice/);
    assert.match(result.stdout, /ACCOUNT\s+TYPE\s+IDENTIFICATION\s+BOOKED\s+AVAILABLE/);
    assert.match(result.stdout, /Personal CurrentAccount\s+\d{2}-\d{2}-\d{2} \d{8}\s+-?\d+\.\d{2} GBP/);
    assert.match(result.stdout, /recent transactions\n {2}\d{4}-\d{2}-\d{2} {2}(Booked|Pending)/);
  });

  it('--manual: prints the authorisation URL and completes with the redirect URL pasted on stdin', async () => {
    const tpp = await sandbox.tpp('cli-accounts-manual', ['AISP']);
    const child = spawnCli(['tpp', 'accounts', '--bundle', tpp.bundle.dir, '--ca', caFile, '--manual']);
    const shown = await waitForOutput(child, /press Enter:\n/, 120_000);
    const url = /^\s+(https:\/\/\S+)$/m.exec(shown)?.[1];
    assert.ok(url, shown);
    // A person would open it in a browser; here the sandbox PSU carol approves it the same way.
    const back = await approveInSandbox(browserClient(sandbox), new URL(url), tpp.redirectUri, {
      username: 'carol',
      decision: 'approve',
    });
    const finished = waitForExit(child, 120_000);
    child.stdin.end(`${back.href}\n`);
    const result = await finished;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /authorised by the PSU/);
    assert.match(result.stdout, /recent transactions/);
  });

  it('a PSU the sandbox does not know, or a bundle registered nowhere, is a clear error without a stack trace', async () => {
    const tpp = await sandbox.tpp('cli-accounts-bad', ['AISP']);
    const unknown = await runCli(
      ['tpp', 'accounts', '--bundle', tpp.bundle.dir, '--ca', caFile, '--psu', 'nobody'],
      {},
      120_000,
    );
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /obkit: .*(unknown_user|no such customer)/);
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
    const badCount = await runCli(['tpp', 'accounts', '--bundle', tpp.bundle.dir, '--transactions', 'lots']);
    assert.equal(badCount.code, 2, badCount.stderr);
    assert.match(badCount.stderr, /--transactions must be a whole number/);
    const unregistered = join(work, 'unregistered');
    await onboard({
      directoryUrl: sandbox.platform.urls.browser,
      organisationName: 'cli-accounts-unregistered',
      clientName: 'cli-accounts-unregistered',
      roles: ['AISP'],
      redirectUris: ['https://unregistered.example/cb'],
      certificateProfile: 'obie',
      outDir: unregistered,
      trust: [sandbox.rootPem],
    });
    const nowhere = await runCli(['tpp', 'accounts', '--bundle', unregistered, '--ca', caFile]);
    assert.equal(nowhere.code, 2, nowhere.stderr);
    assert.match(nowhere.stderr, /registered at no bank; run obkit tpp register/);
  });
});
