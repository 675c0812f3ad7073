import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getCACertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  callbackAgents,
  clientStatusCheck,
  findAccessToken,
  mountAuthorizationServer,
  participantOfMetadata,
  type AuthorizationServer,
  type MountedAuthorizationServer,
} from '../auth/index.ts';
import { seedSandbox, startPaymentScheduler, type PaymentScheduler } from '../bank/index.ts';
import { mountConsent } from '../consent/part.ts';
import { mountDirectory, ownJwks, participantStatusIn, type MountedDirectory } from '../directory/index.ts';
import { mountJwkms } from '../jwkms/index.ts';
import { detachedSigner, remoteJwksKeyResolver } from '../openbanking/http/jws.ts';
import {
  DEFAULT_PUSH_POLICY,
  mountApiDocs,
  mountOpenBanking,
  startPushDelivery,
  type EventTokenContext,
} from '../openbanking/index.ts';
import type { LocalJwks } from '../shared/local-jwks.ts';
import { tppSigningIssuer } from '../shared/ob-jws-claims.ts';
import {
  type ParticipantRef,
  type ParticipantStatusChange,
  type ParticipantStatusCheck,
} from '../shared/participant-status.ts';
import {
  configuredBankSigningIdentity,
  messageSigningTrustAnchor,
  sandboxBankDirectoryId,
  sandboxBankSigningIdentity,
  type BankSigningIdentity,
} from './bank-identity.ts';
import { idempotencyKeys, startIdempotencyKeySweeper } from '../store/index.ts';
import { environmentNames, type Config } from './config.ts';
import { checkPartNames } from './part-names.ts';
import type { Part, PartContext } from './platform.ts';
import { mountPortal } from './portal.ts';
import { appendAudit, bankSuspensionOf, mountOperatorConsole } from '../operator/index.ts';
import { createParticipantStatusGate, mlaStatusSource, withBankSuspensions } from './participant-status.ts';
import { createRevocations, type Revocations } from './revocations.ts';
import { signingKeyStatusOf } from './signing-key-status.ts';
import { readCertificateFiles } from './tls-material.ts';

/** The seed of the sandbox population: the same customers, accounts and transactions on every machine. */
export const SANDBOX_SEED = 'obkit-sandbox-1';

export interface PartsOptions {
  /** Seed the sandbox bank (customers, accounts, months of transactions) when in sandbox mode. Default true. */
  seedBank?: boolean;
}

/**
 * The parts of one platform instance, in mounting order. Parts that use another part's services share
 * them through this closure (JWKms the directory's keys, the consent app the authorization server's
 * interaction bridge, the APIs its tokens), so each platform started — several in one test process — gets
 * its own. `obkit sandbox` mounts all of them; `obkit serve <name>` the named ones and what they need.
 */
