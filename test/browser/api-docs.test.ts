import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { selectParts } from '../../src/server/parts.ts';
import type { Part } from '../../src/server/platform.ts';
import { artefactPath, browserSkip, launchBrowser, newContext } from '../support/browser.ts';
import { specsRoot } from '../support/openapi.ts';
import { call, httpsClient, startTestPlatform } from '../support/platform.ts';

/** Every OpenAPI file in specs/, by `<api>/<version>` as the docs name it (`account-info/v4.0`). */
function repositorySpecs(): Map<string, string> {
  const files = new Map<string, string>();
  for (const family of readdirSync(specsRoot, { withFileTypes: true }).filter((entry) =>
    entry.isDirectory(),
  )) {
    for (const version of readdirSync(join(specsRoot, family.name))) {
      for (const file of readdirSync(join(specsRoot, family.name, version))) {
        const api = /^(.+)-openapi\.json$/.exec(file)?.[1];
        if (api) files.set(`${api}/${version}`, join(specsRoot, family.name, version, file));
      }
    }
  }
  return files;
}

/** A route's path with its parameters blanked, so `/accounts/:AccountId` and `/accounts/{AccountId}` meet. */
function shape(path: string): string {
  return path.replace(/:[^/]+|\{[^}]+\}/g, '{}').replace(/\/$/, '');
}

