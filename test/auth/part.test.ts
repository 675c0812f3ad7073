import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { mountAuthorizationServer } from '../../src/auth/part.ts';
import { loadOrCreateProviderSecrets } from '../../src/auth/secrets.ts';
import { loadOrCreateSandboxAuthorities } from '../../src/pki/index.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { createTestStore } from '../support/store.ts';

describe('mountAuthorizationServer (the part the platform mounts)', async () => {
  const store = await createTestStore();
  const pkiDir = join(await mkdtemp(join(tmpdir(), 'obkit-auth-part-')), 'pki');
  const authorities = await loadOrCreateSandboxAuthorities(pkiDir);
  const browser = Fastify() as unknown as FastifyInstance;
  const mtls = Fastify() as unknown as FastifyInstance;
  const mounted = await mountAuthorizationServer({
    config: { sandbox: true, revocationFailClosed: true, mtlsMode: 'direct' },
    store,
    clock: systemClock,
    tls: { trustAnchors: [new X509Certificate(authorities.trustAnchorsPem)], sandboxPkiDir: pkiDir },
    browser,
    mtls,
    urls: { browser: 'https://localhost:8443', mtls: 'https://localhost:8444' },
  });
  await browser.ready();
  await mtls.ready();
  after(async () => {
    await mounted.close();
    await browser.close();
    await mtls.close();
  });

  it('serves discovery on both listeners, naming the mTLS listener for token, PAR and registration', async () => {
    for (const app of [browser, mtls]) {
      const response = await app.inject({ method: 'GET', url: '/.well-known/openid-configuration' });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as Record<string, unknown>;
      assert.equal(body['issuer'], 'https://localhost:8443');
      const aliases = body['mtls_endpoint_aliases'] as Record<string, string>;
      for (const [name, url] of Object.entries({
        token_endpoint: 'https://localhost:8444/token',
        pushed_authorization_request_endpoint: 'https://localhost:8444/par',
        introspection_endpoint: 'https://localhost:8444/token/introspection',
        revocation_endpoint: 'https://localhost:8444/token/revocation',
        userinfo_endpoint: 'https://localhost:8444/userinfo',
        registration_endpoint: 'https://localhost:8444/register',
      })) {
        assert.equal(aliases[name], url, name);
        assert.equal(body[name], url, `${name} is the mTLS one`);
      }
      assert.ok(response.headers['x-fapi-interaction-id']);
    }
  });

  it('keeps browser endpoints off the mTLS listener and mTLS endpoints off the browser listener', async () => {
    assert.equal((await mtls.inject({ method: 'GET', url: '/authorize' })).statusCode, 404);
    assert.equal((await browser.inject({ method: 'POST', url: '/token' })).statusCode, 404);
    assert.equal((await browser.inject({ method: 'POST', url: '/register' })).statusCode, 404);
  });

  it('refuses a registration without a transport certificate with the spec error', async () => {
    const response = await mtls.inject({
      method: 'POST',
      url: '/register',
      headers: { 'content-type': 'application/jwt' },
      payload: 'a.b.c',
    });
    assert.equal(response.statusCode, 400);
    assert.equal((response.json() as { error: string }).error, 'unapproved_software_statement');
  });

  it('answers a token request without a certificate in RFC 6749 form', async () => {
    const response = await mtls.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&client_id=nobody',
    });
    assert.equal(response.statusCode, 401, response.body);
    assert.equal((response.json() as { error: string }).error, 'invalid_client');
  });

  it('keeps its signing keys and cookie secrets in the store, the same for every instance', async () => {
    const secrets = await loadOrCreateProviderSecrets(store.db);
    const jwks = (await browser.inject({ method: 'GET', url: '/jwks' })).json() as {
      keys: { kid: string; d?: string }[];
    };
    assert.deepEqual(
      jwks.keys.map((key) => key.kid),
      secrets.signingKeys.map((key) => key.kid),
    );
    assert.ok(
      jwks.keys.every((key) => key.d === undefined),
      'only public keys are published',
    );
  });
});
