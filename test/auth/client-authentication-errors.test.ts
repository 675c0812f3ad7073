import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKeyPair } from 'jose';
import { request } from 'undici';
import { CIBA_ROUTE } from '../../src/auth/ciba.ts';
import { assertOAuthError } from '../support/oauth-errors.ts';
import { startHarness } from './harness.ts';

/**
 * RFC 6749 §5.2: a client that fails to authenticate gets `invalid_client` with HTTP 401, at every endpoint
 * where clients authenticate (token, PAR, introspection, revocation, CIBA), however it failed.
 */
describe('invalid_client is 401 at every endpoint that authenticates clients', async () => {
  const h = await startHarness();
  const { a, b, tls } = h.tpps;
  const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
  const { privateKey: strangerKey } = await generateKeyPair('PS256');

  const endpoints: Record<string, { path: string; form: Record<string, string> }> = {
    token: { path: '/token', form: { grant_type: 'client_credentials', scope: 'accounts' } },
    PAR: { path: '/par', form: { response_type: 'code id_token', scope: 'openid accounts' } },
    introspection: { path: '/token/introspection', form: { token: randomUUID() } },
    revocation: { path: '/token/revocation', form: { token: randomUUID() } },
    CIBA: { path: CIBA_ROUTE, form: { scope: 'openid accounts', login_hint: 'customer-1' } },
  };

  for (const [name, endpoint] of Object.entries(endpoints)) {
    const url = `${h.mtlsUrl}${endpoint.path}`;
    // The issuer is an audience every one of these endpoints accepts.
    const aud = h.browserUrl;

    describe(name, () => {
      it('a client assertion whose sub is another client (client_id the signer) → 401 invalid_client', async () => {
        const result = await h.post(a.agent, url, {
          ...endpoint.form,
          client_id: a.clientId,
          client_assertion_type: assertionType,
          client_assertion: await h.clientAssertion(a, { aud, sub: b.clientId }),
        });
        assertOAuthError(result, 401, 'invalid_client');
      });

      it('a client assertion whose sub is another client (no client_id) → 401 invalid_client', async () => {
        const result = await h.post(a.agent, url, {
          ...endpoint.form,
          client_assertion_type: assertionType,
          client_assertion: await h.clientAssertion(a, { aud, sub: b.clientId }),
        });
        assertOAuthError(result, 401, 'invalid_client');
      });

      it('a client assertion signed with a key the client does not hold → 401 invalid_client', async () => {
        const result = await h.post(a.agent, url, {
          ...endpoint.form,
          client_id: a.clientId,
          client_assertion_type: assertionType,
          client_assertion: await h.clientAssertion(a, { aud }, 'PS256', strangerKey),
        });
        assertOAuthError(result, 401, 'invalid_client');
      });

      it('an unknown client → 401 invalid_client', async () => {
        const stranger = { ...a, clientId: `unknown-${randomUUID()}` };
        const result = await h.post(a.agent, url, {
          ...endpoint.form,
          client_id: stranger.clientId,
          client_assertion_type: assertionType,
          client_assertion: await h.clientAssertion(stranger, { aud }),
        });
        assertOAuthError(result, 401, 'invalid_client');
      });

      it('tls_client_auth without a certificate → 401 invalid_client', async () => {
        const result = await h.post(h.plainAgent, url, { ...endpoint.form, client_id: tls.clientId });
        assertOAuthError(result, 401, 'invalid_client');
      });

      it("tls_client_auth with another client's certificate → 401 invalid_client", async () => {
        const result = await h.post(a.agent, url, { ...endpoint.form, client_id: tls.clientId });
        assertOAuthError(result, 401, 'invalid_client');
      });

      // Only the token endpoint binds what it issues to the certificate, so only it looks at whose it is.
      it('a client that prefers HTML still gets the RFC 6749 JSON body', async () => {
        const response = await request(url, {
          method: 'POST',
          dispatcher: a.agent,
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
          body: new URLSearchParams({ ...endpoint.form, client_id: tls.clientId }).toString(),
        });
        const result = {
          status: response.statusCode,
          headers: response.headers,
          body: await response.body.text(),
        };
        assertOAuthError(result, 401, 'invalid_client');
      });

      if (name === 'token') {
        it("private_key_jwt over another client's certificate → 401 invalid_client", async () => {
          const result = await h.post(b.agent, url, {
            ...endpoint.form,
            client_id: a.clientId,
            client_assertion_type: assertionType,
            client_assertion: await h.clientAssertion(a, { aud }),
          });
          assertOAuthError(result, 401, 'invalid_client');
        });
      }
    });
  }
});
