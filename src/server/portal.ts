import type { FastifyInstance } from 'fastify';
import { DISCOVERY_PATH } from '../auth/index.ts';
import { listCustomers } from '../bank/index.ts';
import { sandboxCredentialsFor } from '../consent/index.ts';
import {
  API_VERSIONS,
  DOCS_PATH,
  READ_WRITE_DISCOVERY_PATH,
  VERSION_BASES,
  type ApiVersion,
  type VersionBases,
} from '../openbanking/index.ts';
import {
  ERROR_TEXTS,
  errorPage,
  html,
  installPageKit,
  PAGE_SECURITY_SECRET_SETTING,
  SafeHtml,
  sendPage,
} from '../shared/page-kit/index.ts';
import { loadOrCreateSecret } from '../store/index.ts';
import type { PartContext, PlatformUrls } from './platform.ts';
import { sandboxLoginOf } from './sandbox-tools.ts';

/**
 * The sandbox's developer portal at `/` on the browser listener, in the manner of a bank's: what runs
 * where, the discovery URL and what the authorization server supports (read from its discovery document,
 * never restated here), how to onboard and register, and the sandbox customers with how they log in.
 * The start banner prints the same links (`platformLinks`). Outside the sandbox there is no portal.
 */

export interface Link {
  label: string;
  url: string;
  /** Who talks to it. */
  audience: string;
}

export interface PlatformLinks {
  browser: Link[];
  mtls: Link[];
}

/** What each Read/Write API family is called on the portal and in the banner, and who calls it. */
const API_FAMILIES: Record<keyof VersionBases, { label: string; audience: string }> = {
  aisp: { label: 'account information', audience: 'AISPs' },
  pisp: { label: 'payments and VRP', audience: 'PISPs' },
  cbpii: { label: 'confirmation of funds', audience: 'CBPIIs' },
  events: { label: 'event subscriptions and polling', audience: 'TPPs' },
};

/** The base URL of every API family `version` serves (versions.ts says which), labelled with the version. */
function readWriteLinks(mtlsOrigin: string, version: ApiVersion, sandbox: boolean): Link[] {
  return (Object.entries(VERSION_BASES[version]) as [keyof VersionBases, string][]).map(([api, base]) => {
    const family = API_FAMILIES[api];
    // Outside the sandbox the payment and event APIs run only with the bank's signing identity configured.
    const condition = (api === 'pisp' || api === 'events') && !sandbox ? ' (with a signing identity)' : '';
    // v4.0 payment initiation serves domestic payments so far (pis/index.ts), no VRP.
    const label = api === 'pisp' && version !== 'v3.1.11' ? 'domestic payments' : family.label;
    return {
      label: `${label} ${version}${condition}`,
      url: `${mtlsOrigin}${base}`,
      audience: family.audience,
    };
  });
}

/** The links of the parts that run, on each listener: one list for the banner and the portal. */
export function platformLinks(urls: PlatformUrls, parts: readonly string[], sandbox: boolean): PlatformLinks {
  const has = (name: string) => parts.includes(name);
  const browser: Link[] = [
    ...(sandbox && has('portal')
      ? [{ label: 'developer portal', url: `${urls.browser}/`, audience: 'you: start here' }]
      : []),
    ...(has('directory')
      ? [
          { label: 'directory pages', url: `${urls.browser}/directory/`, audience: 'TPP developers' },
          { label: 'directory API', url: `${urls.browser}/directory/v1`, audience: 'TPP tools' },
        ]
      : []),
    ...(has('auth')
      ? [{ label: 'OpenID discovery', url: `${urls.browser}${DISCOVERY_PATH}`, audience: 'TPPs' }]
      : []),
    ...(has('openbanking')
      ? [{ label: 'API documentation', url: `${urls.browser}${DOCS_PATH}`, audience: 'TPP developers' }]
      : []),
    ...(has('consent')
      ? [
          { label: 'consent dashboard', url: `${urls.browser}/dashboard`, audience: 'customers' },
          { label: 'bank app (CIBA)', url: `${urls.browser}/bank-app`, audience: 'customers' },
        ]
      : []),
  ];
  const mtls: Link[] = [
    ...(has('openbanking')
      ? [
          {
            label: 'Read/Write API discovery',
            url: `${urls.mtls}${READ_WRITE_DISCOVERY_PATH}`,
            audience: 'TPPs: versions and base URLs',
          },
          ...API_VERSIONS.flatMap((version) => readWriteLinks(urls.mtls, version, sandbox)),
        ]
      : []),
    ...(has('jwkms') ? [{ label: 'JWKms', url: `${urls.mtls}/jwkms/v1`, audience: 'TPPs' }] : []),
  ];
  return { browser, mtls };
}

