import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { request } from 'undici';
import {
  CSRF_COOKIE,
  pageSecurityHeaders,
  type PageSecurityHeaderOptions,
} from '../../src/shared/page-kit/index.ts';
import { clientCredentialsToken, startAuthorization } from '../../src/tpp/authorization.ts';
import { createAccountAccessConsent } from '../../src/tpp/open-banking.ts';
import { sandboxLogin, SteppingClock } from '../support/browser.ts';
import { CookieJar, csrfOf, setCookieLine } from '../support/cookie-jar.ts';
import { browserClient, startSandbox } from '../support/journey.ts';

/**
 * One hardening for every HTML surface (src/shared/page-security): every page of the developer portal, the
 * directory, the consent app, the dashboard, the bank app and the authorization server's error pages —
 * normal pages and error pages alike — carries the one header set; a form posted without the page's CSRF
 * token (a cross-site post) gets a 403 page and writes nothing.
 */
describe('page security on every HTML surface', { timeout: 240_000 }, async () => {
  const clock = new SteppingClock();
  const sandbox = await startSandbox({ clock });
  const { urls, store } = sandbox.platform;
  const agent = browserClient(sandbox);
  const tpp = await sandbox.tpp('page-security-tpp', ['AISP']);

  interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
    location: string | undefined;
  }

  async function send(
    jar: CookieJar,
    path: string,
    form?: Record<string, string>,
    extraHeaders: Record<string, string> = {},
  ): Promise<Answer> {
    const url = new URL(path, urls.browser);
    const response = await request(url, {
      dispatcher: agent,
      method: form ? 'POST' : 'GET',
      headers: {
        ...(jar.cookies.size ? { cookie: jar.header() } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...extraHeaders,
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    jar.take(response.headers['set-cookie']);
    const location = response.headers.location;
    return {
      status: response.statusCode,
      headers: response.headers as Answer['headers'],
      text: await response.body.text(),
      location: typeof location === 'string' ? new URL(location, url).toString() : undefined,
    };
  }

  /** A customer's browser at a fresh consent interaction: the TPP's authorisation URL followed to the login page. */
  async function interaction(): Promise<{ jar: CookieJar; path: string }> {
    const token = await clientCredentialsToken(tpp.bank, 'accounts');
    const consent = await createAccountAccessConsent(tpp.bank, token.access_token);
    const pending = await startAuthorization(tpp.bank, {
      intentId: consent.ConsentId,
      scope: 'accounts',
      redirectUri: tpp.redirectUri,
    });
    const jar = new CookieJar();
    let next: string | undefined = pending.url.toString();
    for (let hop = 0; hop < 5 && next; hop++) {
      const path = new URL(next).pathname;
      if (path.startsWith('/interaction/')) return { jar, path };
      next = (await send(jar, next)).location;
    }
    throw new Error(`the authorisation URL did not lead to an interaction page (last: ${next})`);
  }

  async function count(query: string): Promise<number> {
    const result = await store.db.execute(sql.raw(query));
    const rows = (Array.isArray(result) ? result : (result as { rows: { n: number }[] }).rows) as {
      n: number;
    }[];
    return Number(rows[0]?.n ?? -1);
  }

  const browserOrigin = new URL(urls.browser).origin;
  const SURFACES: Record<string, PageSecurityHeaderOptions> = {
    portal: {},
    directory: {},
    dashboard: {},
    'bank app': { sameOriginScripts: true },
    consent: { formsRedirectAway: true },
    'authorization server': { styleOrigins: [browserOrigin] },
  };

  const live = await interaction();
  const NO_TOKEN = { name: 'X', username: 'alice', password: 'wrong' };

  /** Every page route of every surface: normal pages, error pages, and a form posted without its token. */
  const PAGES: {
    surface: keyof typeof SURFACES;
    what: string;
    path: string;
    status: number;
    form?: object;
    /** The page whose form posts to `path`, when not found from `path` itself. */
    formPage?: string;
  }[] = [
    { surface: 'portal', what: 'home', path: '/', status: 200 },
    { surface: 'directory', what: 'home', path: '/directory/', status: 200 },
    { surface: 'directory', what: 'terms', path: '/directory/tos', status: 200 },
    { surface: 'directory', what: 'operator sign-in', path: '/directory/operator', status: 200 },
    {
      surface: 'directory',
      what: 'operator status change without token',
      path: '/directory/operator/organisations/AAAAAAAAAAAAAAAAAA/status',
      status: 403,
      form: NO_TOKEN,
      formPage: '/directory/operator',
    },
    {
      surface: 'directory',
      what: 'an organisation not managed here (error)',
      path: '/directory/organisations/AAAAAAAAAAAAAAAAAA',
      status: 403,
    },
    {
      surface: 'directory',
      what: 'create organisation without token',
      path: '/directory/organisations',
      status: 403,
      form: NO_TOKEN,
    },
    { surface: 'dashboard', what: 'login', path: '/dashboard', status: 200 },
    {
      surface: 'dashboard',
      what: 'login without token',
      path: '/dashboard/login',
      status: 403,
      form: NO_TOKEN,
    },
    { surface: 'bank app', what: 'login', path: '/bank-app', status: 200 },
    {
      surface: 'bank app',
      what: 'login without token',
      path: '/bank-app/login',
      status: 403,
      form: NO_TOKEN,
    },
    { surface: 'consent', what: 'login', path: live.path, status: 200 },
    {
      surface: 'consent',
      what: 'login without token',
      path: `${live.path}/login`,
      status: 403,
      form: NO_TOKEN,
    },
    {
      surface: 'consent',
      what: 'an interaction no longer live',
      path: '/interaction/no-such-uid',
      status: 400,
    },
    { surface: 'consent', what: 'no such page', path: '/interaction/assets/nothing/here', status: 404 },
    {
      surface: 'authorization server',
      what: 'an authorisation request from an unknown client',
      path: '/authorize?client_id=nobody&response_type=code&scope=openid',
      status: 400,
    },
  ];

  for (const page of PAGES) {
    it(`${page.surface}: ${page.what} → ${page.status} with the one header set`, async () => {
      // A browser that has opened the surface before (so it holds the CSRF cookie) but posts no token.
      const jar = page.surface === 'consent' ? live.jar : new CookieJar();
      if (page.form && page.surface !== 'consent') {
        await send(
          jar,
          page.formPage ??
            page.path.replace(/\/(login|organisations)$/, page.surface === 'directory' ? '/' : ''),
        );
        assert.ok(jar.cookies.has(CSRF_COOKIE), 'the form page set the CSRF cookie');
      }
      const answer = await send(jar, page.path, page.form as Record<string, string> | undefined);
      assert.equal(answer.status, page.status, answer.text.slice(0, 300));
      assert.match(String(answer.headers['content-type']), /^text\/html/);
      const expected = pageSecurityHeaders(SURFACES[page.surface]);
      for (const [name, value] of Object.entries(expected)) {
        assert.equal(answer.headers[name], value, `${name} on ${page.path}`);
      }
      assert.doesNotMatch(answer.text, /<script(?![^>]*\bsrc=)/i, 'no inline script');
    });
  }

  it('puts the token in every form of a page, and sets the CSRF cookie as a __Host- cookie', async () => {
    const jar = new CookieJar();
    const home = await send(jar, '/directory/');
    const cookie = setCookieLine(home.headers['set-cookie'], CSRF_COOKIE);
    for (const flag of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax'])
      assert.ok(cookie.includes(flag), flag);
    assert.doesNotMatch(cookie, /Domain=/i);
    const forms = home.text.match(/<form\b[^>]*method="post"/g) ?? [];
    const tokens = home.text.match(/name="csrf" value="[^"]+"/g) ?? [];
    assert.ok(forms.length >= 2);
    assert.equal(tokens.length, forms.length, 'one token per form');
    // The same browser keeps its cookie (and so its token) across pages.
    const again = await send(jar, '/directory/');
    assert.equal(setCookieLine(again.headers['set-cookie'], CSRF_COOKIE), '');
    assert.equal(csrfOf(again.text), csrfOf(home.text));
  });

  it('directory: a cross-site post (no token, or another browser’s token) creates nothing; the page’s own token does', async () => {
    const victim = new CookieJar();
    const victimToken = csrfOf((await send(victim, '/directory/')).text)!;
    const attacker = new CookieJar();
    const attackerToken = csrfOf((await send(attacker, '/directory/')).text)!;
    assert.notEqual(attackerToken, victimToken);
    const organisations = () => count('select count(*)::int as n from directory_organisations');
    const before = await organisations();
    const crossSite = { origin: 'https://evil.example', referer: 'https://evil.example/' };
    for (const token of [undefined, attackerToken, '']) {
      const form = { name: 'Forged Ltd', ...(token !== undefined ? { csrf: token } : {}) };
      const refused = await send(victim, '/directory/organisations', form, crossSite);
      assert.equal(refused.status, 403);
      assert.match(refused.text, /this form has expired or was not sent from the directory pages/);
    }
    assert.equal(await organisations(), before, 'nothing written');
    const created = await send(victim, '/directory/organisations', { csrf: victimToken, name: 'Real Ltd' });
    assert.equal(created.status, 201, created.text.slice(0, 300));
    assert.equal(await organisations(), before + 1);
  });

  it('consent app: a cross-site login post does not advance the session; the page’s own form does', async () => {
    const { jar, path } = await interaction();
    const page = await send(jar, path);
    const token = csrfOf(page.text)!;
    const login = sandboxLogin(clock, 'alice');
    const stages = () => count(`select count(*)::int as n from consent_sessions where stage <> 'start'`);
    const before = await stages();
    const refused = await send(jar, `${path}/login`, { username: 'alice', password: login.password });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /Your session has expired/);
    assert.equal(await stages(), before, 'the session did not advance');
    assert.match((await send(jar, path)).text, /Password/);
    const accepted = await send(jar, `${path}/login`, {
      csrf: token,
      username: 'alice',
      password: login.password,
    });
    assert.equal(accepted.status, 303);
    assert.equal(await stages(), before + 1);
  });

  it('dashboard: a cross-site login post logs nobody in', async () => {
    const jar = new CookieJar();
    const page = await send(jar, '/dashboard');
    const login = sandboxLogin(clock, 'alice');
    const refused = await send(jar, '/dashboard/login', { username: 'alice', password: login.password });
    assert.equal(refused.status, 403);
    assert.match((await send(jar, '/dashboard')).text, /Password/, 'still the login page');
    const accepted = await send(jar, '/dashboard/login', {
      csrf: csrfOf(page.text)!,
      username: 'alice',
      password: login.password,
    });
    assert.equal(accepted.status, 303);
    assert.match((await send(jar, '/dashboard')).text, /security code/i, 'on to the second factor');
  });
});
