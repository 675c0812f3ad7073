import type { FastifyInstance } from 'fastify';
import type { ConsentContext, RevocationNotifier } from '../consent/index.ts';
import type { Clock } from '../shared/clock.ts';
import { getIntent } from '../consent/index.ts';
import { accountAccessConsents } from './ais/account-access-consents.ts';
import {
  accountInformation,
  type EmbeddedDatabase,
  type HeardChangeVersion,
} from './ais/account-information.ts';
import { consentUsage } from './ais/consent-usage.ts';
import {
  createGuardCaches,
  type GuardCaches,
  type ParticipantSource,
  type TokenRevocation,
  type TokenSource,
} from './guard/index.ts';
import { fundsConfirmation } from './cof/funds-confirmation.ts';
import { discovery } from './discovery.ts';
import type { IdempotencyKeys } from './http/idempotency.ts';
import type { ResponseSigner, SigningKeyResolver } from './http/jws.ts';
import { eventNotificationApis, type EventSigningKey } from './events/index.ts';
import { paymentInitiation } from './pis/index.ts';
import { API_VERSIONS, VERSION_BASES } from './versions.ts';

export interface OpenBankingMountContext {
  mtls: FastifyInstance;
  /**
   * The bank's database, as the consent and bank parts take it, and, embedded, its write count and
   * read-only statements (`Store['embedded']`).
   */
  store: { db: ConsentContext['db']; embedded?: EmbeddedDatabase | undefined };
  clock: Clock;
  urls: { mtls: string };
}

export interface OpenBankingDependencies {
  /** Access tokens, from the authorization server, looked up in process. */
  tokens: TokenSource;
  /** Whether each client's participant is Active at the directory (cached; changes drop the cache). */
  participants: ParticipantSource;
  /** Publishes a revocation to every part of every instance (and, first, to this one). */
  notifyRevoked: RevocationNotifier;
  /** Registers a handler for revocations published anywhere. */
  onRevoked(handler: (intentId: string) => void): void;
  /** Registers a handler for consents changed anywhere without a revocation (an account no longer shared). */
  onConsentChanged?(handler: (intentId: string) => void): void;
  /** Registers a handler for access tokens revoked anywhere (RFC 7009, DCR DELETE). */
  onTokensRevoked(handler: (revocation: TokenRevocation) => void): void;
  /**
   * The store's change version as this instance has heard it: cached tokens and consents read under an
   * earlier one are not served; while it is up to date, account answers kept under it are served.
   */
  changeVersion?: HeardChangeVersion;
  /**
   * Message signing for the payment APIs (PIS, VRP): the TPPs' signing keys (their software's directory
   * JWKS, cached), the bank's response signer and the trust anchor (`http://openbanking.org.uk/tan`).
   * Without it the payment APIs are not mounted. With it, the statements of their idempotency keys
   * (src/store/idempotency.ts: src/openbanking may not import the store).
   */
  payments?: {
    keys: SigningKeyResolver;
    signer: ResponseSigner;
    trustAnchor: string;
    idempotencyKeys: IdempotencyKeys;
  };
  /**
   * The Event Notification APIs: the bank's key for signing SETs (its message-signing key) and their `iss`
   * (the authorization server's issuer). Mounted with the payment APIs, whose signing they share.
   */
  events?: { signing: EventSigningKey; issuer: string };
}

export interface MountedOpenBanking {
  caches: GuardCaches;
}

/** The guard caches: long enough to spare the database, short enough that an unannounced change heals fast. */
const CACHE = { ttlMs: 30_000, maxEntries: 50_000 };

/** Mounts the Read/Write APIs on the mTLS listener under their specification base paths. */
export async function mountOpenBanking(
  context: OpenBankingMountContext,
  dependencies: OpenBankingDependencies,
): Promise<MountedOpenBanking> {
  const { store, clock } = context;
  const { changeVersion } = dependencies;
  const caches = createGuardCaches(
    { tokens: dependencies.tokens, intents: { find: (intentId) => getIntent(store.db, intentId) } },
    { clock, ...CACHE, ...(changeVersion ? { version: () => changeVersion.current() } : {}) },
  );
  dependencies.onRevoked((intentId) => caches.forgetIntent(intentId));
  dependencies.onConsentChanged?.((intentId) => caches.forgetIntent(intentId));
  dependencies.onTokensRevoked((revocation) => caches.forgetTokens(revocation));
  const guard = {
    tokens: caches.tokens,
    intents: caches.intents,
    participants: dependencies.participants,
    clock,
  };

  const usage = consentUsage({ db: store.db, clock });
  // One set of handlers per version, over the same consent store, ledger and guard (versions.ts).
  for (const version of API_VERSIONS) {
    const base = VERSION_BASES[version].aisp;
    await context.mtls.register(
      async (scope) => {
        await accountAccessConsents(scope, {
          db: store.db,
          clock,
          guard,
          notifyRevoked: dependencies.notifyRevoked,
          publicBaseUrl: `${context.urls.mtls}${base}`,
          version,
        });
        await accountInformation(scope, {
          db: store.db,
          embedded: store.embedded,
          changeVersion,
          clock,
          guard,
          usage,
          publicBaseUrl: `${context.urls.mtls}${base}`,
          version,
        });
      },
      { prefix: base },
    );
  }
  const payments = dependencies.payments;
  if (payments) {
    for (const version of API_VERSIONS) {
      const base = VERSION_BASES[version].pisp;
      if (!base) continue;
      await context.mtls.register(
        async (scope) =>
          paymentInitiation(scope, {
            db: store.db,
            clock,
            guard,
            signatures: { keys: payments.keys, trustAnchor: payments.trustAnchor, clock },
            signer: payments.signer,
            publicBaseUrl: `${context.urls.mtls}${base}`,
            version,
            idempotencyKeys: payments.idempotencyKeys,
            forgetIntent: (intentId) => caches.forgetIntent(intentId),
            notifyRevoked: dependencies.notifyRevoked,
          }),
        { prefix: base },
      );
    }
  }
  const events = dependencies.events;
  if (payments && events) {
    for (const version of API_VERSIONS) {
      const base = VERSION_BASES[version].events;
      if (!base) continue;
      await context.mtls.register(
        async (scope) =>
          eventNotificationApis(scope, {
            db: store.db,
            clock,
            guard,
            signatures: { keys: payments.keys, trustAnchor: payments.trustAnchor, clock },
            signer: payments.signer,
            tokens: {
              db: store.db,
              clock,
              signing: events.signing,
              issuer: events.issuer,
              mtlsOrigin: context.urls.mtls,
            },
            publicBaseUrl: `${context.urls.mtls}${base}`,
            version,
          }),
        { prefix: base },
      );
    }
  }
  for (const version of API_VERSIONS) {
    const base = VERSION_BASES[version].cbpii;
    await context.mtls.register(
      async (scope) =>
        fundsConfirmation(scope, {
          db: store.db,
          clock,
          guard,
          notifyRevoked: dependencies.notifyRevoked,
          publicBaseUrl: `${context.urls.mtls}${base}`,
          version,
        }),
      { prefix: base },
    );
  }
  await context.mtls.register(async (scope) =>
    discovery(scope, { mtlsOrigin: context.urls.mtls, paymentsMounted: payments !== undefined }),
  );
  return { caches };
}
