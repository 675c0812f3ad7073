import { createHash, randomBytes, randomUUID, type webcrypto } from 'node:crypto';
import { SignJWT, type JWTPayload, decodeJwt } from 'jose';
import type { FastifyInstance } from 'fastify';
import { request, type Agent } from 'undici';
import { createInteractionBridge } from '../../src/auth/interaction-bridge.ts';
import type { AuthorizationServer } from '../../src/auth/provider.ts';
import { authorise, createIntent, type Intent } from '../../src/consent/intents.ts';
import type { IntentKind } from '../../src/consent/kinds.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';
import { errorShownOnPage } from '../support/error-page.ts';
import { startHarness, type Harness, type Tpp } from './harness.ts';

/**
 * The browser side of an authorization: a cookie jar following redirects by hand, and a stand-in for
 * the consent app at /interaction/:uid that approves through the real InteractionBridge (the consent
 * app's own tests drive its pages; here the authorization server is under test).
 */

export const PSU = 'customer-1';
export const ACR_SCA = 'urn:openbanking:psd2:sca';

export interface Approval {
  /** 'approve' (default): authorise the intent and finish login + consent; 'reject': abort. */
  decision: 'approve' | 'reject';
}

export async function startFlowHarness(): Promise<Harness & { approval: Approval }> {
  const approval: Approval = { decision: 'approve' };
  const harness = await startHarness({
    mountBrowser: (app: FastifyInstance, server: AuthorizationServer) => {
      const bridge = createInteractionBridge(server);
      app.get('/interaction/:uid', async (req, reply) => {
        reply.hijack();
        const details = await bridge.details(req.raw, reply.raw);
        if (approval.decision === 'reject') {
          await bridge.abort(req.raw, reply.raw, 'access_denied', 'The customer rejected the request');
          return;
        }
        const authorised = await authorise({ db: server.store.db, clock: systemClock }, details.intentId, {
          customerId: PSU,
          accountIds: ['account-1'],
        });
        await bridge.finishLoginAndConsent(
          req.raw,
          reply.raw,
          { customerId: PSU, acr: ACR_SCA, amr: ['pwd', 'otp', 'mfa'] },
          { intentId: details.intentId, scopes: details.scopes, authorised },
        );
      });
    },
  });
  return Object.assign(harness, { approval });
}

export async function stageIntent(
  store: Store,
  clientId: string,
  kind: IntentKind = 'account-access',
): Promise<Intent> {
  const expires = new Date(Date.now() + 30 * 24 * 3600_000).toISOString();
  const data =
    kind === 'account-access'
      ? { Permissions: ['ReadAccountsBasic', 'ReadBalances'], ExpirationDateTime: expires }
      : {
          ExpirationDateTime: expires,
          DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '11223321325698' },
        };
  return createIntent({ db: store.db, clock: systemClock }, { kind, clientId, data, risk: {} });
}

export interface AuthorizationRequest {
  tpp: Tpp;
  intentId: string;
  scope?: string;
  responseType?: 'code id_token' | 'code';
  responseMode?: string;
  redirectUri?: string;
  /** Claims to add, or undefined values to remove from the request object. */
  overrides?: JWTPayload;
  /** Replace the `claims` request. */
  claims?: unknown;
  alg?: 'PS256' | 'RS256' | 'none';
  signingKey?: webcrypto.CryptoKey;
  /** Omit the request object (parameters only). */
  withoutRequestObject?: boolean;
  /** Outer query parameters to add or (undefined) remove. */
  query?: Record<string, string | undefined>;
  /** Push the request object to /par over mTLS first, then send only client_id and request_uri. */
  par?: boolean;
  /** Leave PKCE out of the request object. */
  withoutPkce?: boolean;
}

