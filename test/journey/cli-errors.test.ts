import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBundle } from '../../src/tpp/bundle.ts';
import { runCli, type Finished } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';
import { seedDataDir } from '../support/platform.ts';

/** A failure a person can act on: the exit code, one or two lines on stderr, and no stack trace. */
function assertFailure(result: Finished, exitCode: number, message: RegExp): void {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at /, `no stack trace in: ${result.stderr}`);
  assert.ok(result.stderr.trim().split('\n').length <= 2, `one or two lines: ${result.stderr}`);
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('obkit: failures a person can act on', { timeout: 240_000 }, async () => {
  const sandbox = await startSandbox();
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');
  const work = mkdtempSync(join(tmpdir(), 'obkit-cli-errors-'));

  it('--version prints the version; --help needs no data dir; serve --help lists the parts', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0, version.stderr);
    const { version: expected } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    assert.equal(version.stdout.trim(), expected);

    const dataDir = join(work, 'never-created');
    for (const args of [['--help'], ['tpp', '--help'], ['tpp', 'pay', '--help']]) {
      const help = await runCli(args, { OBKIT_DATA_DIR: dataDir });
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /Usage: obkit/);
    }
    assert.equal(existsSync(dataDir), false, 'help opened nothing in the data dir');

    const serve = await runCli(['serve', '--help']);
    assert.equal(serve.code, 0, serve.stderr);
    for (const part of ['bank', 'directory', 'jwkms', 'auth', 'consent', 'openbanking'])
      assert.match(serve.stdout, new RegExp(`^  ${part} +\\S`, 'm'), `part ${part} listed`);
  });

  it('bad usage exits 2 (a missing option, an unknown part); with --json an error object on stdout', async () => {
    const missing = await runCli(['tpp', 'register']);
    assertFailure(missing, 2, /required option '--bundle <dir>' not specified/);
    const json = await runCli(['tpp', 'register', '--json']);
    assert.equal(json.code, 2);
    const printed = JSON.parse(json.stdout) as { error: { exitCode: number; message: string } };
    assert.equal(printed.error.exitCode, 2);
    assert.match(printed.error.message, /--bundle/);
    assertFailure(await runCli(['serve', 'nonsense']), 2, /unknown part "nonsense"; parts: bank, /);
    const nothing = await runCli([]);
    assert.equal(nothing.code, 2, 'no command is bad usage');
    assert.match(nothing.stderr, /Usage: obkit/);
  });

  it('a bank that does not answer: one line naming the URL, what to try, exit 1; --debug adds the stack', async () => {
    const tpp = await sandbox.tpp('unreachable', ['AISP']);
    const port = await closedPort();
    const bank = `https://127.0.0.1:${port}/.well-known/openid-configuration`;
    const args = ['tpp', 'register', '--bundle', tpp.bundle.dir, '--bank', bank, '--ca', caFile];
    const result = await runCli(args);
    assertFailure(
      result,
      1,
      new RegExp(`cannot reach ${bank.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ECONNREFUSED`),
    );
    assert.match(result.stderr, /nothing answers at https:\/\/127\.0\.0\.1:\d+: start the sandbox/);

    const json = await runCli([...args, '--json']);
    assert.equal(json.code, 1);
    const printed = JSON.parse(json.stdout) as { error: { url: string; network: string; hint: string } };
    assert.equal(printed.error.url, bank);
    assert.equal(printed.error.network, 'ECONNREFUSED');

    const debug = await runCli([...args, '--debug']);
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /\n\s+at /, 'the stack with --debug');
  });

  it('a transport key that does not match its certificate: named, before any connection, exit 1', async () => {
    const tpp = await sandbox.tpp('mismatched', ['AISP']);
    const dir = join(work, 'mismatched');
    cpSync(tpp.bundle.dir, dir, { recursive: true });
    copyFileSync(join(dir, 'signing.key.pem'), join(dir, 'transport.key.pem'));
    const result = await runCli(['tpp', 'accounts', '--bundle', dir, '--ca', caFile]);
    assertFailure(result, 1, /transport\.key\.pem is not the key of transport\.cert\.pem/);
    assert.doesNotMatch(result.stderr, /fetch failed/);
  });

  it('a second sandbox on the same ports: one line naming the port and what to do, exit 1', async () => {
    const port = new URL(sandbox.platform.urls.browser).port;
    // The ports are the point, not a first start: no initdb or new CA before the refusal.
    const second = join(work, 'second');
    mkdirSync(second);
    await seedDataDir(second, { embedded: true });
    const result = await runCli(
      ['sandbox', '--data-dir', second, '--browser-port', port, '--mtls-port', '0', '--operator-port', '0'],
      // The second sandbox uses its own embedded database whatever the suite runs on.
      { DATABASE_URL: '', OBKIT_LOG_LEVEL: 'silent' },
      120_000,
    );
    assertFailure(result, 1, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
    assert.match(
      result.stderr,
      /--browser-port\/--mtls-port\/--operator-port \(OBKIT_BROWSER_PORT\/OBKIT_MTLS_PORT\/OBKIT_OPERATOR_PORT/,
    );
  });

  it('register on a registered bundle says so and updates it (PUT); --new registers another client', async () => {
    const tpp = await sandbox.tpp('re-register', ['AISP']);
    const before = Object.values(readBundle(tpp.bundle.dir).summary.registrations)[0]!;
    const args = [
      'tpp',
      'register',
      '--bundle',
      tpp.bundle.dir,
      '--bank',
      sandbox.discoveryUrl,
      '--ca',
      caFile,
    ];
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`registered at \\S+ already as client ${before.clientId}: updating`),
    );
    assert.match(again.stdout, new RegExp(`client id +${before.clientId} \\(registration updated\\)`));
    const updated = Object.values(readBundle(tpp.bundle.dir).summary.registrations)[0]!;
    assert.equal(updated.clientId, before.clientId);
    assert.ok(updated.updatedAt);

    const fresh = await runCli([...args, '--new', '--json']);
    assert.equal(fresh.code, 0, fresh.stderr);
    const registration = JSON.parse(fresh.stdout) as { clientId: string };
    assert.notEqual(registration.clientId, before.clientId);
    assert.equal(
      Object.values(readBundle(tpp.bundle.dir).summary.registrations)[0]?.clientId,
      registration.clientId,
    );
  });

  it("onboard and register follow the server's configuration (OBKIT_BROWSER_PORT, OBKIT_DATA_DIR) and the bundle", async () => {
    const out = join(work, 'configured');
    const env = {
      OBKIT_BROWSER_PORT: new URL(sandbox.platform.urls.browser).port,
      OBKIT_DATA_DIR: sandbox.platform.dataDir,
    };
    const onboarded = await runCli(
      [
        'tpp',
        'onboard',
        '--name',
        'Configured',
        '--roles',
        'AISP',
        '--redirect-uri',
        'https://configured.example/cb',
        '--out',
        out,
      ],
      env,
    );
    assert.equal(onboarded.code, 0, onboarded.stderr);
    assert.match(onboarded.stdout, /holds your private keys .*keep it safe/);
    const summary = readBundle(out).summary;
    assert.equal(summary.directory.url, sandbox.platform.urls.browser);
    assert.equal(summary.bank?.discoveryUrl, sandbox.discoveryUrl);
    assert.equal(summary.directory.caFile, caFile);

    // No --bank, no --ca, no configuration: the bundle says which bank and which CA.
    const registered = await runCli(['tpp', 'register', '--bundle', out], { OBKIT_BROWSER_PORT: '1' });
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(registered.stdout, /client id +\S+/);
  });
});
