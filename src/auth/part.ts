import type { X509Certificate } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Agent, fetch as undiciFetch } from 'undici';
import type { DecoupledBridge } from '../consent/app/bank-app-bridge.ts';
import type { InteractionBridge } from '../consent/interaction-bridge.ts';
import { RevocationChecker, httpRevocationFetchers, loadOrCreateSandboxAuthorities } from '../pki/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { ParticipantStatusCheck } from '../shared/participant-status.ts';
import type { SigningKeyStatus } from '../shared/signing-key-status.ts';
import type { Telemetry } from '../shared/telemetry.ts';
import type { Store } from '../store/index.ts';
import { revokeIntentTokens, startAuthModelSweeper } from './adapter.ts';
import { outboundFetch } from './outbound-fetch.ts';
import { httpsJsonFetcher, RemoteJwksCache } from './dcr/jwks.ts';
import { localFirstFetch, type LocalJwks } from '../shared/local-jwks.ts';
import { registrationPlugin, type RegistrationPluginOptions } from './dcr/plugin.ts';
import { Registrar, type TrustedDirectory } from './dcr/registration.ts';
import { authorizationServerPlugin } from './fastify.ts';
import { createDecoupledBridge } from './ciba-bridge.ts';
import { createInteractionBridge } from './interaction-bridge.ts';
import { createAuthorizationServer, type AuthorizationServer, type AuthTtl } from './provider.ts';
import { loadOrCreateProviderSecrets } from './secrets.ts';
import { revokeTokensOnConsentRevocation } from './tokens.ts';

/** What the authorization server needs from the platform (a subset of the server's PartContext). */
export interface AuthMountContext {
  config: { sandbox: boolean; revocationFailClosed: boolean; mtlsMode: 'direct' | 'proxy' };
  store: Store;
  clock: Clock;
  tls: { trustAnchors: X509Certificate[]; sandboxPkiDir: string | undefined };
  browser: FastifyInstance;
  mtls: FastifyInstance;
  urls: { browser: string; mtls: string };
  logger?: { error(object: object, message: string): void };
  /** Told of every token issued (operator metrics); none when absent. */
  telemetry?: Telemetry;
  /** The store's change version this instance last read (see src/server/change-version.ts). */
  changeVersion?: { current(): number };
}

export interface AuthPartOptions {
  /** Told of each DCR registration made, updated or deleted (the security audit log). */
  onRegistration?: RegistrationPluginOptions['onRegistration'];
  /**
   * Directories whose SSAs we accept. Default: in the sandbox, the directory mounted beside us
   * (`<browser>/directory`, keys at `<browser>/directory/v1/jwks`); in production, none (configure them).
   */
  directories?: TrustedDirectory[];
  /** `aud` values accepted in registration requests besides our URLs (the bank's directory ids). */
  audiences?: string[];
  /**
   * The bank's id at the directory, for the `aud` of registration responses to requests that named the
   * bank by URL (in the sandbox, its organisation at the sandbox directory).
   */
  directoryId?: () => Promise<string | undefined>;
  /** PEM intermediates of transport certificates; in the sandbox, its issuing CA. */
  intermediatesPem?: string;
  /**
   * PEM CAs trusted when fetching JWKS — the trusted directories' and the clients' `jwks_uri`s — replacing
   * Node's defaults (so include them); the sandbox trusts its own CA instead.
   */
  jwksCaPem?: string;
  /**
   * JWK Sets read without fetching them (the directory beside us, from the database): SSA keys, software
   * JWKS at registration and clients' `jwks_uri`. Others are fetched, and kept when a refetch fails.
   */
  localJwks?: LocalJwks;
  /**
   * Whether clients' `jwks_uri`s may be on loopback, private or other special-use addresses. Off, the
   * provider refuses them (SSRF protection); the sandbox, whose participants are on localhost, allows them.
   */
  allowPrivateAddresses?: boolean;
  ttl?: Partial<AuthTtl>;
  /** Clients that may introspect any token (the API layer, if it introspects over HTTP). */
  resourceServerClientIds?: string[];
  /**
   * The platform's revocation fan-out. Given, the intent's tokens are dropped inside the revoker's own
   * call (so its 204 already holds on this instance); without it, we LISTEN for the NOTIFY ourselves.
   */
  onRevoked?: (handler: (intentId: string) => Promise<void>) => void;
  /**
   * Told when access tokens stop working before their expiry — one token revoked (RFC 7009), or every token
   * of a client whose registration was deleted — so the API's token caches drop them on every instance.
   */
  onTokensRevoked?: (revocation: { token: string } | { clientId: string }) => Promise<void>;
  /**
   * Each client's participant status at the directory: a Suspended or Revoked organisation or software
   * statement gets no registration, no client authentication (token, PAR, CIBA) and no authorization.
   */
  participantStatus?: ParticipantStatusCheck;
  /**
   * Whether a signing key still verifies (request objects, client assertions, registration requests):
   * the server's certificate-status view of its `x5c`. Default: only what its JWKS says.
   */
  signingKeys?: SigningKeyStatus;
}