export interface AuthorizationOutcome {
  /** Parameters the TPP's redirect URI received (fragment, query, form post, or the JARM response decoded). */
  params: Record<string, string>;
  /** How they reached the redirect URI, when they did. */
  delivery?: 'query' | 'fragment' | 'form_post';
  /** When the provider answered with an error page instead of a redirect. */
  errorPage?: { status: number; error: string; description?: string };
  codeVerifier: string;
  state: string;
  nonce: string;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export async function requestObject(
  h: Harness,
  options: AuthorizationRequest,
  extras: JWTPayload,
): Promise<string> {
  const { tpp } = options;
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = {
    iss: tpp.clientId,
    aud: h.browserUrl,
    client_id: tpp.clientId,
    response_type: options.responseType ?? 'code id_token',
    redirect_uri: options.redirectUri ?? tpp.redirectUri,
    scope: options.scope ?? 'openid accounts',
    nbf: now,
    exp: now + 300,
    jti: randomUUID(),
    claims: options.claims ?? {
      id_token: {
        openbanking_intent_id: { value: options.intentId, essential: true },
        acr: { essential: true, values: [ACR_SCA] },
      },
      userinfo: { openbanking_intent_id: { value: options.intentId, essential: true } },
    },
    ...(options.responseMode ? { response_mode: options.responseMode } : {}),
    ...extras,
    ...options.overrides,
  };
  for (const [claim, value] of Object.entries(payload)) if (value === undefined) delete payload[claim];
  const alg = options.alg ?? 'PS256';
  if (alg === 'none') return `${base64url({ alg: 'none' })}.${base64url(payload)}.`;
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid: tpp.kid, typ: 'oauth-authz-req+jwt' })
    .sign(options.signingKey ?? tpp.privateKey);
}