interface OpenApi {
  info: { title: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, unknown>>;
}

/**
 * The API docs on the browser listener: the index lists every API and version the bank serves — checked
 * against the routes the mutual-TLS listener mounts and the Read/Write discovery document, so a version
 * mounted without docs fails here; every file is the repository's copy byte for byte and parses as JSON;
 * every rendered page is served and starts Swagger UI on its own file; and the page of each API (one
 * version of each: the page is one template, a version differs only in its file) loads in Chromium with
 * nothing fetched from anywhere but the bank, and shows the API's title and operations.
 */
describe('API docs', { skip: browserSkip, timeout: 900_000 }, async () => {
  const mounted: { method: string; url: string }[] = [];
  const recorder: Part = {
    name: 'route-recorder',
    async mount(context) {
      context.mtls.addHook('onRoute', (route) => {
        // A route of several methods is one that answers 405 for the methods a path does not define (DCR's).
        if (Array.isArray(route.method) && route.method.length > 1) return;
        for (const method of [route.method].flat()) mounted.push({ method, url: route.url });
      });
    },
  };
  const platform = await startTestPlatform({ parts: [recorder, ...selectParts('all')] });
  const { urls } = platform;
  const rootPem = readFileSync(join(platform.dataDir, 'pki', 'root-ca.pem'), 'utf8');
  const client = httpsClient([rootPem]);
  const repository = repositorySpecs();

  /** The index's entries: each rendered page link and raw file link, by `<api>/<version>`. */
  async function listed(): Promise<Map<string, { page: string; file: string }>> {
    const index = await call(client, `${urls.browser}/docs/`);
    assert.equal(index.status, 200);
    const entries = new Map<string, { page: string; file: string }>();
    for (const [, api, version] of index.text.matchAll(/href="\/docs\/([^/"]+)\/([^/"]+)\/openapi\.json"/g)) {
      entries.set(`${api}/${version}`, {
        page: `/docs/${api}/${version}/`,
        file: `/docs/${api}/${version}/openapi.json`,
      });
      assert.ok(
        index.text.includes(`href="/docs/${api}/${version}/"`),
        `${api} ${version} has a rendered page`,
      );
    }
    return entries;
  }

  it('lists every API and version the bank serves: each mounted route is in a listed file, each file served', async () => {
    const entries = await listed();
    const documents = new Map<string, OpenApi>();
    for (const [key, entry] of entries) {
      const response = await request(`${urls.browser}${entry.file}`, { dispatcher: client });
      assert.equal(response.statusCode, 200, entry.file);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const bytes = Buffer.from(await response.body.arrayBuffer());
      const copy = repository.get(key);
      assert.ok(copy, `${key} is a file in specs/`);
      assert.ok(bytes.equals(readFileSync(copy)), `${entry.file} is byte-identical to ${copy}`);
      documents.set(key, JSON.parse(bytes.toString('utf8')) as OpenApi);
    }
    // Every (method, path) the documented files define, under each file's own server base path.
    const documented = new Map<string, Set<string>>();
    for (const [key, document] of documents) {
      const base = document.servers?.[0]
        ? new URL(document.servers[0].url, 'https://x.invalid').pathname
        : '';
      for (const [path, operations] of Object.entries(document.paths)) {
        const methods = documented.get(shape(`${base.replace(/\/$/, '')}${path}`)) ?? new Set<string>();
        for (const method of Object.keys(operations)) methods.add(`${method.toUpperCase()} ${key}`);
        documented.set(shape(`${base.replace(/\/$/, '')}${path}`), methods);
      }
    }
    // The APIs on the mutual-TLS listener: the Read/Write APIs and DCR (discovery is a document, not an API).
    const apis = mounted.filter(
      ({ method, url }) =>
        method !== 'HEAD' &&
        (/^\/open-banking\/v/.test(url) || url === '/register' || url.startsWith('/register/')),
    );
    assert.ok(apis.length > 50, `the Read/Write APIs are mounted (${apis.length} routes)`);
    const undocumented = apis.filter(
      ({ method, url }) =>
        ![...(documented.get(shape(url)) ?? [])].some((operation) => operation.startsWith(`${method} `)),
    );
    assert.deepEqual(undocumented, [], 'every mounted API route is an operation of a listed file');
    // And every listed file documents routes that are mounted (nothing listed that the bank does not serve).
    for (const [key] of documents) {
      const served = apis.some(({ method, url }) => documented.get(shape(url))?.has(`${method} ${key}`));
      assert.ok(served, `${key} is served`);
    }
    // The discovery document's versions and files are all listed.
    const discovery = (await call(httpsClient([rootPem]), `${urls.mtls}/open-banking/discovery`)).body as {
      Data: Record<string, { Version: string; Specification: string }[]>;
    };
    const discovered = Object.values(discovery.Data).flat();
    assert.ok(discovered.length >= 6);
    for (const { Version, Specification } of discovered) {
      const key = `${Specification.replace(/-openapi\.json$/, '')}/${Version}`;
      assert.ok(entries.has(key), `discovery's ${Specification} ${Version} is listed`);
    }
  });

  it('answers 404 for an API or version it does not serve', async () => {
    for (const path of [
      '/docs/account-info/v9.9/openapi.json',
      '/docs/nothing/v4.0/',
      '/docs/assets/index.js',
    ]) {
      assert.equal((await call(client, `${urls.browser}${path}`)).status, 404, path);
    }
  });

  it("serves every file's rendered page, starting Swagger UI on that file with the bank's own scripts", async () => {
    for (const entry of (await listed()).values()) {
      const page = await call(client, `${urls.browser}${entry.page}`);
      assert.equal(page.status, 200, entry.page);
      assert.match(String(page.headers['content-type']), /^text\/html/, entry.page);
      assert.ok(
        page.text.includes(`id="swagger-ui" data-url="${entry.file}"`),
        `${entry.page} renders ${entry.file}`,
      );
      for (const script of ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/render.js'])
        assert.ok(page.text.includes(`<script src="${script}"></script>`), `${entry.page} loads ${script}`);
    }
  });

  it('renders each API in Chromium from this bank alone, showing its title and operations', async () => {
    const all = await listed();
    // One version of each API, its newest: Chromium renders each API's file structure once; the test above
    // checks every version's page starts Swagger UI on its file, the first test every file's bytes.
    const newestOfEachApi = new Map<string, [string, { page: string; file: string }]>();
    for (const [key, entry] of all) {
      const [api = '', version = ''] = key.split('/');
      const newest = newestOfEachApi.get(api)?.[0].split('/')[1];
      if (newest === undefined || version.localeCompare(newest, 'en', { numeric: true }) > 0)
        newestOfEachApi.set(api, [key, entry]);
    }
    const entries = new Map(newestOfEachApi.values());
    assert.ok(entries.has('account-info/v4.0'), 'the account-info v4.0 page is rendered (screenshot below)');
    assert.ok(
      entries.size >= 6 && entries.size < all.size,
      `one version of each API (${[...entries.keys()].join(', ')})`,
    );
    const browser = await launchBrowser(urls.browser);
    const context = await newContext(browser);
    const local = new Set([new URL(urls.browser).host]);
    const away: string[] = [];
    const refused: string[] = [];
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === 'data:' || url.protocol === 'blob:' || local.has(url.host))
        return route.continue();
      away.push(url.href);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    for (const [key, entry] of entries) {
      const title = (JSON.parse(readFileSync(repository.get(key)!, 'utf8')) as OpenApi).info.title;
      // The machine may be busy: the page is ready when Swagger UI has drawn it, not at a time.
      const response = await page.goto(`${urls.browser}${entry.page}`, {
        waitUntil: 'commit',
        timeout: 60_000,
      });
      assert.equal(response?.status(), 200, entry.page);
      await page.locator('#swagger-ui .info h1.title', { hasText: title }).waitFor({ timeout: 60_000 });
      // The operations are drawn (an operation block per path), not only the heading.
      await page.locator('.opblock').first().waitFor({ timeout: 60_000 });
      if (key === 'account-info/v4.0')
        await page.screenshot({ path: artefactPath('api-docs-account-info.png') });
    }
    await page.goto(`${urls.browser}/docs/`);
    await page.screenshot({ path: artefactPath('api-docs-index.png'), fullPage: true });
    assert.deepEqual(away, [], 'no request left the bank');
    assert.deepEqual(refused, [], 'the page security policy refused nothing');
    assert.deepEqual(failures, [], 'no script failed');
  });
});
