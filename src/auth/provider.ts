import { createHmac, type X509Certificate } from 'node:crypto';
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import type {
  Adapter,
  AdapterPayload,
  AllClientMetadata,
  Client,
  ClientMetadata,
  Configuration,
  KoaContextWithOIDC,
  UnknownObject,
} from 'oidc-provider';
import { getIntent, isUsable } from '../consent/intents.ts';
import type { Intent } from '../consent/intents.ts';
import { DEFAULT_BANK_NAME } from '../consent/app/pages.ts';
import { KIND_INFO } from '../consent/kinds.ts';
import { scopesOfRoles } from '../shared/psd2-roles.ts';
import { clientCertificateOf } from '../shared/client-certificate.ts';
import type { Clock } from '../shared/clock.ts';
import type { ParticipantStatusCheck } from '../shared/participant-status.ts';
import { systemClock } from '../shared/clock.ts';
import { publishedStatusOnly, type SigningKeyStatus } from '../shared/signing-key-status.ts';
import type { Store } from '../store/index.ts';
import { createAdapterFactory } from './adapter.ts';
import { createClientCache, type ClientCache } from './client-cache.ts';
import { metadataOf } from './client-metadata.ts';
import { certificateBelongsToSoftware, certificateSubjectMatches } from './certificates.ts';
import { refuseRevokedClientKeys } from './client-key-status.ts';
import { CIBA_ROUTE, createCibaSupport, type Pairwise } from './ciba.ts';
import { participantOfMetadata } from './participants.ts';
import { INTENT_CLAIM, SUPPORTED_ACRS, assertOpenBankingClaims, intentIdOfClaims } from './intent-claims.ts';
import {
  clientAuthenticationErrors,
  databaseUnavailableAnswers,
  createErrorPages,
  keepUnverifiedAuthorizationErrorsOnPage,
} from './oauth-errors.ts';
import type { ProviderSecrets } from './secrets.ts';

/** Lifetimes in seconds; the refresh token and its access tokens are further bounded by the intent's expiry. */
export interface AuthTtl {
  accessToken: number;
  clientCredentials: number;
  authorizationCode: number;
  idToken: number;
  refreshToken: number;
  interaction: number;
  session: number;
}

export const DEFAULT_TTL: AuthTtl = {
  accessToken: 15 * 60,
  clientCredentials: 15 * 60,
  authorizationCode: 60,
  idToken: 15 * 60,
  refreshToken: 90 * 24 * 60 * 60,
  interaction: 30 * 60,
  session: 30 * 60,
};

export interface AuthorizationServerOptions {
  store: Store;
  /** The issuer: the browser listener's base URL (where /authorize and discovery live). */
  issuer: string;
  /** The mTLS listener's base URL (token, PAR, introspection, revocation, userinfo, registration). */
  mtlsBaseUrl: string;
  /** Where the consent app serves `/interaction/:uid`; default the issuer. */
  interactionBaseUrl?: string;
  secrets: ProviderSecrets;
  clock?: Clock;
  ttl?: Partial<AuthTtl>;
  /** Clients fixed in configuration (tests, operator tooling); registered clients live in the store. */
  clients?: ClientMetadata[];
  /** Trust X-Forwarded-* (the server's proxy mode). */
  proxy?: boolean;
  /**
   * How the provider fetches client `jwks_uri`s. Default: oidc-provider's, which refuses private and
   * loopback addresses (SSRF protection); the sandbox passes one that trusts its own CA on localhost.
   */
  fetch?: Configuration['fetch'];
  /** Clients (resource servers) that may introspect any token; a TPP introspects only its own. */
  resourceServerClientIds?: string[];
  /** The bank's name on the error pages a person may see at /authorize. */
  bankName?: string;
  /**
   * The status of each client's participant at the directory. A client whose organisation or software
   * statement is not Active is unknown to the provider: no token, PAR, CIBA or authorization request.
   */
  participantStatus?: ParticipantStatusCheck;
  /**
   * Whether a client's signing key may still verify its request objects and client assertions; default,
   * only what its JWKS says (`publishedStatusOnly`). The server passes the certificate-status gate's view.
   */
  signingKeys?: SigningKeyStatus;
  /**
   * The store's change version this instance last read (the server's, read at the start of each request).
   * Given, registered clients are kept in memory between requests (src/auth/client-cache.ts); without it,
   * each is read from the store every time.
   */
  changeVersion?: () => number;
  /**
   * How many registered clients' built clients (oidc-provider's, each with its key set) are kept between
   * requests, the least recently used dropped first; default `BUILT_CLIENTS_KEPT`. Only with `changeVersion`.
   */
  builtClientsKept?: number;
}