/** What the portal lists from the discovery document, in this order. */
const SUPPORTED: readonly { key: string; label: string }[] = [
  { key: 'response_types_supported', label: 'Response types' },
  { key: 'response_modes_supported', label: 'Response modes' },
  { key: 'grant_types_supported', label: 'Grant types' },
  { key: 'scopes_supported', label: 'Scopes' },
  { key: 'token_endpoint_auth_methods_supported', label: 'Client authentication' },
  { key: 'token_endpoint_auth_signing_alg_values_supported', label: 'Client assertion signing' },
  { key: 'request_object_signing_alg_values_supported', label: 'Request object signing' },
  { key: 'id_token_signing_alg_values_supported', label: 'ID token signing' },
  { key: 'acr_values_supported', label: 'ACR values' },
  { key: 'code_challenge_methods_supported', label: 'PKCE methods' },
  { key: 'backchannel_token_delivery_modes_supported', label: 'CIBA delivery modes' },
];

type Discovery = Record<string, unknown>;

/** The discovery document as TPPs get it, asked of the browser listener in process. */
async function readDiscovery(browser: FastifyInstance): Promise<Discovery | undefined> {
  const response = await browser.inject({ method: 'GET', url: DISCOVERY_PATH });
  if (response.statusCode !== 200) return undefined;
  const body = response.json<unknown>();
  return body && typeof body === 'object' ? (body as Discovery) : undefined;
}

