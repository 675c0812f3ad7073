import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { getIntent } from '../../src/consent/intents.ts';
import { authorize, errorOf, exchangeCode, stageIntent, startFlowHarness } from './flow.ts';

describe('authorization code flow (FAPI 1.0 Advanced, Open Banking)', async () => {
  const h = await startFlowHarness();
  const { a } = h.tpps;

  it('code id_token: the PSU approves, the code is exchanged over mTLS for a bound token carrying the intent', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, { tpp: a, intentId: intent.id });
    assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
    const { code, id_token: detached, state } = outcome.params;
    assert.ok(code && detached);
    assert.equal(state, outcome.state);
    const detachedClaims = decodeJwt(detached);
    assert.ok(
      detachedClaims['c_hash'] && detachedClaims['s_hash'],
      'detached signature carries c_hash and s_hash',
    );

    const token = await exchangeCode(h, a, code, outcome.codeVerifier);
    assert.equal(token.status, 200, token.body);
    assert.equal(typeof token.json['refresh_token'], 'string');
    const idToken = token.json['id_token'] as string;
    const jwks = createLocalJWKSet((await h.get(h.plainAgent, `${h.browserUrl}/jwks`)).json as never);
    const { payload: claims, protectedHeader } = await jwtVerify(idToken, jwks, {
      issuer: h.browserUrl,
      audience: a.clientId,
    });
    assert.equal(protectedHeader.alg, 'PS256');
    assert.equal(claims['nonce'], outcome.nonce);
    assert.equal(claims['openbanking_intent_id'], intent.id);
    assert.equal(claims['acr'], 'urn:openbanking:psd2:sca');
    assert.notEqual(claims.sub, 'customer-1', 'sub is pairwise, not the customer id');

    const introspection = await h.post(a.agent, `${h.mtlsUrl}/token/introspection`, {
      token: token.json['access_token'] as string,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(a, { aud: `${h.mtlsUrl}/token/introspection` }),
    });
    assert.equal(introspection.status, 200, introspection.body);
    assert.equal(introspection.json['active'], true);
    assert.equal(introspection.json['openbanking_intent_id'], intent.id);
    const thumbprint = createHash('sha256')
      .update(new X509Certificate(a.transport.certificatePem).raw)
      .digest('base64url');
    assert.deepEqual(introspection.json['cnf'], { 'x5t#S256': thumbprint });
    assert.equal((await getIntent(h.store.db, intent.id))?.status, 'Authorised');
  });

  it('code with JARM: the response is a PS256-signed JWT carrying the code', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, {
      tpp: a,
      intentId: intent.id,
      responseType: 'code',
      responseMode: 'jwt',
    });
    assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
    assert.ok(outcome.params['response'], 'JARM response parameter');
    const header = JSON.parse(
      Buffer.from((outcome.params['response'] ?? '').split('.')[0] ?? '', 'base64url').toString(),
    ) as { alg: string };
    assert.equal(header.alg, 'PS256');
    const token = await exchangeCode(h, a, outcome.params['code'] ?? '', outcome.codeVerifier);
    assert.equal(token.status, 200, token.body);
  });

  it('a request for customer authentication (ca) only is satisfied by SCA and reports ca', async () => {
    const intent = await stageIntent(h.store, a.clientId);
    const outcome = await authorize(h, {
      tpp: a,
      intentId: intent.id,
      claims: {
        id_token: {
          openbanking_intent_id: { value: intent.id, essential: true },
          acr: { essential: true, values: ['urn:openbanking:psd2:ca'] },
        },
      },
    });
    assert.equal(errorOf(outcome), undefined, JSON.stringify(outcome));
    const token = await exchangeCode(h, a, outcome.params['code'] ?? '', outcome.codeVerifier);
    assert.equal(token.status, 200, token.body);
    assert.equal(decodeJwt(token.json['id_token'] as string)['acr'], 'urn:openbanking:psd2:ca');
  });
});
