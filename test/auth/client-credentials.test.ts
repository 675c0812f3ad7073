import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { startHarness, type Harness } from './harness.ts';
import { schema } from '../../src/store/index.ts';

describe('client_credentials over mTLS', async () => {
  const h: Harness = await startHarness();

  it('issues a certificate-bound token to private_key_jwt over mTLS, and introspection shows the binding', async () => {
    const { a } = h.tpps;
    const token = await h.clientCredentials(a, 'accounts');
    assert.equal(token.status, 200, token.body);
    assert.equal(token.json['token_type'], 'Bearer');
    assert.equal(token.json['scope'], 'accounts');
    assert.equal(typeof token.json['access_token'], 'string');
    assert.ok(token.headers['x-fapi-interaction-id']);

    const thumbprint = createHash('sha256')
      .update(new X509Certificate(a.transport.certificatePem).raw)
      .digest('base64url');
    const introspection = await h.post(a.agent, `${h.mtlsUrl}/token/introspection`, {
      token: token.json['access_token'] as string,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(a, { aud: `${h.mtlsUrl}/token/introspection` }),
    });
    assert.equal(introspection.status, 200, introspection.body);
    assert.equal(introspection.json['active'], true);
    assert.equal(introspection.json['client_id'], a.clientId);
    assert.deepEqual(introspection.json['cnf'], { 'x5t#S256': thumbprint });

    // Persisted in the store, not in memory.
    const stored = await h.store.db.select().from(schema.authModels);
    assert.ok(stored.some((row) => row.model === 'ClientCredentials'));
  });

  it("works out a client's metadata once per built client, not on every token request", async () => {
    // The certificate check at the token endpoint reads the client's software id from its metadata;
    // oidc-provider's `metadata()` maps every property anew (src/auth/client-metadata.ts).
    const { a } = h.tpps;
    assert.equal((await h.clientCredentials(a, 'accounts')).status, 200);
    const client = await h.server.provider.Client.find(a.clientId);
    assert.ok(client);
    const metadata = client.metadata.bind(client);
    let calls = 0;
    client.metadata = () => {
      calls += 1;
      return metadata();
    };
    try {
      for (let i = 0; i < 3; i++) assert.equal((await h.clientCredentials(a, 'accounts')).status, 200);
    } finally {
      delete (client as Partial<typeof client>).metadata;
    }
    assert.equal(calls, 0);
  });

  it('issues a bound token to tls_client_auth', async () => {
    const { tls } = h.tpps;
    const token = await h.post(tls.agent, `${h.mtlsUrl}/token`, {
      grant_type: 'client_credentials',
      scope: 'payments',
      client_id: tls.clientId,
    });
    assert.equal(token.status, 200, token.body);
  });

  it('discovery names the mTLS endpoints in mtls_endpoint_aliases and only FAPI algorithms', async () => {
    const discovery = await h.get(h.plainAgent, `${h.browserUrl}/.well-known/openid-configuration`);
    assert.equal(discovery.status, 200, discovery.body);
    const aliases = discovery.json['mtls_endpoint_aliases'] as Record<string, string>;
    assert.equal(aliases['token_endpoint'], `${h.mtlsUrl}/token`);
    assert.equal(aliases['pushed_authorization_request_endpoint'], `${h.mtlsUrl}/par`);
    assert.equal(aliases['introspection_endpoint'], `${h.mtlsUrl}/token/introspection`);
    assert.equal(aliases['registration_endpoint'], `${h.mtlsUrl}/register`);
    assert.equal(discovery.json['authorization_endpoint'], `${h.browserUrl}/authorize`);
    assert.deepEqual(discovery.json['id_token_signing_alg_values_supported'], ['PS256']);
    assert.deepEqual(discovery.json['request_object_signing_alg_values_supported'], ['PS256']);
    assert.deepEqual(discovery.json['token_endpoint_auth_methods_supported'], [
      'private_key_jwt',
      'tls_client_auth',
    ]);
    assert.deepEqual(discovery.json['response_types_supported'], ['code id_token', 'code']);
    assert.deepEqual(discovery.json['subject_types_supported'], ['pairwise']);
    assert.deepEqual(discovery.json['acr_values_supported'], [
      'urn:openbanking:psd2:sca',
      'urn:openbanking:psd2:ca',
    ]);
    assert.equal(discovery.json['tls_client_certificate_bound_access_tokens'], true);
    assert.equal(discovery.json['require_signed_request_object'], true);
    assert.ok(!('dpop_signing_alg_values_supported' in discovery.json));
    assert.ok((discovery.json['claims_supported'] as string[]).includes('openbanking_intent_id'));
  });
});
