import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { selectParts } from '../../src/server/parts.ts';
import { splitPemCertificates } from '../../src/server/tls-material.ts';
import { assertErrorPage } from '../support/error-page.ts';
import { httpsClient, startTestPlatform } from '../support/platform.ts';

/**
 * On the browser listener of the running platform: errors of the consent app's interaction routes and of
 * /authorize that cannot go back to the app are the accessible error page, carrying the
 * x-fapi-interaction-id the browser sent (or the one the bank made), never JSON.
 */
describe('errors a person sees on the browser listener', async () => {
  const platform = await startTestPlatform({ parts: selectParts(['auth', 'consent']) });
  const browser = httpsClient(splitPemCertificates(platform.tls.ca.join('\n')));
  const base = platform.urls.browser;

  async function send(
    path: string,
    init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  ) {
    const response = await request(`${base}${path}`, {
      dispatcher: browser,
      method: init.method ?? 'GET',
      headers: { accept: 'text/html', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  }

  const uid = () => randomBytes(16).toString('base64url');

  it('an interaction that is not live: 400 "This page has expired", quoting the interaction id sent', async () => {
    const interactionId = randomUUID();
    const response = await send(`/interaction/${uid()}`, {
      headers: { 'x-fapi-interaction-id': interactionId },
    });
    const shown = assertErrorPage(response, 400);
    assert.equal(shown.reference, interactionId);
    assert.match(response.body, /This page has expired/);
  });

  it('a form posted without its session: 403 page', async () => {
    const response = await send(`/interaction/${uid()}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=x&csrf=y',
    });
    assertErrorPage(response, 403);
  });

  it('a form in a type the page never sends: the page, not a framework JSON error', async () => {
    const response = await send(`/interaction/${uid()}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<login/>',
    });
    assertErrorPage(response, 415);
  });

  it('a path under /interaction that does not exist, or a malformed interaction id: 404 page', async () => {
    assertErrorPage(await send(`/interaction/${uid()}/no/such/page`), 404);
    assertErrorPage(await send('/interaction/not.an.id'), 404);
  });

  it('/authorize for a client the bank does not know: the page, with the interaction id sent and no state', async () => {
    const interactionId = randomUUID();
    const state = `state-${randomBytes(8).toString('hex')}`;
    const query = new URLSearchParams({
      client_id: `unknown-${randomUUID()}`,
      response_type: 'code id_token',
      scope: 'openid accounts',
      redirect_uri: 'https://tpp.example/callback',
      state,
    });
    const response = await send(`/authorize?${query}`, {
      headers: { 'x-fapi-interaction-id': interactionId },
    });
    const shown = assertErrorPage(response, 400);
    assert.equal(shown.error, 'invalid_client');
    assert.equal(shown.reference, interactionId);
    assert.ok(!response.body.includes(state), 'the state is not echoed');
  });
});
