import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { getIntent } from '../../src/consent/intents.ts';
import { authorize, errorOf, exchangeCode, stageIntent, startFlowHarness } from './flow.ts';

/**
 * Discovery says only what the bank accepts: every advertised response_type × response_mode is called and
 * either works or is refused because a specification forbids that pairing (named below); everything
 * unadvertised is refused with an RFC 6749 error.
 */
type Expected =
  { delivery: 'query' | 'fragment' | 'form_post'; jarm: boolean } | { refused: string; because: string };

const FAPI_CODE_NEEDS_JARM = 'FAPI 1.0 Advanced 5.2.2-2: code only with JARM';
/** What each advertised pairing does; `default` is no response_mode. */
const COMBINATIONS: Record<string, Record<string, Expected>> = {
  'code id_token': {
    default: { delivery: 'fragment', jarm: false },
    fragment: { delivery: 'fragment', jarm: false },
    form_post: { delivery: 'form_post', jarm: false },
    jwt: { delivery: 'fragment', jarm: true },
    'query.jwt': { refused: 'invalid_request', because: 'JARM 2.3.1: not with an ID token unless encrypted' },
    'fragment.jwt': { delivery: 'fragment', jarm: true },
    'form_post.jwt': { delivery: 'form_post', jarm: true },
  },
  code: {
    default: { refused: 'invalid_request', because: FAPI_CODE_NEEDS_JARM },
    fragment: { refused: 'invalid_request', because: FAPI_CODE_NEEDS_JARM },
    form_post: { refused: 'invalid_request', because: FAPI_CODE_NEEDS_JARM },
    jwt: { delivery: 'query', jarm: true },
    'query.jwt': { delivery: 'query', jarm: true },
    'fragment.jwt': { delivery: 'fragment', jarm: true },
    'form_post.jwt': { delivery: 'form_post', jarm: true },
  },
};