/**
 * The built clients kept by default: the clients asking for tokens now. A built client with its key set
 * holds ~10–16 kB of heap, so one kept for every registration the client cache holds (up to 20,000) held
 * ~190–320 MB (bench/README.md, tokens, session 21); a client not among them is built again from its cached
 * registration.
 */
export const BUILT_CLIENTS_KEPT = 1_000;

export const SCOPES = ['openid', 'accounts', 'payments', 'fundsconfirmations'] as const;

/** The provider's endpoint paths. Browser ones are served on the browser listener, the rest over mTLS. */
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  pushed_authorization_request: '/par',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  userinfo: '/userinfo',
  jwks: '/jwks',
  end_session: '/session/end',
  backchannel_authentication: CIBA_ROUTE,
} as const;

/**
 * The response modes the bank answers with under FAPI 1.0 Advanced 5.2.2-2: `code id_token` in the fragment
 * (its default) or form_post, and JARM's `jwt` modes (`jwt` means query.jwt for `code`, fragment.jwt for
 * `code id_token`). Plain `query` is never usable: `code` needs JARM (FAPI), and a response carrying an ID token
 * must not travel in the query (OAuth 2.0 Multiple Response Type Encoding Practices 3), nor may query.jwt
 * unless encrypted (JARM 2.3.1), which we do not offer. test/auth/response-types.test.ts calls each one.
 */
export const RESPONSE_MODES = [
  'fragment',
  'form_post',
  'jwt',
  'query.jwt',
  'fragment.jwt',
  'form_post.jwt',
] as const;

export const REGISTRATION_PATH = '/register';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Endpoints a TPP calls over mTLS; discovery names them in `mtls_endpoint_aliases`. */
const MTLS_ROUTES = [
  'token',
  'pushed_authorization_request',
  'introspection',
  'revocation',
  'userinfo',
  'backchannel_authentication',
] as const;

export interface AuthorizationServer {
  provider: Provider;
  issuer: string;
  mtlsBaseUrl: string;
  clock: Clock;
  store: Store;
  /** The paths to mount on each listener. */
  browserPaths: string[];
  mtlsPaths: string[];
  /** A registered client changed or was deleted (DCR): every instance reads it afresh. */
  clientChanged(clientId: string): Promise<void>;
}

/** Extra client metadata every Open Banking client carries (from its SSA at registration). */
export const EXTRA_CLIENT_METADATA = [
  'software_id',
  'software_statement',
  'org_id',
  'software_roles',
  'software_client_name',
  'software_logo_uri',
  'software_version',
] as const;

/** A registration as the provider is given it: certificate-bound tokens, scopes within its roles. */
function servedMetadata(stored: AdapterPayload): AdapterPayload {
  return scopeWithinRoles({ ...stored, tls_client_certificate_bound_access_tokens: true });
}

/**
 * A client registered with PSD2 roles (`software_roles`) may be granted only the resource scopes those
 * roles allow; oidc-provider refuses any scope outside a client's `scope`, at /authorize, PAR, CIBA and
 * the token endpoint alike.
 */