export function createParts(options: PartsOptions = {}): readonly Part[] {
  let directory: Promise<MountedDirectory> | undefined;
  let auth: Promise<MountedAuthorizationServer> | undefined;
  let revocations: Promise<Revocations> | undefined;
  let participants: Promise<ParticipantStatusCheck> | undefined;
  let scheduler: PaymentScheduler | undefined;
  // The JWKS of the directory mounted beside us are read from the database, never fetched from another
  // instance (or through the load balancer): every instance answers alone.
  const localJwks: LocalJwks = async (url) =>
    directory ? ownJwks((await directory).service, url) : undefined;

  const directoryOf = (context: PartContext) =>
    (directory ??= mountDirectory(context, {
      onCertificateRevoked: (serialNumber) => context.certificateStatus.forgetSerial(serialNumber),
      publishStatusChange: async (change) => publishStatusChange(context, change),
    }).then((mounted) => {
      // Certificates this directory issued are checked against it in process, never over the network.
      context.certificateStatus.answerLocally(new X509Certificate(mounted.issuingCaPem), {
        ocsp: (_url, requestDer) => mounted.revocation.ocsp(requestDer),
        crl: () => mounted.revocation.crl(),
      });
      return mounted;
    }));
  const revocationsOf = (context: PartContext) =>
    (revocations ??= createRevocations(context.store, (error) =>
      context.logger.error({ err: error }, 'a revocation handler failed'),
    ));
  /**
   * A participant status change at the sandbox directory: every instance drops what it kept about that
   * participant, and the API's cached tokens of its clients (subscribed where the APIs mount).
   */
  const publishStatusChange = async (context: PartContext, change: ParticipantStatusChange) =>
    (await revocationsOf(context)).publishParticipantStatus(change);
  const participantsOf = (context: PartContext) =>
    (participants ??= revocationsOf(context).then((hub) => participantStatus(context, hub)));
  const authOf = (context: PartContext) =>
    (auth ??= Promise.all([revocationsOf(context), participantsOf(context)])
      .then(([hub, participantStatus]) =>
        mountAuthorizationServer(context, {
          ...registrationTrust(context),
          participantStatus,
          signingKeys: signingKeyStatusOf(context.certificateStatus),
          localJwks,
          onRevoked: (handler) => hub.subscribe(handler),
          onTokensRevoked: (revocation) => hub.publishTokens(revocation),
          onRegistration: (change) =>
            appendAudit(context.store.db, context.clock, {
              actor: `client:${change.clientId}`,
              action: `registration.${change.event}`,
              subject: change.orgId ? `org:${change.orgId}` : `client:${change.clientId}`,
              address: change.address,
              detail: {
                clientId: change.clientId,
                ...(change.softwareId ? { softwareId: change.softwareId } : {}),
              },
            }),
        }),
      )
      .then((mounted) => {
        context.onClose(() => mounted.close());
        return mounted;
      }));
  // One scheduler per platform instance, whichever of the parts that need it mounts first; instances
  // running it together are safe (due rows are claimed with `skip locked`, postings have unique origins).
  const schedulerOf = (context: PartContext) => {
    if (!scheduler) {
      const started = startPaymentScheduler(
        context.store.db,
        { clock: context.clock },
        {
          intervalMs: context.config.schedulerIntervalMs,
          onOutcomes: (outcomes) => context.logger.info({ outcomes }, 'due payments executed'),
          onError: (error) => context.logger.error({ err: error }, 'the payment scheduler failed'),
        },
      );
      context.onClose(() => started.stop());
      scheduler = started;
    }
    return scheduler;
  };

  return [
    {
      name: 'bank',
      async mount(context) {
        if (context.config.sandbox && options.seedBank !== false) {
          const result = await seedSandbox(context.store.db, { seed: SANDBOX_SEED, clock: context.clock });
          if (result.created) context.logger.info({ ...result }, 'sandbox bank seeded');
        }
        schedulerOf(context);
      },
    },
    {
      name: 'directory',
      async mount(context) {
        await directoryOf(context);
      },
    },
    {
      name: 'jwkms',
      async mount(context) {
        await mountJwkms(
          { ...context, trustAnchor: messageSigningTrustAnchor(context.config, context.urls.browser) },
          await directoryOf(context),
        );
      },
    },
    {
      name: 'auth',
      async mount(context) {
        await authOf(context);
      },
    },
    {
      name: 'consent',
      async mount(context) {
        const { server, bridge, decoupled } = await authOf(context);
        await mountConsent(context, {
          bridge,
          decoupled,
          notifyRevoked: (await revocationsOf(context)).publish,
          notifyChanged: (await revocationsOf(context)).publishChange,
          tpps: {
            async describe(clientId) {
              const client = await server.provider.Client.find(clientId);
              if (!client) return undefined;
              const name = typeof client.clientName === 'string' ? client.clientName : clientId;
              return { name, ...(typeof client.logoUri === 'string' ? { logoUri: client.logoUri } : {}) };
            },
          },
        });
      },
    },
    {
      name: 'openbanking',
      async mount(context) {
        const { server } = await authOf(context);
        const hub = await revocationsOf(context);
        const participants = clientStatusCheck(context.store.db, await participantsOf(context));
        const payments = context.config.sandbox
          ? await sandboxPayments(context, server, await directoryOf(context), localJwks)
          : await productionPayments(context, server, localJwks);
        if (payments) {
          schedulerOf(context);
          const stopSweeping = startIdempotencyKeySweeper(context.store, {
            clock: context.clock,
            onError: (error) =>
              context.logger.error({ err: error }, 'sweeping expired idempotency keys failed'),
          });
          context.onClose(async () => stopSweeping());
          await startEventPush(
            context,
            {
              db: context.store.db,
              clock: context.clock,
              signing: payments.eventSigning,
              issuer: server.provider.issuer,
              mtlsOrigin: context.urls.mtls,
            },
            async (clientId) => {
              const client = await server.provider.Client.find(clientId);
              return client ? participantOfMetadata(client.metadata()) : undefined;
            },
          );
        }
        await mountOpenBanking(context, {
          ...(payments ? { payments: payments.api } : {}),
          ...(payments ? { events: { signing: payments.eventSigning, issuer: server.provider.issuer } } : {}),
          participants,
          tokens: {
            find: (value) =>
              findAccessToken(server, value).then(
                (token) => token && { ...token, scopes: new Set(token.scopes) },
              ),
          },
          notifyRevoked: hub.publish,
          changeVersion: context.changeVersion,
          onRevoked: (handler) => hub.subscribe(handler),
          onConsentChanged: (handler) => hub.subscribeChange(handler),
          onTokensRevoked: (handler) => {
            hub.subscribeTokens(handler);
            // A status change drops the cached tokens of the participant's clients here, synchronously, so
            // the next call reads them afresh (suspended: refused; reinstated: served with what they hold).
            hub.subscribeParticipantStatus((change) => {
              for (const clientId of participants.clientsOf(change)) handler({ clientId });
            });
          },
        });
        // The docs of exactly what this instance serves, on the browser listener for TPP developers.
        await mountApiDocs(context.browser, {
          payments: payments !== undefined,
          registration: context.parts.includes('auth'),
        });
      },
    },
    {
      // The bank's staff's console on the operator listener (never the browser or mTLS ones).
      name: 'operator',
      async mount(context) {
        const hub = await revocationsOf(context);
        await mountOperatorConsole(context, {
          notifyRevoked: hub.publish,
          announceParticipantStatus: (change) => hub.publishParticipantStatus(change),
        });
      },
    },
    {
      // The sandbox's developer portal at `/`: links, discovery, customers. Nothing outside the sandbox.
      name: 'portal',
      async mount(context) {
        await mountPortal(context);
      },
    },
  ];
}

