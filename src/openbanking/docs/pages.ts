import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { html, pageSecurityHeaders, STYLESHEET } from '../../shared/page-kit/index.ts';
import { loadDocument, servedDocuments, type LoadedDocument, type ServedApis } from './catalogue.ts';

/** Where the docs live on the browser listener: `/docs/` lists them, `/docs/<api>/<version>/` renders one. */
export const DOCS_PATH = '/docs/';

/** The raw file's stable URL. */
export function documentUrl(document: { api: string; version: string }): string {
  return `${DOCS_PATH}${document.api}/${document.version}/openapi.json`;
}

/** The rendered page's URL. */
export function documentPageUrl(document: { api: string; version: string }): string {
  return `${DOCS_PATH}${document.api}/${document.version}/`;
}

/** swagger-ui-dist's folder: resolved, not imported (its index loads the 1.7 MB bundle into Node). */
const SWAGGER_UI = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** swagger-ui-dist's files the pages load, served from this process: nothing comes from the internet. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
};

/**
 * Starts Swagger UI on the page's `#swagger-ui` with the file its `data-url` names. A file of its own, as
 * the pages' CSP runs no inline script. "Try it out" is off: the APIs answer on the mutual-TLS listener
 * with a client certificate, never from this page; no validator badge (it would call swagger.io).
 */
const RENDER_SCRIPT = `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: root.getAttribute('data-url'),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    supportedSubmitMethods: [],
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
`;

/** The index in the bank's page style (the consent app's stylesheet). */
const INDEX_CSS = `${STYLESHEET}
main.docs { max-width: 64rem; }
main.docs table { width: 100%; border-collapse: collapse; margin: 0.5rem 0 1rem; }
main.docs th, main.docs td { text-align: left; padding: 0.375rem 0.5rem 0.375rem 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
`;

/** A rendered page is Swagger UI's own style; only the line of links above it is ours. */
const NAV_CSS = `nav.docs { max-width: 1460px; margin: 0.75rem auto 0; padding: 0 20px; font: 1rem system-ui, sans-serif; }
`;

/** Static files may be kept a day: they change only with the installed version. */
const CACHED = 'public, max-age=86400';

/**
 * The API docs on the browser listener, for TPP developers without a login: an index of every API and
 * version this bank serves (catalogue.ts), each file byte for byte as the repository keeps it at a stable
 * URL, and a page rendering it with Swagger UI served from this process.
 */
export async function mountApiDocs(browser: FastifyInstance, served: ServedApis): Promise<void> {
  const documents = servedDocuments(served);
  let loading: Promise<LoadedDocument[]> | undefined;
  // Read on the first docs request, not at start-up: the files are a few megabytes.
  const loaded = () => (loading ??= Promise.all(documents.map(loadDocument)));
  const find = async (api: string, version: string) =>
    (await loaded()).find((document) => document.api === api && document.version === version);

  await browser.register(async (app) => {
    const headers = Object.entries(pageSecurityHeaders({ sameOriginScripts: true }));
    app.addHook('onRequest', async (_request, reply) => {
      for (const [name, value] of headers) reply.raw.setHeader(name, value);
    });
    const asset = (reply: FastifyReply, type: string, body: string | Buffer) =>
      reply.type(type).header('cache-control', CACHED).send(body);

    app.get('/docs', async (_request, reply) => reply.redirect(DOCS_PATH));
    app.get(DOCS_PATH, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').send(indexPage(await loaded()).value),
    );
    app.get('/docs/assets/docs.css', async (_request, reply) =>
      asset(reply, 'text/css; charset=utf-8', INDEX_CSS),
    );
    app.get('/docs/assets/nav.css', async (_request, reply) =>
      asset(reply, 'text/css; charset=utf-8', NAV_CSS),
    );
    app.get('/docs/assets/render.js', async (_request, reply) =>
      asset(reply, 'text/javascript; charset=utf-8', RENDER_SCRIPT),
    );
    app.get<{ Params: { name: string } }>('/docs/assets/:name', async (request, reply) => {
      const known = ASSETS[request.params.name];
      if (!Object.hasOwn(ASSETS, request.params.name) || !known) return notServed(reply);
      return asset(reply, known.type, await readFile(join(SWAGGER_UI, known.file)));
    });
    app.get<{ Params: { api: string; version: string } }>(
      '/docs/:api/:version/openapi.json',
      async (request, reply) => {
        const document = await find(request.params.api, request.params.version);
        if (!document) return notServed(reply);
        return asset(reply, 'application/json', document.bytes);
      },
    );
    app.get<{ Params: { api: string; version: string } }>('/docs/:api/:version/', async (request, reply) => {
      const document = await find(request.params.api, request.params.version);
      if (!document) return notServed(reply);
      return reply.type('text/html; charset=utf-8').send(renderedPage(document).value);
    });
  });
}

/** 404 for an API, version or file the docs do not have: one line and the way to the list. */
function notServed(reply: FastifyReply) {
  return reply
    .code(404)
    .type('text/html; charset=utf-8')
    .send(
      '<!doctype html><html lang="en"><title>Not found</title><p>This bank serves no such API, version or file. <a href="/docs/">See the APIs it serves</a>.</p></html>',
    );
}

function indexPage(documents: readonly LoadedDocument[]) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>obkit – API documentation</title>
        <link rel="stylesheet" href="/docs/assets/docs.css" />
      </head>
      <body>
        <header><span class="bank">obkit bank · API documentation</span></header>
        <main id="main" class="docs">
          <h1>API documentation</h1>
          <p>
            Every API and version this bank serves, with the Open Banking OpenAPI file that defines it, as
            published by Open Banking. The APIs answer on the mutual-TLS listener, at the base path shown.
          </p>
          <table>
            <tr>
              <th>API</th>
              <th>Version</th>
              <th>Base path</th>
              <th>OpenAPI file</th>
            </tr>
            ${documents.map(
              (document) =>
                html`<tr>
                  <td><a href="${documentPageUrl(document)}">${document.title}</a></td>
                  <td>${document.version}</td>
                  <td><code>${document.base}</code></td>
                  <td><a href="${documentUrl(document)}">${documentUrl(document)}</a></td>
                </tr>`,
            )}
          </table>
        </main>
      </body>
    </html>`;
}

function renderedPage(document: LoadedDocument) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${document.title} ${document.version} – obkit API documentation</title>
        <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
        <link rel="stylesheet" href="/docs/assets/nav.css" />
      </head>
      <body>
        <nav class="docs">
          <a href="${DOCS_PATH}">All APIs</a> · <a href="${documentUrl(document)}">openapi.json</a> · served
          at
          <code>${document.base}</code>
        </nav>
        <div id="swagger-ui" data-url="${documentUrl(document)}"></div>
        <script src="/docs/assets/swagger-ui-bundle.js"></script>
        <script src="/docs/assets/render.js"></script>
      </body>
    </html>`;
}
