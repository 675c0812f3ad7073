import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { request } from 'undici';
import { sandboxCredentialsFor, totpCode } from '../../src/consent/index.ts';
import { CookieJar, csrfOf } from '../support/cookie-jar.ts';
import { browserClient, type Sandbox } from '../support/journey.ts';

/**
 * The customer logged in to the bank's dashboard (browser listener) with password and TOTP (a TOTP code is
 * taken once; `now` is the bank's time): `go` GETs a page, or POSTs a form with the page's CSRF token, and
 * answers the status and the page.
 */
export async function dashboardSession(
  sandbox: Sandbox,
  username: string,
  now: () => Date = () => new Date(),
) {
  const dispatcher = browserClient(sandbox);
  const jar = new CookieJar();
  let csrf = '';
  const go = async (path: string, fields?: Record<string, string>) => {
    const response = await request(`${sandbox.platform.urls.browser}${path}`, {
      dispatcher,
      method: fields ? 'POST' : 'GET',
      headers: {
        cookie: jar.header(),
        ...(fields ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(fields ? { body: new URLSearchParams({ csrf, ...fields }).toString() } : {}),
    });
    jar.take(response.headers['set-cookie']);
    const body = await response.body.text();
    csrf = csrfOf(body) ?? csrf;
    return { status: response.statusCode, body, location: response.headers.location };
  };
  const credentials = sandboxCredentialsFor(username);
  await go('/dashboard');
  assert.equal((await go('/dashboard/login', { username, password: credentials.password })).status, 303);
  await go('/dashboard');
  assert.equal((await go('/dashboard/totp', { code: totpCode(credentials.totpSecret, now()) })).status, 303);
  return go;
}

/** The customer withdraws consents in the bank's dashboard: one login, then each withdrawal confirmed. */
export async function withdrawInDashboard(
  sandbox: Sandbox,
  username: string,
  consentIds: string[],
  now: () => Date = () => new Date(),
) {
  const go = await dashboardSession(sandbox, username, now);
  for (const consentId of consentIds) {
    await go(`/dashboard/consents/${consentId}/revoke`);
    assert.equal((await go(`/dashboard/consents/${consentId}/revoke`, {})).status, 303, 'withdrawn');
  }
}

export interface Received {
  path: string;
  contentType: string | undefined;
  body: string;
}

/**
 * A TPP's HTTPS receiver on loopback (the platform's own server certificate, issued by the sandbox CA the
 * bank trusts): answers each request with the next of `statuses` (the last one repeated) and hands what it
 * received, in order, to whoever awaits `next()`.
 */
export async function startReceiver(
  tls: { key: string; cert: string },
  statuses: number[],
): Promise<{ url: string; received: Received[]; next(): Promise<Received> }> {
  const received: Received[] = [];
  const waiting: ((value: Received) => void)[] = [];
  const queued: Received[] = [];
  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        path: request.url ?? '',
        contentType: request.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const status = statuses[Math.min(received.length, statuses.length - 1)]!;
      received.push(entry);
      response.writeHead(status).end();
      const waiter = waiting.shift();
      if (waiter) waiter(entry);
      else queued.push(entry);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => new Promise<void>((done) => server.close(() => done())));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}/tpp`,
    received,
    next: () => {
      const entry = queued.shift();
      return entry ? Promise.resolve(entry) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}