/**
 * Where this instance learns participant status. The sandbox reads its own directory's tables, and the
 * directory's announcements (on any instance) drop what was kept. A production bank reads the MLA status
 * API at `participantStatusUrl`, kept at most `participantStatusCacheSeconds`; without it, no status.
 */
function participantStatus(context: PartContext, hub: Revocations): ParticipantStatusCheck {
  const { config, store, clock, logger } = context;
  const common = {
    clock,
    maxCacheSeconds: config.participantStatusCacheSeconds,
    failOpen: !config.revocationFailClosed,
    version: () => context.changeVersion.current(),
  };
  // The bank's own suspensions (the operator console) are consulted beside whatever the directory says.
  const suspendedBy = async (orgId: string) => (await bankSuspensionOf(store.db, orgId))?.reason;
  if (config.sandbox) {
    const gate = createParticipantStatusGate({
      ...common,
      source: withBankSuspensions(
        (participant) => participantStatusIn(store.db, participant.orgId, participant.softwareId),
        suspendedBy,
      ),
    });
    hub.subscribeParticipantStatus((change) => gate.forget(change));
    return gate;
  }
  if (!config.participantStatusUrl) {
    logger.warn(
      `no participant status from a directory: only the bank's own suspensions are refused; set ${environmentNames.participantStatusUrl} (participantStatusUrl)`,
    );
    const gate = createParticipantStatusGate({
      ...common,
      source: withBankSuspensions(async () => ({ organisation: 'Active' }), suspendedBy),
    });
    hub.subscribeParticipantStatus((change) => gate.forget(change));
    return gate;
  }
  const identity =
    config.participantStatusCertFile && config.participantStatusKeyFile
      ? {
          cert: readFileSync(config.participantStatusCertFile, 'utf8'),
          key: readFileSync(config.participantStatusKeyFile, 'utf8'),
        }
      : {};
  const agent = new Agent({
    connect: { ca: [...systemCasAnd(config.jwksCaFiles), ...context.tls.ca], ...identity },
  });
  context.onClose(() => agent.close());
  const gate = createParticipantStatusGate({
    ...common,
    source: withBankSuspensions(
      mlaStatusSource({
        url: config.participantStatusUrl,
        clock,
        maxCacheSeconds: config.participantStatusCacheSeconds,
        fetch: ((url: string | URL, init?: object) =>
          undiciFetch(url, { ...init, dispatcher: agent } as never)) as unknown as typeof fetch,
      }),
      suspendedBy,
    ),
  });
  hub.subscribeParticipantStatus((change) => gate.forget(change));
  return gate;
}

