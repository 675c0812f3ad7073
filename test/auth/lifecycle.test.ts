import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAccessToken, revokeTokensOnConsentRevocation } from '../../src/auth/tokens.ts';
import { createIntent, revoke, storeRevocationNotifier } from '../../src/consent/intents.ts';
import { describeClientCertificate } from '../../src/shared/client-certificate.ts';
import { systemClock } from '../../src/shared/clock.ts';
import { X509Certificate } from 'node:crypto';
import { recordStatements } from '../support/statements.ts';
import { authorize, errorOf, exchangeCode, stageIntent, startFlowHarness } from './flow.ts';

const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('PAR, refresh tokens, the API token check and revocation', async () => {
  const h = await startFlowHarness();
  const { a, b } = h.tpps;
  const certificateOf = (tpp: typeof a) =>
    describeClientCertificate(new X509Certificate(tpp.transport.certificatePem), 'tls');

  async function introspect(token: string) {
    return h.post(a.agent, `${h.mtlsUrl}/token/introspection`, {
      token,
      client_assertion_type: assertionType,
      client_assertion: await h.clientAssertion(a, { aud: `${h.mtlsUrl}/token/introspection` }),
    });
  }

  it('PAR with PKCE: the request object pushed over mTLS, then /authorize with request_uri only', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intent.id, par: true });
    assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
    const token = await exchangeCode(h, a, outcome.params['code'] ?? '', outcome.codeVerifier);
    assert.equal(token.status, 200, token.body);
  });

  it('PAR without PKCE is refused', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intent.id, par: true, withoutPkce: true });
    assert.equal(errorOf(outcome), 'invalid_request');
    assert.match(outcome.errorPage?.description ?? '', /PKCE/);
  });

  it('a request object by value without PKCE is accepted (FAPI 1.0 Advanced exempts it), and its code needs no verifier', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intent.id, withoutPkce: true });
    assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
    const token = await exchangeCode(h, a, outcome.params['code'] ?? '', undefined);
    assert.equal(token.status, 200, token.body);
  });

  it('a code_challenge sent by value is enforced: the code needs its verifier, and the right one', async () => {
    for (const verifier of [undefined, 'a-verifier-that-does-not-match-the-challenge-0123456789']) {
      const intent = await stageIntent(h.store, a.clientId);
      const outcome = await authorize(h, { tpp: a, intentId: intent.id });
      assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
      const token = await exchangeCode(h, a, outcome.params['code'] ?? '', verifier);
      assert.equal(token.status, 400, token.body);
      assert.equal(token.json['error'], 'invalid_grant');
    }
  });

  it('PKCE is S256 only, by value and at PAR', async () => {
    for (const par of [false, true]) {
      const intent = await stageIntent(h.store, a.clientId);
      const outcome = await authorize(h, {
        tpp: a,
        intentId: intent.id,
        par,
        overrides: {
          code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
          code_challenge_method: 'plain',
        },
      });
      assert.equal(errorOf(outcome), 'invalid_request', JSON.stringify(outcome));
      assert.equal(outcome.params['code'], undefined);
    }
  });

  it('the refresh token lives no longer than the intent, and refreshing yields a bound token for the intent', async () => {
    const expires = new Date(Date.now() + 2 * 3600_000);
    const intent = await createIntent(
      { db: h.store.db, clock: systemClock },
      {
        kind: 'account-access',
        clientId: a.clientId,
        data: { Permissions: ['ReadAccountsBasic'], ExpirationDateTime: expires.toISOString() },
        risk: {},
      },
    );
    const outcome = await authorize(h, { tpp: a, intentId: intent.id });
    const token = await exchangeCode(h, a, outcome.params['code'] ?? '', outcome.codeVerifier);
    assert.equal(token.status, 200, token.body);
    const refreshToken = token.json['refresh_token'] as string;
    const rt = await introspect(refreshToken);
    assert.equal(rt.json['active'], true, rt.body);
    const exp = rt.json['exp'] as number;
    assert.ok(
      exp <= Math.ceil(expires.getTime() / 1000),
      `refresh token exp ${exp} after the intent's expiry`,
    );
    assert.ok(exp > Math.floor(Date.now() / 1000) + 3600);

    const refreshed = await h.post(a.agent, `${h.mtlsUrl}/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_assertion_type: assertionType,
      client_assertion: await h.clientAssertion(a),
    });
    assert.equal(refreshed.status, 200, refreshed.body);
    const check = await checkAccessToken(
      h.server,
      refreshed.json['access_token'] as string,
      certificateOf(a),
    );
    assert.ok(check.ok);
    assert.equal(check.token.intentId, intent.id);
    assert.equal(check.token.grantType, 'authorization_code');
    assert.deepEqual(check.token.scopes.sort(), ['accounts', 'openid']);
  });

  it('checkAccessToken refuses a token presented with another certificate, or unknown', async () => {
    const token = await h.clientCredentials(a, 'accounts');
    const value = token.json['access_token'] as string;
    // Found under either model (AccessToken, ClientCredentials) with one statement, not one per model.
    const { result: own, statements } = await recordStatements(() =>
      checkAccessToken(h.server, value, certificateOf(a)),
    );
    assert.deepEqual(
      statements.filter((text) => text.includes('"auth_models"')).length,
      1,
      `one statement for the token: ${statements.join('\n')}`,
    );
    assert.ok(own.ok);
    assert.equal(own.token.grantType, 'client_credentials');
    assert.equal(own.token.intentId, undefined);
    const other = await checkAccessToken(h.server, value, certificateOf(b));
    assert.deepEqual(other.ok ? 'ok' : other.reason, 'certificate_mismatch');
    const none = await checkAccessToken(h.server, value, undefined);
    assert.equal(none.ok, false);
    const unknown = await checkAccessToken(h.server, 'not-a-token', certificateOf(a));
    assert.deepEqual(unknown.ok ? 'ok' : unknown.reason, 'invalid_token');
  });

  it('revoking the consent stops its access and refresh tokens at once', async () => {
    const stop = await revokeTokensOnConsentRevocation(h.store);
    try {
      const intent = await stageIntent(h.store, a.clientId);
      const outcome = await authorize(h, { tpp: a, intentId: intent.id });
      const token = await exchangeCode(h, a, outcome.params['code'] ?? '', outcome.codeVerifier);
      assert.equal(token.status, 200, token.body);
      const access = token.json['access_token'] as string;
      assert.equal((await introspect(access)).json['active'], true);

      await revoke(
        { db: h.store.db, clock: systemClock, notifyRevoked: storeRevocationNotifier(h.store) },
        intent.id,
        { actor: 'psu' },
      );
      let active = true;
      for (let attempt = 0; attempt < 50 && active; attempt += 1) {
        active = (await introspect(access)).json['active'] === true;
        if (active) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(active, false, 'the access token stopped working');
      assert.equal((await checkAccessToken(h.server, access, certificateOf(a))).ok, false);
      const refreshed = await h.post(a.agent, `${h.mtlsUrl}/token`, {
        grant_type: 'refresh_token',
        refresh_token: token.json['refresh_token'] as string,
        client_assertion_type: assertionType,
        client_assertion: await h.clientAssertion(a),
      });
      assert.equal(refreshed.json['error'], 'invalid_grant', refreshed.body);
    } finally {
      await stop();
    }
  });

  it('the token revocation endpoint revokes a token of the caller', async () => {
    const token = await h.clientCredentials(a, 'accounts');
    const value = token.json['access_token'] as string;
    const revoked = await h.post(a.agent, `${h.mtlsUrl}/token/revocation`, {
      token: value,
      client_assertion_type: assertionType,
      client_assertion: await h.clientAssertion(a, { aud: `${h.mtlsUrl}/token/revocation` }),
    });
    assert.equal(revoked.status, 200, revoked.body);
    assert.equal((await introspect(value)).json['active'], false);
  });
});
