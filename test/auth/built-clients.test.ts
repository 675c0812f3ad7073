import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { StoreAdapter } from '../../src/auth/adapter.ts';
import { createAuthorizationServer } from '../../src/auth/provider.ts';
import { generateProviderSecrets } from '../../src/auth/secrets.ts';
import { registrationSerialisations } from '../support/registration-serialisations.ts';
import { createTestStore } from '../support/store.ts';

/**
 * oidc-provider's built clients of registered clients (each with its key set) are kept between requests,
 * but only the most recently used few: a bank with tens of thousands of registrations does not keep a built
 * client for each one the client cache holds (bench/README.md, tokens, session 21).
 */
describe("registered clients' built clients: the most recently used kept, no more", async () => {
  const store = await createTestStore();
  const builtClientsKept = 3;
  const server = createAuthorizationServer({
    store,
    issuer: 'https://bank.example',
    mtlsBaseUrl: 'https://mtls.bank.example',
    secrets: await generateProviderSecrets(),
    // The client cache keeps every registration read here (its change version never moves).
    changeVersion: () => 0,
    builtClientsKept,
  });
  const { publicKey } = await generateKeyPair('PS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: randomUUID(), use: 'sig', alg: 'PS256' };
  const clients = Array.from({ length: 10 }, (_, index) => `registered-${index}`);
  const registrations = new StoreAdapter('Client', store.db);
  for (const clientId of clients)
    await registrations.upsert(clientId, {
      client_id: clientId,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
      redirect_uris: [`https://${clientId}.tpp.example/callback`],
      grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
      response_types: ['code id_token', 'code'],
      scope: 'openid accounts payments',
    });

  /** How many times oidc-provider serialised `clientId`'s registration to find it (0: its built client was kept). */
  const serialisationsOf = (clientId: string) =>
    registrationSerialisations(clientId, 'token_endpoint_auth_method', async () =>
      assert.equal((await server.provider.Client.find(clientId))?.clientId, clientId),
    );

  it('keeps the built clients of the most recently found registrations only', async () => {
    for (const clientId of clients) assert.ok(await server.provider.Client.find(clientId));
    const recent = clients.slice(-builtClientsKept);
    // The most recent ones are found without building (or hashing) anything, least recent first so that
    // none of them is dropped by another's find.
    for (const clientId of recent) assert.equal(await serialisationsOf(clientId), 0, clientId);
    // The one found before them was dropped: found again, its registration goes through the provider.
    const dropped = clients[clients.length - builtClientsKept - 1]!;
    assert.equal(await serialisationsOf(dropped), 1);
    // It is kept now, and the least recent of the others was dropped in its place.
    assert.equal(await serialisationsOf(dropped), 0);
    assert.equal(await serialisationsOf(recent[0]!), 1);
  });
});
