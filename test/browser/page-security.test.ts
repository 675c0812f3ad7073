import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { selectParts } from '../../src/server/parts.ts';
import { CSRF_COOKIE } from '../../src/shared/page-kit/index.ts';
import { browserSkip, launchBrowser, newContext } from '../support/browser.ts';
import { startTestPlatform } from '../support/platform.ts';

/**
 * The page security (src/shared/page-security) as Chromium lives it: the `__Host-` CSRF cookie is kept
 * over the sandbox's HTTPS, the directory's own forms go through with their token, and a form another
 * site makes the browser post is answered with the 403 page and creates nothing.
 */
describe('page security in Chromium', { skip: browserSkip, timeout: 180_000 }, async () => {
  const platform = await startTestPlatform({ parts: selectParts(['directory']) });
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
});