function values(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

function linkRows(links: readonly Link[]): SafeHtml[] {
  return links.map(
    (link) =>
      html`<tr>
        <td>${link.label}</td>
        <td><a href="${link.url}">${link.url}</a></td>
        <td>${link.audience}</td>
      </tr>`,
  );
}

function discoverySection(discoveryUrl: string, discovery: Discovery | undefined): SafeHtml {
  if (!discovery) {
    return html`<h2>Authorization server</h2>
      <p>The authorization server does not run in this process, so there is no discovery document here.</p>`;
  }
  const aliases =
    discovery['mtls_endpoint_aliases'] && typeof discovery['mtls_endpoint_aliases'] === 'object'
      ? Object.entries(discovery['mtls_endpoint_aliases'] as Record<string, unknown>)
      : [];
  return html`<h2>Authorization server</h2>
    <p>
      Discovery: <a href="${discoveryUrl}">${discoveryUrl}</a> (issuer
      <code>${String(discovery['issuer'])}</code>). What this bank supports, as its discovery document says:
    </p>
    <dl class="facts">
      ${SUPPORTED.filter((item) => values(discovery[item.key]).length > 0).map(
        (item) =>
          html`<div>
            <dt>${item.label}</dt>
            <dd>${values(discovery[item.key]).map((value) => html`<code>${value}</code> `)}</dd>
          </div>`,
      )}
    </dl>
    ${
      aliases.length > 0
        ? html`<h3>Endpoints on the mutual-TLS listener</h3>
            <table>
              ${aliases.map(
                ([name, url]) =>
                  html`<tr>
                    <td>${name.replace(/_/g, ' ')}</td>
                    <td><code>${String(url)}</code></td>
                  </tr>`,
              )}
            </table>`
        : ''
    }`;
}

/**
 * The URI as a QR code an authenticator app can scan, as inline SVG (drawn with presentation attributes,
 * so the pages' CSP needs nothing new). `qrcode` is loaded on the first portal request, not at start-up.
 */
async function qrCodeSvg(uri: string): Promise<SafeHtml> {
  const { toString } = await import('qrcode');
  // The library's own SVG output: it holds no interpolated text, only paths.
  return new SafeHtml(await toString(uri, { type: 'svg' }));
}

const COMMANDS = `npx obkit tpp onboard --name "Acme Budgeting" --roles AISP,PISP \\
  --redirect-uri https://acme.example/callback --out ./acme
npx obkit tpp register --bundle ./acme
npx obkit tpp accounts --bundle ./acme --psu alice
npx obkit tpp pay --bundle ./acme --amount 12.34 --currency GBP --psu alice`;

/** The portal's rules after the kit's stylesheet (src/shared/page-kit). */
const PORTAL_CSS = `
main.portal { max-width: 64rem; }
main.portal table { width: 100%; border-collapse: collapse; margin: 0.5rem 0 1rem; }
main.portal th, main.portal td { text-align: left; padding: 0.375rem 0.5rem 0.375rem 0; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
main.portal pre { background: #f4f5f7; padding: 0.75rem; overflow-x: auto; font-size: 0.9rem; }
main.portal code { font-size: 0.9rem; }
main.portal input.uri { width: 100%; font: 0.8rem monospace; padding: 0.25rem; }
main.portal .facts dd { flex: 1; min-width: 0; }
main.portal .qr { width: 10rem; margin-top: 0.5rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.25rem; }
`;

export async function mountPortal(context: PartContext): Promise<void> {
  const { config, store, urls, browser, parts } = context;
  if (!config.sandbox) return;
  const links = platformLinks(urls, parts, config.sandbox);
  const discoveryUrl = `${urls.browser}${DISCOVERY_PATH}`;
  let discovery: Discovery | undefined;

  await browser.register(async (app) => {
    installPageKit(app, {
      name: 'developer portal',
      secret: await loadOrCreateSecret(store.db, PAGE_SECURITY_SECRET_SETTING),
      stylesheet: { path: '/portal.css', extra: PORTAL_CSS },
      problem: (_request, reply, problem) => {
        const text =
          problem.kind === 'form-expired'
            ? ERROR_TEXTS.formExpired
            : problem.kind === 'unavailable'
              ? ERROR_TEXTS.unavailable
              : problem.kind === 'bad-request'
                ? ERROR_TEXTS.badRequest
                : ERROR_TEXTS.failure;
        return sendPage(
          reply,
          problem.status,
          errorPage({ name: 'obkit sandbox', stylesheet: '/portal.css', home: '/' }, text),
        );
      },
    });
    app.get('/', async (_request, reply) => {
      discovery ??= parts.includes('auth') ? await readDiscovery(browser) : undefined;
      const customers = parts.includes('bank') ? await listCustomers(store.db) : [];
      const now = context.clock;
      const logins = await Promise.all(
        customers.map(async (customer) => {
          const login = sandboxLoginOf(customer.username, now);
          return { customer, login, qrCode: await qrCodeSvg(login.otpauthUri) };
        }),
      );
      const page = html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>obkit sandbox – developer portal</title>
            <link rel="stylesheet" href="/portal.css" />
          </head>
          <body>
            <header><span class="bank">obkit sandbox bank · developer portal</span></header>
            <main id="main" class="portal">
              <h1>Build against the obkit sandbox bank</h1>
              <p>
                Everything here runs in one process on this machine. Its certificates come from the sandbox
                CA: trust <code>${config.dataDir}/pki/root-ca.pem</code> in your client.
              </p>
              <h2>What runs where</h2>
              <table>
                <tr>
                  <th colspan="3">Browser listener ${urls.browser} (no client certificate)</th>
                </tr>
                ${linkRows(links.browser)}
                <tr>
                  <th colspan="3">
                    Mutual-TLS listener ${urls.mtls} (a client certificate issued by the directory)
                  </th>
                </tr>
                ${linkRows(links.mtls)}
              </table>
              ${discoverySection(discoveryUrl, discovery)}
              <h2>Onboard and register a TPP</h2>
              <p>
                Onboard at the directory (keys are made on your machine; only CSRs leave it), register with
                the bank by Open Banking dynamic client registration over mutual TLS, then call the APIs. The
                <a href="/directory/">directory pages</a> do the first step in a browser.
              </p>
              <pre><code>${COMMANDS}</code></pre>
              ${
                logins.length > 0
                  ? html`<h2>Sandbox customers</h2>
                      <p>
                        Log in at the consent pages, the <a href="/dashboard">dashboard</a> or the
                        <a href="/bank-app">bank app</a> with the username and password below, then the
                        6-digit security code: <code>npx obkit sandbox totp &lt;username&gt;</code> prints it,
                        or scan the QR code (or add the setup key) with an authenticator app.
                      </p>
                      <table>
                        <tr>
                          <th>Username</th>
                          <th>Customer</th>
                          <th>Password</th>
                          <th>Authenticator setup key, URI and QR code</th>
                        </tr>
                        ${logins.map(({ customer, login, qrCode }) => {
                          return html`<tr>
                            <td><code>${customer.username}</code></td>
                            <td>${customer.displayName}</td>
                            <td><code>${login.password}</code></td>
                            <td>
                              <code>${sandboxCredentialsFor(customer.username).totpSecret}</code>
                              <input
                                class="uri"
                                type="text"
                                readonly
                                aria-label="otpauth URI for ${customer.username}"
                                value="${login.otpauthUri}"
                              />
                              <div
                                class="qr"
                                role="img"
                                aria-label="QR code of the otpauth URI for ${customer.username}"
                              >
                                ${qrCode}
                              </div>
                            </td>
                          </tr>`;
                        })}
                      </table>`
                  : ''
              }
            </main>
          </body>
        </html>`;
      return reply.type('text/html; charset=utf-8').send(page.value);
    });
  });
}