export interface MountedAuthorizationServer {
  server: AuthorizationServer;
  /** Give this to the consent app (`consentApp({ bridge, … })`). */
  bridge: InteractionBridge;
  /** Give this to the bank app (decoupled authorisation, CIBA). */
  decoupled: DecoupledBridge;
  registrar: Registrar;
  /** Stops the expiry sweeper and the revocation listener. */
  close(): Promise<void>;
}

/**
 * Mounts the authorization server: browser endpoints (discovery, /authorize, JWKS) on the browser
 * listener; token, PAR, introspection, revocation, userinfo and Open Banking DCR (/register) on the mTLS
 * listener. Starts the sweeper of expired provider rows and the listener that drops an intent's tokens
 * when any instance revokes it.
 */
export async function mountAuthorizationServer(
  context: AuthMountContext,
  options: AuthPartOptions = {},
): Promise<MountedAuthorizationServer> {
  const { config, store, clock, urls } = context;
  const sandboxAuthorities =
    config.sandbox && context.tls.sandboxPkiDir
      ? await loadOrCreateSandboxAuthorities(context.tls.sandboxPkiDir, { clock })
      : undefined;
  const trustAnchorsPem = context.tls.trustAnchors.map((anchor) => anchor.toString()).join('\n');
  // The sandbox's own services (directory JWKS, software JWKS) are served under its CA on localhost.
  const sandboxCa = sandboxAuthorities ? `${sandboxAuthorities.chainPem}\n${trustAnchorsPem}` : undefined;
  const sandboxAgent = sandboxCa ? new Agent({ connect: { ca: sandboxCa } }) : undefined;
  const local = options.localJwks ?? (async () => undefined);
  const sandboxFetch = ((url: string | URL, init?: object) =>
    undiciFetch(url, { ...init, dispatcher: sandboxAgent } as never)) as unknown as typeof fetch;
  const jsonFetch = httpsJsonFetcher(
    sandboxCa ? { ca: sandboxCa } : options.jwksCaPem ? { ca: options.jwksCaPem } : {},
  );
  // A bank's clients' JWKS: under the configured CAs, special-use addresses refused unless allowed.
  const clientJwksFetch =
    !sandboxAgent && options.jwksCaPem
      ? outboundFetch({
          ca: options.jwksCaPem,
          allowPrivateAddresses: options.allowPrivateAddresses ?? false,
        })
      : undefined;

  const server = createAuthorizationServer({
    store,
    clock,
    issuer: urls.browser,
    mtlsBaseUrl: urls.mtls,
    secrets: await loadOrCreateProviderSecrets(store.db),
    proxy: config.mtlsMode === 'proxy',
    ...(context.changeVersion ? { changeVersion: () => context.changeVersion!.current() } : {}),
    ...(options.ttl ? { ttl: options.ttl } : {}),
    ...(options.participantStatus ? { participantStatus: options.participantStatus } : {}),
    ...(options.resourceServerClientIds ? { resourceServerClientIds: options.resourceServerClientIds } : {}),
    ...(options.signingKeys ? { signingKeys: options.signingKeys } : {}),
    // Without configured CAs a bank keeps oidc-provider's own SSRF-protected fetch.
    ...(sandboxAgent
      ? { fetch: localFirstFetch(local, sandboxFetch) as never }
      : clientJwksFetch
        ? { fetch: localFirstFetch(local, clientJwksFetch.fetch as typeof fetch) as never }
        : {}),
  });

  const directories =
    options.directories ??
    (config.sandbox
      ? [{ issuer: `${urls.browser}/directory`, jwksUri: `${urls.browser}/directory/v1/jwks` }]
      : []);
  const registrar = new Registrar({
    server,
    directories,
    audiences: [urls.mtls, `${urls.mtls}/register`, ...(options.audiences ?? [])],
    ...(options.directoryId ? { directoryId: options.directoryId } : {}),
    trustAnchorsPem,
    ...((options.intermediatesPem ?? sandboxAuthorities?.issuing.certificatePem)
      ? { intermediatesPem: options.intermediatesPem ?? sandboxAuthorities?.issuing.certificatePem }
      : {}),
    revocation: new RevocationChecker({
      clock,
      failOpen: !config.revocationFailClosed,
      // The sandbox directory answers OCSP and CRL over HTTPS under the sandbox CA.
      ...(sandboxAgent ? { fetchers: httpRevocationFetchers({ fetch: sandboxFetch }) } : {}),
    }),
    jwks: new RemoteJwksCache(async (url) => (await local(url)) ?? jsonFetch(url), {
      clock,
      ...(options.signingKeys ? { keyStatus: options.signingKeys } : {}),
    }),
    clock,
    ...(options.participantStatus ? { participantStatus: options.participantStatus } : {}),
    ...(options.onTokensRevoked
      ? { onDeleted: (clientId: string) => options.onTokensRevoked?.({ clientId }) ?? Promise.resolve() }
      : {}),
  });
  const telemetry = context.telemetry;
  if (telemetry) {
    // Emitted once a grant handler answered with tokens; the grant type is one the provider serves.
    server.provider.on('grant.success', (ctx: { oidc?: { params?: { grant_type?: unknown } } }) => {
      const grantType = ctx.oidc?.params?.grant_type;
      if (typeof grantType === 'string') telemetry.tokenIssued(grantType);
    });
  }
  if (options.onTokensRevoked) {
    const tokensRevoked = options.onTokensRevoked;
    // oidc-provider destroys a token it revokes (RFC 7009) and tells of it; opaque tokens' value is their jti.
    // The announcement (which advances the store's change version) is awaited before the revocation
    // endpoint answers: once the client reads 200, no instance serves the token.
    const announcing = new Set<Promise<void>>();
    const tell = (token: { jti: string }) => {
      const announced = tokensRevoked({ token: token.jti })
        .catch((error: unknown) =>
          context.logger?.error({ err: error }, 'announcing a revoked access token failed'),
        )
        .finally(() => announcing.delete(announced));
      announcing.add(announced);
    };
    server.provider.on('access_token.destroyed', tell);
    server.provider.on('client_credentials.destroyed', tell);
    server.provider.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route === 'revocation') await Promise.all([...announcing]);
    });
  }

  await context.browser.register(authorizationServerPlugin, { server, surface: 'browser' });
  await context.mtls.register(authorizationServerPlugin, { server, surface: 'mtls' });
  await context.mtls.register(registrationPlugin, {
    registrar,
    ...(options.onRegistration ? { onRegistration: options.onRegistration } : {}),
  });

  const stopSweeper = startAuthModelSweeper(store, {
    clock,
    onError: (error) => context.logger?.error({ err: error }, 'sweeping expired authorization rows failed'),
  });
  let stopListening: () => Promise<void> = async () => undefined;
  if (options.onRevoked) {
    options.onRevoked(async (intentId) => {
      await revokeIntentTokens(store.db, intentId);
    });
  } else {
    stopListening = await revokeTokensOnConsentRevocation(store, (error, intentId) =>
      context.logger?.error({ err: error, intentId }, 'dropping the tokens of a revoked intent failed'),
    );
  }
  return {
    server,
    bridge: createInteractionBridge(server),
    decoupled: createDecoupledBridge(server, context.logger),
    registrar,
    async close() {
      stopSweeper();
      // The store may already be closed when the platform shuts down in another order.
      await stopListening().catch(() => undefined);
      await sandboxAgent?.close();
      await clientJwksFetch?.close();
    },
  };
}