function scopeWithinRoles<T extends { scope?: unknown; software_roles?: unknown }>(metadata: T): T {
  const roles = metadata.software_roles;
  if (!Array.isArray(roles)) return metadata;
  const allowed = new Set<string>(scopesOfRoles(roles.filter((role) => typeof role === 'string')));
  const resource = new Set<string>(SCOPES.filter((scope) => scope !== 'openid'));
  const requested = typeof metadata.scope === 'string' ? metadata.scope.split(' ') : [...SCOPES];
  const scope = requested.filter((item) => item !== '' && (!resource.has(item) || allowed.has(item)));
  return { ...metadata, scope: scope.join(' ') };
}

function certificateOf(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  return clientCertificateOf(ctx.req)?.x509;
}

/**
 * Builds the oidc-provider instance for FAPI 1.0 Advanced Final with the Open Banking UK profile.
 * Nothing here reads the time at configuration: lifetimes are computed per request.
 */
export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  const { store, secrets } = options;
  const clock = options.clock ?? systemClock;
  const ttl = { ...DEFAULT_TTL, ...options.ttl };
  const issuer = options.issuer.replace(/\/$/, '');
  const mtlsBaseUrl = options.mtlsBaseUrl.replace(/\/$/, '');
  const interactionBaseUrl = (options.interactionBaseUrl ?? issuer).replace(/\/$/, '');
  const resourceServers = new Set(options.resourceServerClientIds ?? []);
  /**
   * Pairwise subjects (OIDC Core 8.1): one per sector (the redirect URIs' host, or the sector_identifier_uri
   * DCR sets for CIBA) and, for an Open Banking client, per software statement too. Two TPPs' software
   * sharing a host (a TPP platform, an agent) never share a `sub`; one software keeps its `sub` for a
   * customer across authorisations and re-registrations.
   */
  const pairwise: Pairwise = (client, accountId) => {
    const softwareId = metadataOf(client)['software_id'];
    const sector = client.sectorIdentifier ?? client.clientId;
    return createHmac('sha256', secrets.pairwiseSalt)
      .update(
        typeof softwareId === 'string'
          ? `${softwareId}\u0000${sector}\u0000${accountId}`
          : `${sector}\u0000${accountId}`,
      )
      .digest('base64url');
  };
  const ciba = createCibaSupport({ store, clock, issuer, pairwise });

  /** The intent behind the grant being exchanged in this request, looked up once per request. */
  const intentOfRequest = new WeakMap<object, Intent>();

  const adapterFactory = createAdapterFactory(store, clock);
  const participantStatus = options.participantStatus;
  const clients: ClientCache | undefined = options.changeVersion
    ? createClientCache({ store, clock, version: options.changeVersion })
    : undefined;
  const clientStore = adapterFactory('Client');
  /**
   * What the provider is given for a registration the client cache keeps, worked out once per cache entry
   * (keyed by the entry's stored object): while the entry is served, the same object, so that its built
   * client can be kept by it (`provider.Client.find` below). Read-only: every request shares it.
   */
  const servedOfStored = new WeakMap<object, AdapterPayload>();
  const served = (stored: AdapterPayload): AdapterPayload => {
    let metadata = servedOfStored.get(stored);
    if (!metadata) {
      metadata = Object.freeze(servedMetadata(stored));
      servedOfStored.set(stored, metadata);
    }
    return metadata;
  };
  /** What the adapter answers the one find oidc-provider makes while `findClient` has it build a client. */
  let handOver: { id: string; metadata: AdapterPayload } | undefined;
  // Every client's access tokens are certificate-bound, and its scopes within its PSD2 roles, whatever
  // its stored metadata says (a client registered before the roles were enforced gets no more).
  const clientAdapter: Adapter = {
    upsert: (id, payload, expiresIn) => clientStore.upsert(id, payload, expiresIn),
    find: async (id) => {
      if (handOver?.id === id) {
        const { metadata } = handOver;
        handOver = undefined;
        return metadata;
      }
      const found = clients
        ? await clients.find(id, async () => (await clientStore.find(id)) ?? undefined)
        : await clientStore.find(id);
      if (!found) return found;
      const participant = participantStatus && participantOfMetadata(found);
      if (participant) {
        const verdict = await participantStatus.check(participant);
        if (!verdict.active) {
          // Within a provider request the client hears why (RFC 6749 invalid_client); our own callers
          // (consent pages, bank app, message signing) just find no client. (`Provider.ctx`: oidc-provider's
          // own request context, set while one of its routes runs; an AsyncLocalStorage of ours would cost
          // every promise of the process its propagation.)
          if (Provider.ctx) throw new errors.InvalidClient(verdict.detail);
          return undefined;
        }
      }
      return clients ? served(found) : servedMetadata(found);
    },
    findByUid: (uid) => clientStore.findByUid(uid),
    findByUserCode: (code) => clientStore.findByUserCode(code),
    consume: (id) => clientStore.consume(id),
    destroy: (id) => clientStore.destroy(id),
    revokeByGrantId: (grantId) => clientStore.revokeByGrantId(grantId),
  };
  const adapter = (model: string): Adapter => {
    if (model === 'Client') return clientAdapter;
    const inner = adapterFactory(model);
    return model === 'BackchannelAuthenticationRequest' ? ciba.adapter(inner) : inner;
  };

  async function intentFor(ctx: KoaContextWithOIDC, claims: unknown): Promise<Intent | undefined> {
    const cached = intentOfRequest.get(ctx);
    if (cached) return cached;
    const intentId = intentIdOfClaims(claims);
    if (!intentId) return undefined;
    const intent = await getIntent(store.db, intentId);
    if (intent) intentOfRequest.set(ctx, intent);
    return intent;
  }

  /** Seconds until the intent expires, when it has an expiry. */
  function intentRemaining(ctx: KoaContextWithOIDC | undefined): number | undefined {
    const intent = ctx ? intentOfRequest.get(ctx) : undefined;
    if (!intent?.expiresAt) return undefined;
    return Math.floor((intent.expiresAt.getTime() - clock.now().getTime()) / 1000);
  }

  function bounded(ctx: KoaContextWithOIDC | undefined, lifetime: number): number {
    const remaining = intentRemaining(ctx);
    return remaining === undefined ? lifetime : Math.max(1, Math.min(lifetime, remaining));
  }

  const policy = interactionPolicy.base();
  // Strong customer authentication for every authorisation: an earlier browser session is not enough.
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check(
        'sca_required',
        'the customer must authenticate for every authorisation',
        (ctx: KoaContextWithOIDC) =>
          ctx.oidc.result?.['login']
            ? interactionPolicy.Check.NO_NEED_TO_PROMPT
            : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );

  const clientDefaults: ClientMetadata = {
    client_id: '',
    grant_types: ['authorization_code', 'client_credentials', 'refresh_token'],
    response_types: ['code id_token'],
    id_token_signed_response_alg: 'PS256',
    request_object_signing_alg: 'PS256',
    token_endpoint_auth_method: 'private_key_jwt',
    authorization_signed_response_alg: 'PS256',
    tls_client_certificate_bound_access_tokens: true,
    subject_type: 'pairwise',
  };
  delete (clientDefaults as Partial<ClientMetadata>).client_id;

  const errorPages = createErrorPages({
    interactionBaseUrl,
    bankName: options.bankName ?? DEFAULT_BANK_NAME,
    browserPaths: [ROUTES.authorization],
  });

  const configuration: Configuration = {
    adapter,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    clients: (options.clients ?? []).map((client) => ({
      ...client,
      tls_client_certificate_bound_access_tokens: true,
    })),
    clientDefaults: clientDefaults as AllClientMetadata,
    jwks: { keys: secrets.signingKeys as never },
    cookies: {
      keys: secrets.cookieKeys,
      long: { httpOnly: true, sameSite: 'lax', secure: true },
      short: { httpOnly: true, sameSite: 'lax', secure: true },
    },
    routes: { ...ROUTES },
    scopes: [...SCOPES],
    acrValues: [...SUPPORTED_ACRS],
    claims: {
      openid: ['sub'],
      acr: null,
      auth_time: null,
      [INTENT_CLAIM]: null,
    },
    responseTypes: ['code id_token', 'code'],
    subjectTypes: ['pairwise'],
    clientAuthMethods: ['private_key_jwt', 'tls_client_auth'],
    allowOmittingSingleRegisteredRedirectUri: false,
    conformIdTokenClaims: true,
    clockTolerance: 5,
    // FAPI 1.0 Advanced 5.2.2-18: PKCE (S256, the only method oidc-provider knows) is required at PAR;
    // Part 2 exempts the by-value request object from Part 1's PKCE rule (5.2.2-7). A code_challenge sent
    // by value is still checked at /authorize and bound to the code, so /token then needs its verifier.
    pkce: { required: (ctx) => ctx.oidc.route === 'pushed_authorization_request' },
    enabledJWA: {
      clientAuthSigningAlgValues: ['PS256'],
      idTokenSigningAlgValues: ['PS256'],
      requestObjectSigningAlgValues: ['PS256'],
      authorizationSigningAlgValues: ['PS256'],
      userinfoSigningAlgValues: ['PS256'],
      introspectionSigningAlgValues: ['PS256'],
    },
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_METADATA],
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      fapi: { enabled: true, profile: '1.0 Final' },
      claimsParameter: {
        enabled: true,
        async assertClaimsParameter(ctx, claims, client) {
          await assertOpenBankingClaims(ctx, claims, client.clientId, store.db, clock);
        },
      },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // Any authenticated client of ours may introspect (the API layer uses a dedicated client), but
        // a TPP learns nothing about another client's tokens.
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId || resourceServers.has(client.clientId);
        },
      },
      revocation: {
        enabled: true,
        async allowedPolicy(_ctx, client, token) {
          if (token.clientId !== client.clientId) {
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          }
          return true;
        },
      },
      jwtResponseModes: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      requestObjects: {
        enabled: true,
        requireSignedRequestObject: true,
        async assertJwtClaimsAndHeader(ctx, claims) {
          ciba.assertRequestObject(ctx, claims);
          for (const claim of ['exp', 'nbf', 'aud'] as const) {
            if (claims[claim] === undefined) {
              throw new errors.InvalidRequestObject(`Request Object is missing the '${claim}' claim`);
            }
          }
          const exp = claims['exp'];
          const nbf = claims['nbf'];
          if (typeof exp !== 'number' || typeof nbf !== 'number') {
            throw new errors.InvalidRequestObject("Request Object 'exp' and 'nbf' must be numbers");
          }
          const lifetime = exp - nbf;
          if (lifetime <= 0 || lifetime > 3600) {
            throw new errors.InvalidRequestObject("Request Object 'exp' claim too far from 'nbf' claim");
          }
          const now = Math.floor(clock.now().getTime() / 1000);
          if (nbf > now + 5) {
            throw new errors.InvalidRequestObject("Request Object 'nbf' is in the future");
          }
          if (claims['claims'] === undefined) {
            throw new errors.InvalidRequestObject(
              `Request Object must carry a claims request for ${INTENT_CLAIM}`,
            );
          }
        },
      },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: false,
        getCertificate(ctx) {
          const certificate = certificateOf(ctx);
          const client = ctx.oidc?.client;
          if (certificate && client) {
            // A certificate issued to another software (another client's) is refused outright.
            const metadata = metadataOf(client);
            const softwareId = metadata['software_id'];
            if (typeof softwareId === 'string') {
              const orgId = typeof metadata['org_id'] === 'string' ? metadata['org_id'] : undefined;
              if (!certificateBelongsToSoftware(certificate, { softwareId, orgId })) {
                throw new errors.InvalidClient('the client certificate was not issued to this client');
              }
            }
          }
          return certificate;
        },
        certificateAuthorized(ctx) {
          // Only certificates the listener verified against the trust anchors ever reach us.
          return certificateOf(ctx) !== undefined;
        },
        certificateSubjectMatches(ctx, property, expected) {
          const certificate = certificateOf(ctx);
          return certificate !== undefined && certificateSubjectMatches(certificate, property, expected);
        },
      },
      registration: { enabled: false },
      resourceIndicators: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      userinfo: { enabled: true },
      ciba: ciba.feature,
    },
    // Open Banking DCR sets sector_identifier_uri itself (src/auth/ciba.ts), never from a TPP: nothing to fetch.
    sectorIdentifierUriValidate: () => false,
    async pairwiseIdentifier(_ctx, accountId, client) {
      return pairwise(client, accountId);
    },
    async findAccount(ctx, sub) {
      // A CIBA id_token_hint names the customer by their pairwise sub: mapped back to the customer id.
      const accountId = await ciba.accountIdOf(ctx, sub);
      return {
        accountId,
        async claims(_use, _scope, claims) {
          const requested = (claims as UnknownObject | undefined)?.[INTENT_CLAIM] as
            UnknownObject | undefined;
          const intentId = typeof requested?.['value'] === 'string' ? requested['value'] : undefined;
          return intentId ? { sub: accountId, [INTENT_CLAIM]: intentId } : { sub: accountId };
        },
      };
    },
    // One grant per authorisation, bound to its intent: an earlier grant is never silently reused.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.['consent']?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    // Tokens outlive the PSU's browser session: they rest on the intent, not on the login.
    async expiresWithSession() {
      return false;
    },
    async issueRefreshToken(ctx, client, code) {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      const intent = await intentFor(ctx, (code as unknown as { claims?: unknown }).claims);
      if (!intent || KIND_INFO[intent.kind].consumable) return false;
      return isUsable(intent, clock.now());
    },
    rotateRefreshToken: false,
    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken') return undefined;
      const intent = await intentFor(ctx, (token as unknown as { claims?: unknown }).claims);
      if (!intent) return undefined;
      if (ctx.oidc.params?.['grant_type'] === 'refresh_token' && !isUsable(intent, clock.now())) {
        throw new errors.InvalidGrant(`the intent is ${intent.status} or expired`);
      }
      return { [INTENT_CLAIM]: intent.id };
    },
    ttl: {
      AccessToken: (ctx) => bounded(ctx, ttl.accessToken),
      ClientCredentials: () => ttl.clientCredentials,
      AuthorizationCode: () => ttl.authorizationCode,
      IdToken: () => ttl.idToken,
      RefreshToken: (ctx) => bounded(ctx, ttl.refreshToken),
      Grant: () => ttl.refreshToken,
      Interaction: () => ttl.interaction,
      Session: () => ttl.session,
      BackchannelAuthenticationRequest: (ctx) => ciba.ttl(ctx),
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `${interactionBaseUrl}/interaction/${interaction.uid}`,
    },
    clientBasedCORS: () => false,
    // A person's browser gets the consent app's error page; an API client its RFC 6749 body (oauth-errors.ts).
    renderError: errorPages.renderError,
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = options.proxy ?? false;
  if (clients) {
    // oidc-provider's `Client.find` asks the adapter, then hashes all it was given (JSON + SHA-256 of the
    // whole registration, software statement included) to find the client it built from it: on every
    // token request. A registration the client cache keeps is served as one object per cache entry, so the
    // client built from it is kept with that object, for the most recently used clients only (a built client
    // is far larger than its registration); the adapter is still asked on every call (the cache's version
    // check, participant status). Configured clients are the provider's own.
    const configured = new Set((options.clients ?? []).map((client) => client.client_id));
    const keptAtMost = options.builtClientsKept ?? BUILT_CLIENTS_KEPT;
    /** By client id, least recently used first: the client built from `metadata`, its served registration. */
    const builtClients = new Map<string, { metadata: AdapterPayload; client: Client }>();
    const findClient = provider.Client.find.bind(provider.Client);
    provider.Client.find = async (id: string) => {
      if (typeof id !== 'string' || id === '' || configured.has(id)) return findClient(id);
      const metadata = await clientAdapter.find(id);
      if (!metadata) return undefined;
      const kept = builtClients.get(id);
      if (kept) {
        builtClients.delete(id);
        if (kept.metadata === metadata) {
          builtClients.set(id, kept);
          return kept.client;
        }
      }
      // oidc-provider asks the adapter before its first await: that find is answered with a copy of this
      // metadata, so the client it builds (or has built) is this metadata's.
      handOver = { id, metadata: { ...metadata } };
      const building = findClient(id);
      const handedOver = handOver === undefined;
      handOver = undefined;
      const client = await building;
      if (client && handedOver && keptAtMost > 0) {
        builtClients.set(id, { metadata, client });
        if (builtClients.size > keptAtMost) builtClients.delete(builtClients.keys().next().value!);
      }
      return client;
    };
  }
  provider.use(databaseUnavailableAnswers(provider));
  provider.use(clientAuthenticationErrors);
  // Inside the two above: a held assertion record is written before the request is answered, a replay
  // found then is `invalid_client` (401), and a database failure then a 503.
  provider.use(adapterFactory.recordHeldAssertions);
  provider.use(errorPages.notFound);
  keepUnverifiedAuthorizationErrorsOnPage(provider);
  refuseRevokedClientKeys(provider, options.signingKeys ?? publishedStatusOnly);

  // Discovery names the mTLS listener for every endpoint a TPP calls with its certificate.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'discovery' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      const body = ctx.body as Record<string, unknown>;
      const aliases: Record<string, string> = {};
      for (const route of MTLS_ROUTES) {
        const key =
          route === 'pushed_authorization_request'
            ? 'pushed_authorization_request_endpoint'
            : `${route}_endpoint`;
        const url = `${mtlsBaseUrl}${ROUTES[route]}`;
        aliases[key] = url;
        body[key] = url;
      }
      aliases['registration_endpoint'] = `${mtlsBaseUrl}${REGISTRATION_PATH}`;
      body['registration_endpoint'] = aliases['registration_endpoint'];
      body['authorization_endpoint'] = `${issuer}${ROUTES.authorization}`;
      body['jwks_uri'] = `${issuer}${ROUTES.jwks}`;
      body['mtls_endpoint_aliases'] = aliases;
      // oidc-provider derives `implicit` from the `id_token` in `code id_token`; no implicit grant is ever
      // accepted (the hybrid ID token is a detached signature, and /token refuses grant_type=implicit).
      body['grant_types_supported'] = (body['grant_types_supported'] as string[]).filter(
        (grant) => grant !== 'implicit',
      );
      body['response_modes_supported'] = [...RESPONSE_MODES];
      body['request_object_signing_alg_values_supported'] = ['PS256'];
      body['token_endpoint_auth_signing_alg_values_supported'] = ['PS256'];
      // CIBA user codes are refused (src/auth/ciba.ts verifyUserCode); oidc-provider advertises them anyway.
      if ('backchannel_user_code_parameter_supported' in body)
        body['backchannel_user_code_parameter_supported'] = false;
    }
  });

  const browserPaths = [DISCOVERY_PATH, ROUTES.authorization, `${ROUTES.authorization}/*`, ROUTES.jwks];
  const mtlsPaths = [DISCOVERY_PATH, ROUTES.jwks, ...MTLS_ROUTES.map((route) => ROUTES[route])];

  const clientChanged = async (clientId: string): Promise<void> => {
    if (clients) await clients.changed(clientId);
  };
  return { provider, issuer, mtlsBaseUrl, clock, store, browserPaths, mtlsPaths, clientChanged };
}

/** The payload a stored token carries, for code that reads it without the provider's classes. */
export type StoredTokenPayload = AdapterPayload;
