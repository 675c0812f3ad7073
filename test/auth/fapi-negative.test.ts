import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair } from 'jose';
import { authorise, getIntent } from '../../src/consent/intents.ts';
import { systemClock } from '../../src/shared/clock.ts';
import {
  authorize,
  errorOf,
  exchangeCode,
  stageIntent,
  startFlowHarness,
  type AuthorizationRequest,
} from './flow.ts';

/** Each case is named after the OpenID FAPI1-Advanced conformance test it mirrors. */
describe('FAPI1-Advanced negative cases', async () => {
  const h = await startFlowHarness();
  const { a, b, tls } = h.tpps;

  async function refused(
    options: Omit<AuthorizationRequest, 'tpp' | 'intentId'> & { tpp?: typeof a },
    expected: string,
  ) {
    const intent = await stageIntent(h.store, (options.tpp ?? a).clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intent.id, ...options });
    assert.equal(errorOf(outcome), expected, JSON.stringify(outcome));
    assert.equal(outcome.params['code'], undefined, 'no code was issued');
    // Nothing reached the consent step: the intent is untouched.
    assert.equal((await getIntent(h.store.db, intent.id))?.status, 'AwaitingAuthorisation');
    return outcome;
  }

  const descriptionOf = (outcome: Awaited<ReturnType<typeof authorize>>) =>
    outcome.params['error_description'] ?? outcome.errorPage?.description ?? '';
  const now = () => Math.floor(Date.now() / 1000);

  it('ensure-request-object-missing-exp-fails', async () => {
    await refused({ overrides: { exp: undefined } }, 'invalid_request_object');
  });
  it('ensure-request-object-missing-nbf-fails', async () => {
    await refused({ overrides: { nbf: undefined } }, 'invalid_request_object');
  });
  it('ensure-expired-request-object-fails', async () => {
    await refused({ overrides: { nbf: now() - 1200, exp: now() - 600 } }, 'invalid_request_object');
  });
  it('ensure-request-object-with-long-exp-fails (exp − nbf > 60 min)', async () => {
    await refused({ overrides: { nbf: now(), exp: now() + 3601 } }, 'invalid_request_object');
  });
  it('ensure-request-object-with-bad-aud-fails', async () => {
    await refused({ overrides: { aud: 'https://another-bank.example' } }, 'invalid_request_object');
  });
  it('ensure-request-object-signature-algorithm-is-RS256-fails', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    await refused({ alg: 'RS256', signingKey: privateKey }, 'invalid_request_object');
  });
  it('ensure-request-object-signature-algorithm-is-none-fails', async () => {
    await refused({ alg: 'none' }, 'invalid_request_object');
  });
  it('ensure-request-object-signature-algorithm-is-bad-fails (bad signature)', async () => {
    const { privateKey } = await generateKeyPair('PS256');
    await refused({ signingKey: privateKey }, 'invalid_request_object');
  });
  it('ensure-authorization-request-without-request-object-fails', async () => {
    await refused({ withoutRequestObject: true }, 'invalid_request');
  });
  it('ensure-response-type-code-without-jarm-fails', async () => {
    const outcome = await refused(
      { responseType: 'code', query: { response_type: 'code' } },
      'invalid_request',
    );
    assert.match(
      outcome.params['error_description'] ?? outcome.errorPage?.description ?? '',
      /response_mode/,
    );
  });
  it('ensure-registered-redirect-uri (redirect URI not registered)', async () => {
    const outcome = await refused(
      { redirectUri: 'https://attacker.example/callback' },
      'invalid_redirect_uri',
    );
    assert.equal(
      outcome.errorPage?.status,
      400,
      'shown to the user, never redirected to the unregistered URI',
    );
  });

  it('ensure-matching-key-in-authorization-request (intent id of another client)', async () => {
    const intentOfB = await stageIntent(h.store, b.clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intentOfB.id });
    assert.equal(errorOf(outcome), 'invalid_request');
    assert.match(descriptionOf(outcome), /does not name an intent of this client/);
    assert.equal((await getIntent(h.store.db, intentOfB.id))?.status, 'AwaitingAuthorisation');
  });
  it('intent already authorised is refused unless its kind may be re-authenticated', async () => {
    // Funds confirmation: its profile leaves re-authentication to the bank, which does not offer it (an
    // Authorised account-access or VRP consent is re-authenticated instead: test/consent/journey.test.ts).
    const intent = await stageIntent(h.store, a.clientId, 'funds-confirmation');
    await authorise({ db: h.store.db, clock: systemClock }, intent.id, {
      customerId: 'customer-1',
      accountIds: ['account-1'],
    });
    const outcome = await authorize(h, { tpp: a, intentId: intent.id, scope: 'openid fundsconfirmations' });
    assert.equal(errorOf(outcome), 'invalid_request');
    assert.match(descriptionOf(outcome), /Authorised, not AwaitingAuthorisation/);
  });
  it('intent whose kind does not match the scope is refused', async () => {
    await refused({ scope: 'openid payments' }, 'invalid_scope');
  });
  it('claims request without openbanking_intent_id is refused', async () => {
    await refused(
      { claims: { id_token: { acr: { essential: true, values: ['urn:openbanking:psd2:sca'] } } } },
      'invalid_request',
    );
  });
  it('ensure-essential-acr-not-satisfiable-fails', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, {
      tpp: a,
      intentId: intent.id,
      claims: {
        id_token: {
          openbanking_intent_id: { value: intent.id, essential: true },
          acr: { essential: true, value: 'urn:mace:incommon:iap:silver' },
        },
      },
    });
    assert.equal(errorOf(outcome), 'access_denied');
  });

  describe('token endpoint', () => {
    async function code(tpp = a) {
      const intent = await stageIntent(h.store, tpp.clientId);
      const outcome = await authorize(h, { tpp, intentId: intent.id });
      assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
      return { code: outcome.params['code'] ?? '', verifier: outcome.codeVerifier, intent };
    }
    const assertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    async function clientCredentialsWith(assertion: string | undefined, agent = a.agent) {
      return h.post(agent, `${h.mtlsUrl}/token`, {
        grant_type: 'client_credentials',
        scope: 'accounts',
        client_id: a.clientId,
        ...(assertion === undefined
          ? {}
          : { client_assertion_type: assertionType, client_assertion: assertion }),
      });
    }

    it('ensure-client-assertion-signature-algorithm-is-RS256-fails', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const result = await clientCredentialsWith(await h.clientAssertion(a, {}, 'RS256', privateKey));
      assert.equal(result.status, 401, result.body);
      assert.equal(result.json['error'], 'invalid_client');
    });
    it('ensure-client-assertion-expired-fails', async () => {
      const result = await clientCredentialsWith(
        await h.clientAssertion(a, { iat: now() - 600, exp: now() - 300 }),
      );
      assert.equal(result.json['error'], 'invalid_client', result.body);
    });
    it('ensure-client-assertion-with-wrong-aud-fails', async () => {
      const result = await clientCredentialsWith(
        await h.clientAssertion(a, { aud: 'https://another-bank.example/token' }),
      );
      assert.equal(result.json['error'], 'invalid_client', result.body);
    });
    it('ensure-client-assertion-with-wrong-iss-fails', async () => {
      const result = await clientCredentialsWith(await h.clientAssertion(a, { iss: b.clientId }));
      assert.equal(result.json['error'], 'invalid_client', result.body);
    });
    it('ensure-client-assertion-with-wrong-sub-fails', async () => {
      const result = await h.post(a.agent, `${h.mtlsUrl}/token`, {
        grant_type: 'client_credentials',
        scope: 'accounts',
        client_assertion_type: assertionType,
        client_assertion: await h.clientAssertion(a, { sub: b.clientId }),
      });
      assert.equal(result.json['error'], 'invalid_client', result.body);
    });
    it('ensure-client-assertion-missing-fails', async () => {
      const result = await clientCredentialsWith(undefined);
      assert.equal(result.json['error'], 'invalid_client', result.body);
      assert.equal(result.json['access_token'], undefined);
    });
    it('ensure-client-assertion-is-single-use: one assertion sent twice at once, exactly one wins', async () => {
      const assertion = await h.clientAssertion(a);
      const results = await Promise.all([clientCredentialsWith(assertion), clientCredentialsWith(assertion)]);
      assert.deepEqual(results.map((result) => result.status).sort(), [200, 401]);
      assert.equal(results.find((result) => result.status === 401)?.json['error'], 'invalid_client');
      const again = await clientCredentialsWith(assertion);
      assert.equal(again.json['error'], 'invalid_client');
    });
    it('ensure-holder-of-key-required (token request without the client certificate)', async () => {
      const { code: value, verifier } = await code();
      const result = await exchangeCode(h, a, value, verifier, { agent: h.plainAgent });
      assert.equal(result.status, 400, result.body);
      assert.equal(result.json['error'], 'invalid_grant');
      const tlsAuth = await h.post(h.plainAgent, `${h.mtlsUrl}/token`, {
        grant_type: 'client_credentials',
        scope: 'accounts',
        client_id: tls.clientId,
      });
      assert.equal(tlsAuth.json['error'], 'invalid_client', tlsAuth.body);
    });
    it("ensure-client-certificate-of-another-client-fails (token request with another client's certificate)", async () => {
      const { code: value, verifier } = await code();
      const result = await exchangeCode(h, a, value, verifier, { agent: b.agent });
      assert.equal(result.json['error'], 'invalid_client', result.body);
      const tlsAuth = await h.post(a.agent, `${h.mtlsUrl}/token`, {
        grant_type: 'client_credentials',
        scope: 'accounts',
        client_id: tls.clientId,
      });
      assert.equal(tlsAuth.json['error'], 'invalid_client', tlsAuth.body);
    });
    it('ensure-authorization-code-is-single-use (code reused), and the reuse revokes the first token', async () => {
      const { code: value, verifier } = await code();
      const first = await exchangeCode(h, a, value, verifier);
      assert.equal(first.status, 200, first.body);
      const second = await exchangeCode(h, a, value, verifier);
      assert.equal(second.status, 400);
      assert.equal(second.json['error'], 'invalid_grant');
      const introspection = await h.post(a.agent, `${h.mtlsUrl}/token/introspection`, {
        token: first.json['access_token'] as string,
        client_assertion_type: assertionType,
        client_assertion: await h.clientAssertion(a, { aud: `${h.mtlsUrl}/token/introspection` }),
      });
      assert.equal(introspection.json['active'], false);
    });
    it('ensure-authorization-code-is-single-use under concurrency: two redemptions at once, exactly one wins', async () => {
      for (let round = 0; round < 3; round += 1) {
        const { code: value, verifier } = await code();
        const results = await Promise.all([
          exchangeCode(h, a, value, verifier),
          exchangeCode(h, a, value, verifier),
          exchangeCode(h, a, value, verifier),
        ]);
        const won = results.filter((result) => result.status === 200);
        assert.equal(won.length, 1, results.map((result) => result.body).join('\n'));
        for (const result of results.filter((r) => r.status !== 200))
          assert.equal(result.json['error'], 'invalid_grant');
      }
    });
    it('ensure-code-issued-to-another-client-fails', async () => {
      const { code: value, verifier } = await code(a);
      const result = await exchangeCode(h, b, value, verifier, { redirectUri: a.redirectUri });
      assert.equal(result.status, 400, result.body);
      assert.equal(result.json['error'], 'invalid_grant');
    });
    it('OAuth errors are RFC 6749 bodies with no stack trace', async () => {
      const result = await h.post(a.agent, `${h.mtlsUrl}/token`, { grant_type: 'password' });
      assert.ok(result.status >= 400 && result.status < 500);
      assert.deepEqual(Object.keys(result.json).sort(), ['error', 'error_description']);
      assert.doesNotMatch(result.body, /at .*\.js:\d+/);
      assert.ok(result.headers['x-fapi-interaction-id']);
    });
  });
});
