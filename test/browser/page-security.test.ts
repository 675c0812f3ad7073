import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { selectParts } from '../../src/server/parts.ts';
import {
  CSRF_COOKIE,
  pageSecurityHeaders,
  type PageSecurityHeaderOptions,
} from '../../src/shared/page-kit/index.ts';
import { browserSkip, launchBrowser, newContext } from '../support/browser.ts';
import { startTestPlatform } from '../support/platform.ts';

/**
 * The page kit (src/shared/page-kit) as Chromium lives it: the `__Host-` CSRF cookie is kept over the
 * sandbox's HTTPS, the directory's own forms go through with their token, and a form another site makes
 * the browser post is answered with the 403 page and creates nothing — in every app built on the kit (the
 * consent app, the dashboard, the bank app, the directory), each with the kit's headers and stylesheet.
 */
describe('page security in Chromium', { skip: browserSkip, timeout: 180_000 }, async () => {
  const platform = await startTestPlatform({ parts: selectParts(['directory', 'auth', 'consent']) });
  const directory = `${platform.urls.browser}/directory`;
  const browser = await launchBrowser(platform.urls.browser);

  async function organisations(): Promise<number> {
    const result = await platform.store.db.execute(
      sql.raw('select count(*)::int as n from directory_organisations'),
    );
    const rows = (Array.isArray(result) ? result : (result as { rows: { n: number }[] }).rows) as {
      n: number;
    }[];
    return Number(rows[0]?.n ?? -1);
  }

  it('the directory’s own form goes through with its token; the CSRF cookie is a __Host- cookie', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    await page.goto(`${directory}/`);
    const cookie = (await context.cookies()).find((item) => item.name === CSRF_COOKIE);
    assert.ok(cookie, 'the page set the CSRF cookie');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.secure, true);
    assert.equal(cookie.httpOnly, true);
    const before = await organisations();
    await page.getByLabel('Legal name').fill('Browser Form Ltd');
    const [response] = await Promise.all([
      page.waitForResponse((item) => item.request().method() === 'POST'),
      page.getByRole('button', { name: 'Create organisation' }).click(),
    ]);
    assert.equal(response.status(), 201);
    await page.getByText('Management key').waitFor();
    assert.equal(await organisations(), before + 1);
    await context.close();
  });

  it('a form another site makes the browser post gets the 403 page and creates nothing', async () => {
    const context = await newContext(browser);
    const page = await context.newPage();
    // The customer has the directory open (so the browser holds its CSRF cookie) …
    await page.goto(`${directory}/`);
    assert.ok((await context.cookies()).some((item) => item.name === CSRF_COOKIE));
    const before = await organisations();
    // … then visits a page of another site whose form posts to the directory, with a guessed token.
    await page.setContent(
      `<form method="post" action="${directory}/organisations">
         <input type="hidden" name="name" value="Forged Ltd" />
         <input type="hidden" name="csrf" value="${'A'.repeat(43)}" />
         <button type="submit">Win a prize</button>
       </form>`,
    );
    const [response] = await Promise.all([
      page.waitForResponse((item) => item.request().method() === 'POST'),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    assert.equal(response.status(), 403);
    await page.getByText('this form has expired or was not sent from the directory pages').waitFor();
    assert.equal(response.headers()['x-frame-options'], 'DENY');
    assert.equal(await organisations(), before, 'nothing written');
    await context.close();
  });

  /** Each app: a page of it, a form path of it, and the words of its 403 page. */
  const APPS: {
    name: string;
    page: string;
    status: number;
    post: string;
    refusal: string;
    headers: PageSecurityHeaderOptions;
  }[] = [
    {
      name: 'consent app',
      page: '/interaction/no-such-uid',
      status: 400,
      post: '/interaction/no-such-uid/login',
      refusal: 'For your security this form can no longer be sent',
      headers: { formsRedirectAway: true },
    },
    {
      name: 'dashboard',
      page: '/dashboard',
      status: 200,
      post: '/dashboard/login',
      refusal: 'For your security this form can no longer be sent',
      headers: {},
    },
    {
      name: 'bank app',
      page: '/bank-app',
      status: 200,
      post: '/bank-app/login',
      refusal: 'For your security this form can no longer be sent',
      headers: { sameOriginScripts: true },
    },
    {
      name: 'directory',
      page: '/directory/',
      status: 200,
      post: '/directory/organisations',
      refusal: 'this form has expired or was not sent from the directory pages',
      headers: {},
    },
  ];

  for (const app of APPS) {
    it(`${app.name}: the kit's headers and stylesheet; a cross-site form gets the 403 page`, async () => {
      const context = await newContext(browser);
      const page = await context.newPage();
      // The dashboard's login form sets the one CSRF cookie (Path=/) every app of the origin checks against.
      await page.goto(`${platform.urls.browser}/dashboard`);
      assert.ok((await context.cookies()).some((item) => item.name === CSRF_COOKIE));
      const response = await page.goto(`${platform.urls.browser}${app.page}`);
      assert.ok(response);
      assert.equal(response.status(), app.status);
      const expected = pageSecurityHeaders(app.headers);
      for (const [name, value] of Object.entries(expected)) {
        assert.equal(response.headers()[name], value, `${name} of ${app.page}`);
      }
      // The kit's one stylesheet styles the page (its header in the brand colour).
      const header = await page.evaluate(
        "getComputedStyle(document.querySelector('header')).backgroundColor",
      );
      assert.equal(header, 'rgb(11, 61, 145)');
      await page.setContent(
        `<form method="post" action="${platform.urls.browser}${app.post}">
           <input type="hidden" name="username" value="alice" />
           <input type="hidden" name="name" value="Forged Ltd" />
           <input type="hidden" name="csrf" value="${'A'.repeat(43)}" />
           <button type="submit">Win a prize</button>
         </form>`,
      );
      const [refused] = await Promise.all([
        page.waitForResponse((item) => item.request().method() === 'POST'),
        page.getByRole('button', { name: 'Win a prize' }).click(),
      ]);
      assert.equal(refused.status(), 403);
      await page.getByText(app.refusal).waitFor();
      assert.equal(refused.headers()['content-security-policy'], expected['content-security-policy']);
      assert.equal(refused.headers()['x-frame-options'], 'DENY');
      await context.close();
    });
  }
});
