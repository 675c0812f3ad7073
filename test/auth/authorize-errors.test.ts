import assert from 'node:assert/strict';
import { randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKeyPair } from 'jose';
import { request } from 'undici';
import { assertErrorPage, type PageResponse } from '../support/error-page.ts';
import { requestObject, stageIntent, startFlowHarness } from './flow.ts';

/**
 * Errors a person sees at /authorize: when the error cannot go back to the app, an accessible HTML page
 * (what went wrong, the x-fapi-interaction-id, what to do), never JSON or a trace. A request whose request
 * object was not verified is never redirected, and its unverified `state` appears nowhere.
 */
describe('/authorize errors a person sees', async () => {
  const h = await startFlowHarness();
  const { a, b } = h.tpps;
  const { privateKey: strangerKey } = await generateKeyPair('PS256');

  async function get(url: string, headers: Record<string, string> = {}) {
    const response = await request(url, {
      method: 'GET',
      dispatcher: h.plainAgent,
      headers: { accept: 'text/html,application/xhtml+xml', ...headers },
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  }

  function assertOAuthErrorPage(response: PageResponse, status: number, error: string): void {
    assert.equal(assertErrorPage(response, status).error, error);
  }

  /** A by-value authorization URL whose outer query names a registered redirect URI and a state. */
  async function authorizeUrl(
    options: { signingKey?: webcrypto.CryptoKey; overrides?: Record<string, unknown>; tpp?: typeof a } = {},
  ) {
    const tpp = options.tpp ?? a;
    const intent = await stageIntent(h.store, tpp.clientId);
    const state = `state-${randomBytes(12).toString('hex')}`;
    const outerState = `outer-${randomBytes(12).toString('hex')}`;
    const jwt = await requestObject(
      h,
      {
        tpp,
        intentId: intent.id,
        ...(options.signingKey ? { signingKey: options.signingKey } : {}),
        ...(options.overrides ? { overrides: options.overrides } : {}),
      },
      { state, nonce: randomUUID() },
    );
    const query = new URLSearchParams({
      client_id: tpp.clientId,
      response_type: 'code id_token',
      scope: 'openid accounts',
      redirect_uri: tpp.redirectUri,
      state: outerState,
      request: jwt,
    });
    return { url: `${h.browserUrl}/authorize?${query}`, state, outerState, intent };
  }

  it('a request object with a bad signature: 400 page, not redirected, no state anywhere', async () => {
    const { url, state, outerState } = await authorizeUrl({ signingKey: strangerKey });
    const response = await get(url);
    assertOAuthErrorPage(response, 400, 'invalid_request_object');
    for (const value of [state, outerState]) {
      assert.ok(!response.body.includes(value), 'the unverified state is not echoed');
      assert.ok(!JSON.stringify(response.headers).includes(value), 'nor in any header');
    }
  });

  it('a request object failing a claim check before its signature is checked (no exp): kept on the page', async () => {
    const { url, state } = await authorizeUrl({ overrides: { exp: undefined } });
    const response = await get(url);
    assertOAuthErrorPage(response, 400, 'invalid_request_object');
    assert.ok(!response.body.includes(state));
  });

  it("a request object naming another client than the query's: kept on the page", async () => {
    const { url, state } = await authorizeUrl({ overrides: { client_id: b.clientId, iss: b.clientId } });
    const response = await get(url);
    assertOAuthErrorPage(response, 400, 'invalid_request_object');
    assert.ok(!response.body.includes(state));
  });

  it('an unknown client: 400 page naming invalid_client', async () => {
    const stranger = { ...a, clientId: `unknown-${randomUUID()}` };
    const { url, state } = await authorizeUrl({ tpp: stranger });
    const response = await get(url);
    assertOAuthErrorPage(response, 400, 'invalid_client');
    assert.ok(!response.body.includes(state));
  });

  it('a verified request object with a refused intent is still redirected, with its verified state', async () => {
    const intentOfB = await stageIntent(h.store, b.clientId);
    const { url, state } = await authorizeUrl({
      overrides: {
        claims: {
          id_token: { openbanking_intent_id: { value: intentOfB.id, essential: true } },
        },
      },
    });
    const response = await get(url);
    assert.equal(response.status, 303, response.body);
    const location = new URL(String(response.headers['location']));
    assert.equal(`${location.origin}${location.pathname}`, a.redirectUri);
    const params = new URLSearchParams(location.hash.slice(1));
    assert.equal(params.get('error'), 'invalid_request');
    assert.equal(params.get('state'), state);
  });

  it('a path under /authorize that does not exist: a 404 page, not plain text', async () => {
    const response = await get(`${h.browserUrl}/authorize/${randomUUID()}/more`);
    assertErrorPage(response, 404);
    assert.match(response.body, /Page not found/);
  });

  it('resuming an authorization without its session: the expired page, not JSON', async () => {
    const response = await get(`${h.browserUrl}/authorize/${randomBytes(16).toString('base64url')}`);
    assertOAuthErrorPage(response, 400, 'invalid_request');
    assert.match(response.body, /This page has expired/);
  });
});