/**
 * Real-time push of event notifications from this instance: woken by NOTIFY when an event is raised on
 * any instance, callbacks reached over TLS trusting the system's CAs, `jwksCaFiles` and the platform's
 * own (the sandbox CA that issues TPP certificates). A callback served with a participant certificate must
 * be the subscribing TPP's own (auth's `callbackServerIdentity`); any other gets the host name check.
 */
async function startEventPush(
  context: PartContext,
  tokens: EventTokenContext,
  ownerOf: (clientId: string) => Promise<ParticipantRef | undefined>,
): Promise<void> {
  const { config } = context;
  // A callback is an address the TPP gave: special-use addresses are refused as for its `jwks_uri`, except
  // in the sandbox (TPPs and their receivers on loopback) or where private addresses are allowed.
  const agents = callbackAgents({
    ca: [...systemCasAnd(config.jwksCaFiles), ...context.tls.ca],
    participantAnchors: context.tls.trustAnchors,
    allowPrivateAddresses: config.sandbox || config.outboundPrivateAddresses,
    // Mutual TLS with the bank's transport certificate for a TPP whose receiver asks for one.
    identity: context.tls.clientIdentity,
    ownerOf,
  });
  const deliverer = await startPushDelivery({
    db: context.store.db,
    clock: context.clock,
    tokens,
    dispatcherFor: (clientId) => agents.agentFor(clientId),
    policy: {
      ...DEFAULT_PUSH_POLICY,
      maxAttempts: config.eventPushAttempts,
      backoffMs: config.eventPushBackoffMs,
      maxBackoffMs: config.eventPushMaxBackoffMs,
    },
    listen: (channel, handler) => context.store.listen(channel, handler),
    onError: (error) => context.logger.error({ err: error }, 'event notification push failed'),
  });
  context.onClose(async () => {
    await deliverer.stop();
    await agents.close();
  });
}

/** Keys that configure a production bank; the sandbox brings its own directory, CA and identity. */
const PRODUCTION_ONLY = [
  'trustedDirectories',
  'transportCaFiles',
  'signingKeyFile',
  'signingKid',
  'signingIssuer',
  'participantStatusUrl',
] as const satisfies readonly (keyof Config)[];

const configured = (key: (typeof PRODUCTION_ONLY)[number], config: Config): boolean => {
  const value = config[key];
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
};

/**
 * What Open Banking DCR trusts besides the platform's trust anchors: the directories whose SSAs we
 * accept, our ids at them (`aud`), and the CAs that issue TPP transport certificates. In the sandbox the
 * authorization server trusts the directory mounted beside it.
 */
function registrationTrust(context: PartContext) {
  const { config, logger } = context;
  const audiences = config.directoryAudiences.length > 0 ? { audiences: config.directoryAudiences } : {};
  if (config.sandbox) {
    const ignored = PRODUCTION_ONLY.filter((key) => configured(key, config)).map(
      (key) => `${environmentNames[key]} (${key})`,
    );
    if (ignored.length > 0) {
      logger.warn({ ignored }, 'production settings are ignored in the sandbox (OBKIT_SANDBOX=true)');
    }
    return { ...audiences, directoryId: () => sandboxBankDirectoryId(context.store) };
  }
  if (config.trustedDirectories.length === 0) {
    logger.warn(
      `no trusted directory: every dynamic client registration is refused; set ${environmentNames.trustedDirectories} (trustedDirectories)`,
    );
  }
  const intermediates = readCertificateFiles(config.transportCaFiles);
  return {
    directories: config.trustedDirectories,
    ...audiences,
    ...(intermediates.length > 0 ? { intermediatesPem: intermediates.join('\n') } : {}),
    jwksCaPem: systemCasAnd(config.jwksCaFiles).join('\n'),
    allowPrivateAddresses: config.outboundPrivateAddresses,
  };
}

/**
 * Message signing for the payment APIs in the sandbox: the bank is a participant of its own directory
 * (signing key certified by it, signing as its organisation id), `tan` is `signingTrustAnchor` or else the
 * directory's host, and TPP software JWKS are fetched trusting the sandbox CA.
 */