describe('discovery says only what the bank accepts', async () => {
  const h = await startFlowHarness();
  const { a } = h.tpps;
  const discovery = (await h.get(h.plainAgent, `${h.browserUrl}/.well-known/openid-configuration`)).json;
  const jwks = createLocalJWKSet((await h.get(h.plainAgent, `${h.browserUrl}/jwks`)).json as never);

  async function refusedWith(
    outcome: Awaited<ReturnType<typeof authorize>>,
    intentId: string,
    expected: string,
    label: string,
  ) {
    assert.equal(errorOf(outcome), expected, `${label}: ${JSON.stringify(outcome)}`);
    assert.equal(outcome.params['code'], undefined, `${label}: no code`);
    assert.equal((await getIntent(h.store.db, intentId))?.status, 'AwaitingAuthorisation', label);
  }

  it('no implicit grant, only usable response modes, PAR without request_uri_parameter_supported', () => {
    assert.deepEqual(discovery['grant_types_supported'], [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:openid:params:grant-type:ciba',
    ]);
    assert.deepEqual(discovery['response_types_supported'], ['code id_token', 'code']);
    assert.deepEqual(discovery['response_modes_supported'], [
      'fragment',
      'form_post',
      'jwt',
      'query.jwt',
      'fragment.jwt',
      'form_post.jwt',
    ]);
    assert.deepEqual(discovery['code_challenge_methods_supported'], ['S256']);
    // RFC 9126 §5: a request_uri from the PAR endpoint is usable whatever request_uri_parameter_supported
    // says; that flag is about request objects the bank would fetch from a TPP's URL, which it never does.
    assert.equal(discovery['pushed_authorization_request_endpoint'], `${h.mtlsUrl}/par`);
    assert.equal(discovery['request_uri_parameter_supported'], false);
    assert.equal(discovery['request_parameter_supported'], true);
    assert.notEqual(discovery['require_pushed_authorization_requests'], true);
  });

  it('every advertised response_type × response_mode works, or is refused as its specification says', async () => {
    const types = discovery['response_types_supported'] as string[];
    const modes = discovery['response_modes_supported'] as string[];
    assert.deepEqual(
      Object.keys(COMBINATIONS).sort(),
      [...types].sort(),
      'the table covers every response type',
    );
    for (const type of types) {
      assert.deepEqual(
        Object.keys(COMBINATIONS[type] ?? {}).sort(),
        ['default', ...modes].sort(),
        `the table covers every response mode for ${type}`,
      );
      for (const mode of ['default', ...modes]) {
        const expected = COMBINATIONS[type]?.[mode];
        assert.ok(expected);
        const label = `${type} / ${mode}`;
        const responseType = type as 'code' | 'code id_token';
        const intent = await stageIntent(h.store, a.clientId);
        const outcome = await authorize(h, {
          tpp: a,
          intentId: intent.id,
          responseType,
          ...(mode === 'default' ? {} : { responseMode: mode }),
        });
        if ('refused' in expected) {
          await refusedWith(outcome, intent.id, expected.refused, `${label} (${expected.because})`);
          continue;
        }
        assert.equal(errorOf(outcome), undefined, `${label}: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.delivery, expected.delivery, label);
        assert.equal(outcome.params['state'], outcome.state, label);
        if (expected.jarm) {
          const { payload, protectedHeader } = await jwtVerify(outcome.params['response'] ?? '', jwks, {
            issuer: h.browserUrl,
            audience: a.clientId,
          });
          assert.equal(protectedHeader.alg, 'PS256', label);
          assert.equal(payload['code'], outcome.params['code'], label);
        } else {
          assert.equal(outcome.params['response'], undefined, label);
        }
        if (type === 'code id_token') assert.ok(outcome.params['id_token'], `${label}: detached ID token`);
        const token = await exchangeCode(h, a, outcome.params['code'] ?? '', outcome.codeVerifier);
        assert.equal(token.status, 200, `${label}: ${token.body}`);
      }
    }
  });

  it('unadvertised response modes are refused (query, for either response type)', async () => {
    for (const responseType of ['code id_token', 'code'] as const) {
      const intent = await stageIntent(h.store, a.clientId);
      const outcome = await authorize(h, {
        tpp: a,
        intentId: intent.id,
        responseType,
        responseMode: 'query',
      });
      await refusedWith(outcome, intent.id, 'invalid_request', `${responseType} / query`);
    }
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intent.id, responseMode: 'web_message' });
    await refusedWith(outcome, intent.id, 'unsupported_response_mode', 'web_message');
  });

  it('unadvertised response types are refused with an RFC 6749 error', async () => {
    // unsupported_response_type, except where oidc-provider's FAPI check of the response mode runs first:
    // a type without id_token in its default mode (fragment or query) is not `code`+JARM, so invalid_request.
    const refusals: Record<string, string> = {
      token: 'invalid_request',
      id_token: 'unsupported_response_type',
      'code token': 'invalid_request',
      'code id_token token': 'unsupported_response_type',
      none: 'invalid_request',
    };
    for (const [responseType, error] of Object.entries(refusals)) {
      const intent = await stageIntent(h.store, a.clientId);
      const outcome = await authorize(h, {
        tpp: a,
        intentId: intent.id,
        overrides: { response_type: responseType },
        query: { response_type: responseType },
      });
      await refusedWith(outcome, intent.id, error, responseType);
    }
  });

  it('the implicit grant is refused at the token endpoint', async () => {
    const result = await h.post(a.agent, `${h.mtlsUrl}/token`, {
      grant_type: 'implicit',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(a),
    });
    assert.equal(result.status, 400, result.body);
    assert.equal(result.json['error'], 'unsupported_grant_type');
    assert.deepEqual(Object.keys(result.json).sort(), ['error', 'error_description']);
  });

  it('a request_uri the PAR endpoint did not issue is refused with request_uri_not_supported', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, {
      tpp: a,
      intentId: intent.id,
      withoutRequestObject: true,
      query: { request_uri: 'https://a.tpp.example/request.jwt' },
    });
    await refusedWith(outcome, intent.id, 'request_uri_not_supported', 'request_uri by reference');
  });
});