class CookieJar {
  readonly cookies = new Map<string, string>();
  store(setCookie: string | string[] | undefined): void {
    for (const line of typeof setCookie === 'string' ? [setCookie] : (setCookie ?? [])) {
      const [pair, ...attributes] = line.split(';');
      const index = pair?.indexOf('=') ?? -1;
      if (!pair || index < 0) continue;
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key, v] = attribute.trim().split('=');
        return key?.toLowerCase() === 'expires' && v !== undefined && Date.parse(v) < Date.now();
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

function withJarmClaims(result: Record<string, string>): Record<string, string> {
  if (result['response']) {
    // JARM: the parameters are claims of the signed response JWT.
    const claims = decodeJwt(result['response']);
    for (const [key, value] of Object.entries(claims)) if (typeof value === 'string') result[key] = value;
  }
  return result;
}

function paramsOfRedirect(
  location: string,
  redirectUri: string,
): Pick<AuthorizationOutcome, 'params' | 'delivery'> | undefined {
  if (!location.startsWith(redirectUri)) return undefined;
  const url = new URL(location);
  const params = new URLSearchParams(url.hash ? url.hash.slice(1) : url.search);
  return { params: withJarmClaims(Object.fromEntries(params)), delivery: url.hash ? 'fragment' : 'query' };
}

const HTML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const unescapeHtml = (value: string) =>
  value.replace(/&(amp|lt|gt|quot|#39);/g, (_, entity: string) => HTML_ENTITIES[entity] ?? '');

/** The response_mode=form_post page: a form the browser auto-submits to the redirect URI. */
function paramsOfFormPost(
  html: string,
  redirectUri: string,
): Pick<AuthorizationOutcome, 'params' | 'delivery'> | undefined {
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1];
  if (action === undefined || unescapeHtml(action) !== redirectUri) return undefined;
  const params: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g))
    if (name !== undefined && value !== undefined) params[name] = unescapeHtml(value);
  return { params: withJarmClaims(params), delivery: 'form_post' };
}

/** Runs /authorize → consent stand-in → resume, returning what reached the redirect URI (or the error page). */
export async function authorize(h: Harness, options: AuthorizationRequest): Promise<AuthorizationOutcome> {
  const codeVerifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const nonce = randomBytes(8).toString('hex');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  const redirectUri = options.redirectUri ?? options.tpp.redirectUri;
  const extras: JWTPayload = options.withoutPkce
    ? { state, nonce }
    : { state, nonce, code_challenge: codeChallenge, code_challenge_method: 'S256' };
  if (options.par) {
    const pushed = await h.post(options.tpp.agent, `${h.mtlsUrl}/par`, {
      client_id: options.tpp.clientId,
      request: await requestObject(h, options, extras),
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await h.clientAssertion(options.tpp, { aud: h.browserUrl }),
    });
    if (pushed.status !== 201) {
      return {
        params: {},
        errorPage: {
          status: pushed.status,
          error: String(pushed.json['error']),
          ...(typeof pushed.json['error_description'] === 'string'
            ? { description: pushed.json['error_description'] }
            : {}),
        },
        codeVerifier,
        state,
        nonce,
      };
    }
    const parQuery = new URLSearchParams({
      client_id: options.tpp.clientId,
      request_uri: String(pushed.json['request_uri']),
    });
    return follow(h, `${h.browserUrl}/authorize?${parQuery}`, redirectUri, { codeVerifier, state, nonce });
  }
  const query: Record<string, string | undefined> = {
    client_id: options.tpp.clientId,
    response_type: options.responseType ?? 'code id_token',
    scope: options.scope ?? 'openid accounts',
    ...(options.withoutRequestObject
      ? { redirect_uri: redirectUri, ...(extras as Record<string, string>) }
      : { request: await requestObject(h, options, extras) }),
    ...options.query,
  };
  const search = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return follow(h, `${h.browserUrl}/authorize?${search}`, redirectUri, { codeVerifier, state, nonce });
}

async function follow(
  h: Harness,
  start: string,
  redirectUri: string,
  secrets: { codeVerifier: string; state: string; nonce: string },
): Promise<AuthorizationOutcome> {
  const { codeVerifier, state, nonce } = secrets;
  const jar = new CookieJar();
  let url = start;
  for (let hop = 0; hop < 6; hop += 1) {
    const response = await request(url, {
      method: 'GET',
      dispatcher: h.plainAgent,
      headers: jar.cookies.size ? { cookie: jar.header() } : {},
    });
    const body = await response.body.text();
    jar.store(response.headers['set-cookie']);
    const location = response.headers['location'];
    if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
      const delivered = paramsOfRedirect(location, redirectUri);
      if (delivered) return { ...delivered, codeVerifier, state, nonce };
      url = new URL(location, url).toString();
      continue;
    }
    const posted = paramsOfFormPost(body, redirectUri);
    if (posted) return { ...posted, codeVerifier, state, nonce };
    const shown = errorShownOnPage(body);
    return {
      params: {},
      errorPage: {
        status: response.statusCode,
        error: shown.error ?? `not an error page: ${body.slice(0, 200)}`,
        ...(shown.description !== undefined ? { description: shown.description } : {}),
      },
      codeVerifier,
      state,
      nonce,
    };
  }
  throw new Error('too many redirects');
}

/** The OAuth error an authorization request ended in, wherever it surfaced. */
export function errorOf(outcome: AuthorizationOutcome): string | undefined {
  return outcome.errorPage?.error ?? outcome.params['error'];
}

export async function exchangeCode(
  h: Harness,
  tpp: Tpp,
  code: string,
  /** Undefined: no code_verifier is sent. */
  codeVerifier: string | undefined,
  options: { agent?: Agent; assertionFor?: Tpp; redirectUri?: string } = {},
) {
  const assertionTpp = options.assertionFor ?? tpp;
  return h.post(options.agent ?? tpp.agent, `${h.mtlsUrl}/token`, {
    grant_type: 'authorization_code',
    code,
    ...(codeVerifier === undefined ? {} : { code_verifier: codeVerifier }),
    redirect_uri: options.redirectUri ?? tpp.redirectUri,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await h.clientAssertion(assertionTpp),
  });
}

export { startHarness };