async function sandboxPayments(
  context: PartContext,
  server: AuthorizationServer,
  directory: MountedDirectory,
  localJwks: LocalJwks,
) {
  const identity = await sandboxBankSigningIdentity(
    context.store,
    directory,
    `${context.urls.browser}/directory`,
    `${context.urls.browser}/.well-known/openid-configuration`,
  );
  return paymentSigning(context, server, {
    identity,
    trustAnchor: messageSigningTrustAnchor(context.config, context.urls.browser),
    ca: [...context.tls.ca, ...readCertificateFiles(context.config.jwksCaFiles)],
    localJwks,
  });
}

/**
 * Message signing for the payment APIs of a bank: its identity at the directory from configuration, and
 * TPP software JWKS fetched trusting the system's CAs and `jwksCaFiles`. Without an identity the payment
 * APIs are not mounted, and the log says which keys mount them.
 */
async function productionPayments(context: PartContext, server: AuthorizationServer, localJwks: LocalJwks) {
  const { config } = context;
  const identity = await configuredBankSigningIdentity(config);
  if (!identity) {
    const keys = (['signingKeyFile', 'signingKid', 'signingIssuer', 'signingTrustAnchor'] as const)
      .map((key) => `${environmentNames[key]} (${key})`)
      .join(', ');
    context.logger.warn(
      `the payment APIs (PIS, VRP) are not mounted: the bank has no message-signing identity; set ${keys} to mount them`,
    );
    return undefined;
  }
  return paymentSigning(context, server, {
    identity,
    trustAnchor: messageSigningTrustAnchor(config, context.urls.browser),
    ca: systemCasAnd(config.jwksCaFiles),
    localJwks,
  });
}

/** Node's and the system's CA certificates and those of `files`: a `ca` option that adds, not replaces. */
function systemCasAnd(files: readonly string[]): string[] {
  return [
    ...new Set([
      ...getCACertificates('default'),
      ...getCACertificates('system'),
      ...readCertificateFiles(files),
    ]),
  ];
}

/**
 * The payments dependency of the Read/Write APIs: the bank's detached response signer, and TPP signing
 * keys from the software JWKS each client was registered with (`jwks_uri`), fetched over TLS trusting `ca`;
 * and the key that signs event notifications.
 */
function paymentSigning(
  context: PartContext,
  server: AuthorizationServer,
  signing: { identity: BankSigningIdentity; trustAnchor: string; ca: string[]; localJwks: LocalJwks },
) {
  const { identity, trustAnchor } = signing;
  const agent = new Agent({ connect: { ca: signing.ca } });
  context.onClose(() => agent.close());
  const api = {
    trustAnchor,
    idempotencyKeys,
    signer: detachedSigner({
      key: identity.key,
      kid: identity.kid,
      issuer: identity.issuer,
      trustAnchor,
      clock: context.clock,
    }),
    keys: remoteJwksKeyResolver({
      localJwks: signing.localJwks,
      keyStatus: signingKeyStatusOf(context.certificateStatus),
      fetch: (url, init) =>
        undiciFetch(url, { ...init, dispatcher: agent } as never) as unknown as Promise<Response>,
      async softwareOf(clientId) {
        const client = await server.provider.Client.find(clientId);
        const metadata = client?.metadata() as
          { jwks_uri?: string; org_id?: string; software_id?: string } | undefined;
        if (!metadata?.jwks_uri || !metadata.org_id || !metadata.software_id) return undefined;
        return {
          jwksUri: metadata.jwks_uri,
          issuers: [tppSigningIssuer(metadata.org_id, metadata.software_id)],
        };
      },
    }),
  };
  // Security Event Tokens are signed with the same key, as JWTs of their own (src/openbanking/events).
  return { api, eventSigning: { key: identity.key, kid: identity.kid } };
}

export { partNames, UnknownPartError } from './part-names.ts';

/** The named parts of a fresh platform instance; throws naming the unknown ones. */
export function selectParts(names: readonly string[] | 'all', options: PartsOptions = {}): readonly Part[] {
  const parts = createParts(options);
  if (names === 'all') return parts;
  checkPartNames(names);
  return parts.filter((part) => names.includes(part.name));
}
