import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { connectToBank } from '../../src/tpp/bank.ts';
import { readBundle } from '../../src/tpp/bundle.ts';
import { onboard } from '../../src/tpp/onboard.ts';
import { runCli } from '../support/cli.ts';
import { startSandbox } from '../support/journey.ts';

describe('obkit tpp register', async () => {
  const sandbox = await startSandbox();
  const work = mkdtempSync(join(tmpdir(), 'obkit-register-'));
  const caFile = join(sandbox.platform.dataDir, 'pki', 'root-ca.pem');

  async function onboarded(name: string): Promise<string> {
    const outDir = join(work, name);
    await onboard({
      directoryUrl: sandbox.platform.urls.browser,
      organisationName: name,
      clientName: name,
      roles: ['AISP'],
      redirectUris: [`https://${name}.example/cb`],
      certificateProfile: 'obie',
      outDir,
      trust: [sandbox.rootPem],
    });
    return outDir;
  }

  for (const method of ['private_key_jwt', 'tls_client_auth'] as const) {
    it(`registers by DCR with ${method}, records the client in the bundle, and the client gets a bound token`, async () => {
      const dir = await onboarded(`reg-${method.replace(/_/g, '-')}`);
      const result = await runCli([
        'tpp',
        'register',
        '--bundle',
        dir,
        '--bank',
        sandbox.discoveryUrl,
        '--ca',
        caFile,
        '--auth-method',
        method,
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /✓ registered as client /);
      const bundle = readBundle(dir);
      const registration = bundle.summary.registrations[sandbox.platform.urls.browser];
      assert.ok(registration?.clientId, JSON.stringify(bundle.summary.registrations));
      if (method === 'private_key_jwt') {
        const bank = await connectToBank(bundle, {
          discoveryUrl: sandbox.discoveryUrl,
          trust: [sandbox.rootPem],
          clientId: registration.clientId,
        });
        try {
          const token = await clientCredentialsToken(bank, 'accounts');
          assert.ok(token.access_token);
        } finally {
          await bank.close();
        }
      }
    });
  }

  it('reports a folder that is not a bundle without a stack trace', async () => {
    const dir = await onboarded('reg-missing');
    const result = await runCli([
      'tpp',
      'register',
      '--bundle',
      join(dir, 'nope'),
      '--bank',
      sandbox.discoveryUrl,
      '--ca',
      caFile,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /bundle\.json is missing/);
  });
});
