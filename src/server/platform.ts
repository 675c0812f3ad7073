import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { readWriteUrl } from '../openbanking/index.ts';
import type { Clock } from '../shared/clock.ts';
import { thenOrNow } from '../shared/maybe-promise.ts';
import { noTelemetry, type CertificateCheckResult, type Telemetry } from '../shared/telemetry.ts';
import { recordRequests } from '../operator/request-recording.ts';
import { startOperations, type Operations } from '../operator/operations.ts';
import { metricsRoutes } from '../operator/metrics/routes.ts';
import { Agent, fetch as undiciFetch } from 'undici';
import { revocationChannel } from '../directory/index.ts';
import { httpRevocationFetchers } from '../pki/index.ts';
import { CHANGE_VERSION_CHANNEL, changeVersionOf, openStore, type Store } from '../store/index.ts';
import {
  createCertificateStatusGate,
  type CertificateStatus,
  type CertificateStatusGate,
} from './certificate-status.ts';
import { createChangeVersion, type ChangeVersion } from './change-version.ts';
import { createClientCertificateResolver } from './client-certificate.ts';
import { openEmbeddedStore } from './data-dir.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { rateLimitCounters, rateLimitPolicies } from './rate-limits.ts';
import { createSurface, type Surface } from './surface.ts';
import { loadServerTls, readCertificateFiles, type ServerTls } from './tls-material.ts';

/** What a part gets to mount itself: both surfaces and the shared services. */
export interface PartContext {
  config: Config;
  store: Store;
  logger: Logger;
  clock: Clock;
  tls: ServerTls;
  browser: FastifyInstance;
  mtls: FastifyInstance;
  /**
   * The operator listener (`operatorBindHost:operatorPort`, default 127.0.0.1:8445): the console and
   * `/metrics`, for the bank's own staff; nothing added here is served on the browser or mTLS listeners.
   * To add an operator route, a part (src/operator/…) registers it here in its own encapsulated plugin —
   * `context.operator.register(async (scope) => { scope.get('/metrics', …) })` — so that its hooks stay
   * its own. The surface gives it what every listener has (interaction id, JSON logs, rate limits per
   * address, /health, /ready) and nothing else: no session. A route for signed-in staff goes under the
   * console's scope instead (src/operator/console), which checks the session and the role before the
   * handler runs; a machine route (a Prometheus scrape) checks its own credential, if any.
   */
  operator: FastifyInstance;
  urls: PlatformUrls;
  /** The status check every client certificate passes on every mutual-TLS request. */
  certificateStatus: CertificateStatusGate;
  /** The store's change version, read at the start of each request: what caches must key on. */
  changeVersion: ChangeVersion;
  /** The names of the parts this instance mounts. */
  parts: readonly string[];
  /** Registers work to do at shutdown, after the listeners have drained and before the store closes. */
  onClose(handler: () => Promise<void>): void;
  /** Where parts report what the operator's metrics count (tokens issued, …). */
  telemetry: Telemetry;
  /** This instance's Prometheus metrics and MI recorder (the operator listener serves them); none in the benchmark's baseline. */
  operations: Operations | undefined;
}

export interface Part {
  name: string;
  mount(context: PartContext): Promise<void>;
}

export interface PlatformUrls {
  browser: string;
  mtls: string;
  /** Where the bank's staff reach the operator listener (its bound host and port; never a public URL). */
  operator: string;
}

export interface RunningPlatform {
  urls: PlatformUrls;
  store: Store;
  tls: ServerTls;
  /** This instance's metrics and MI recorder (undefined when started with `recordOperations: false`). */
  operations: Operations | undefined;
  /** The store's change version as this instance has heard it (what its caches answer under). */
  changeVersion: ChangeVersion;
  /** Stops accepting, lets in-flight requests finish, closes the store. */
  close(): Promise<void>;
}

export async function openConfiguredStore(config: Config): Promise<Store> {
  return config.databaseUrl
    ? openStore({ backend: 'postgres', url: config.databaseUrl, poolSize: config.databasePoolSize })
    : openEmbeddedStore(config.dataDir);
}

export async function startPlatform(options: {
  config: Config;
  logger: Logger;
  clock: Clock;
  parts: readonly Part[];
  /** An already open store (tests); by default the configured one is opened, and closed with the platform. */
  store?: Store;
  /**
   * Only for the benchmark that measures what it costs (bench/ais.ts): false skips the client certificate's
   * status check on the mTLS listener. No configuration key reaches this.
   */
  checkCertificateStatus?: boolean;
  /**
   * Only for the benchmark that measures what it costs (bench/ais.ts): false never reads the store's change
   * version, so caches are trusted until NOTIFY drops them (not safe behind a load balancer).
   */
  readChangeVersion?: boolean;
  /**
   * Only for the benchmark that measures what it costs (bench/metrics.ts): false records no metrics and no
   * MI. No configuration key reaches this.
   */
  recordOperations?: boolean;
}): Promise<RunningPlatform> {
  const { config, logger, clock } = options;
  const ownsStore = options.store === undefined;
  // The store opens (and takes the data dir's lock) first; the sandbox CA's keys are generated on the
  // thread pool meanwhile, while the embedded database keeps the main thread busy.
  const opening = options.store ? Promise.resolve(options.store) : openConfiguredStore(config);
  // Not when the data dir is refused at once (held by another process, a half-made database): a
  // refused start writes nothing.
  const tlsLoading = Promise.race([
    opening.then(() => undefined),
    new Promise<void>((resolve) => setImmediate(resolve)),
  ]).then(() => loadServerTls(config));
  tlsLoading.catch(() => undefined); // awaited below; a failure there is the one reported
  const store = await opening.catch(async (error: unknown) => {
    await tlsLoading.catch(() => undefined);
    throw error;
  });
  const surfaces: Surface[] = [];
  const closeHandlers: (() => Promise<void>)[] = [];
  const runCloseHandlers = async (): Promise<void> => {
    for (const handler of closeHandlers.reverse())
      await handler().catch((error: unknown) => logger.error({ err: error }, 'a part failed to stop'));
  };
  try {
    await store.migrate();
    const tls = await tlsLoading;
    const operations =
      options.recordOperations === false
        ? undefined
        : startOperations({
            store,
            clock,
            flushIntervalMs: config.miFlushIntervalMs,
            log: logger.child({ part: 'operator' }),
          });
    // Pushed first, so run last of the close handlers: the MI of the last requests is written after every
    // part stopped and before the store closes.
    if (operations) closeHandlers.push(() => operations.close());
    const telemetry = operations?.metrics.telemetry ?? noTelemetry;
    const changeVersion =
      options.readChangeVersion === false
        ? await notifiedChangeVersion(store, closeHandlers)
        : createChangeVersion(
            store,
            config.cacheLeaseMs > 0
              ? await store.holdCacheLease(config.cacheLeaseMs, (error) =>
                  // The lease lapses (requests read the change version again) and is tried again.
                  logger.warn({ err: error }, 'the cache lease could not be renewed'),
                )
              : undefined,
          );
    const certificateStatus = await startCertificateStatus(
      config,
      tls,
      store,
      clock,
      logger,
      closeHandlers,
      changeVersion,
    );
    const clientCertificates = createClientCertificateResolver(
      config.mtlsMode === 'direct'
        ? { mode: 'direct' }
        : { mode: 'proxy', trustedProxies: config.trustedProxies, header: config.clientCertHeader },
      tls.trustAnchors,
      () => clock.now(),
      options.checkCertificateStatus === false ? undefined : observedStatus(certificateStatus, telemetry),
    );
    const counters = rateLimitCounters(store, clock, logger);
    closeHandlers.push(() => counters.close());
    const rateLimits = {
      policies: rateLimitPolicies(config),
      counters,
      trustedProxies: config.trustedProxies,
    };
    const browser = await createSurface({ kind: 'browser', tls, logger, store, rateLimits, changeVersion });
    surfaces.push(browser);
    const mtls = await createSurface({
      kind: 'mtls',
      tls,
      logger,
      store,
      clientCertificates,
      rateLimits,
      rewriteUrl: readWriteUrl,
      changeVersion,
    });
    surfaces.push(mtls);
    if (operations) {
      mtls.observeAnswers(
        recordRequests(mtls.app, { metrics: operations.metrics, mi: operations.mi, clock }),
      );
    }
    const operator = await createSurface({ kind: 'operator', tls, logger, store, rateLimits, changeVersion });
    surfaces.push(operator);
    if (operations) {
      // Its own scope: the scrape checks its own credential (metricsToken), never a console session.
      await operator.app.register(metricsRoutes, { metrics: operations.metrics, token: config.metricsToken });
    }

    // Ports are bound first so that parts can announce their real URLs (port 0 picks a free one).
    const browserPort = await browser.listen(config.bindHost, config.browserPort);
    const mtlsPort = await mtls.listen(config.bindHost, config.mtlsPort);
    const operatorPort = await operator.listen(config.operatorBindHost, config.operatorPort);
    const urls = {
      browser: publicUrl(config.publicHost, config.publicBrowserPort ?? browserPort),
      mtls: publicUrl(config.publicHost, config.publicMtlsPort ?? mtlsPort),
      operator: operatorUrl(config.operatorBindHost, config.publicHost, operatorPort),
    };
    const context: PartContext = {
      config,
      store,
      logger,
      clock,
      tls,
      browser: browser.app,
      mtls: mtls.app,
      operator: operator.app,
      urls,
      certificateStatus,
      changeVersion,
      parts: options.parts.map((part) => part.name),
      onClose: (handler) => closeHandlers.push(handler),
      telemetry,
      operations,
    };
    for (const part of options.parts) await part.mount(context);
    await browser.ready();
    await mtls.ready();
    await operator.ready();
    return {
      urls,
      store,
      tls,
      operations,
      changeVersion,
      async close() {
        await Promise.allSettled(surfaces.map((surface) => surface.close(config.shutdownTimeoutMs)));
        await runCloseHandlers();
        if (ownsStore) await store.close();
      },
    };
  } catch (error) {
    await Promise.allSettled(surfaces.map((surface) => surface.close()));
    await runCloseHandlers();
    if (ownsStore) await store.close();
    throw error;
  }
}

/** The gate as the client certificate resolver asks it, each answer counted by result. */
function observedStatus(gate: CertificateStatusGate, telemetry: Telemetry): CertificateStatusGate {
  const resultOf = (status: CertificateStatus): CertificateCheckResult =>
    status.accepted
      ? 'good'
      : status.revoked
        ? 'revoked'
        : status.foreignIssuer
          ? 'foreign_issuer'
          : 'unavailable';
  return {
    check(certificate) {
      return thenOrNow(gate.check(certificate), (status) => {
        telemetry.certificateStatusChecked(resultOf(status));
        return status;
      });
    },
    forgetSerial: (serialNumber) => gate.forgetSerial(serialNumber),
    answerLocally: (issuer, fetchers) => gate.answerLocally(issuer, fetchers),
  };
}

/** `https://host:port`, as every instance behind one load balancer names it (443 left out, as URLs do). */
function publicUrl(host: string, port: number): string {
  return port === 443 ? `https://${host}` : `https://${host}:${port}`;
}

/**
 * The operator listener's URL: by the public host name when it listens on every address or on loopback
 * (the server certificate names the public host; the sandbox's names localhost), else by its address.
 */
function operatorUrl(bindHost: string, publicHost: string, port: number): string {
  const any = ['0.0.0.0', '::', '127.0.0.1', '::1', 'localhost'].includes(bindHost);
  const host = any ? publicHost : bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  return `https://${host}:${port}`;
}

/**
 * The certificate status gate of this instance: responders reached over HTTPS trusting the system's CAs,
 * the trust anchors and `jwksCaFiles`; the directory's revocation NOTIFY, from any instance, drops what it
 * kept about the revoked certificate.
 */
async function startCertificateStatus(
  config: Config,
  tls: ServerTls,
  store: Store,
  clock: Clock,
  logger: Logger,
  closeHandlers: (() => Promise<void>)[],
  changeVersion: ChangeVersion,
): Promise<CertificateStatusGate> {
  const intermediates = readCertificateFiles(config.transportCaFiles).map((pem) => new X509Certificate(pem));
  const agent = new Agent({
    connect: {
      ca: [
        ...getCACertificates('system'),
        ...getCACertificates('bundled'),
        ...tls.ca,
        ...readCertificateFiles(config.jwksCaFiles),
      ],
    },
  });
  closeHandlers.push(() => agent.close());
  const gate = createCertificateStatusGate({
    issuers: [...tls.trustAnchors, ...intermediates],
    clock,
    failOpen: !config.revocationFailClosed,
    maxCacheSeconds: config.revocationCacheSeconds,
    version: () => changeVersion.current(),
    fetchers: httpRevocationFetchers({
      fetch: ((url: string | URL, init?: object) =>
        undiciFetch(url, { ...init, dispatcher: agent } as never)) as unknown as typeof fetch,
    }),
  });
  const stop = await store.listen(revocationChannel, (payload) => {
    try {
      const { serialNumber } = JSON.parse(payload) as { serialNumber?: unknown };
      if (typeof serialNumber === 'string') gate.forgetSerial(serialNumber);
    } catch (error) {
      logger.error({ err: error }, 'a certificate revocation notice could not be read');
    }
  });
  closeHandlers.push(() => stop().catch(() => undefined));
  return gate;
}

/**
 * Only for the benchmark instance that never reads the change version (`readChangeVersion: false`): the
 * instance's change version with a follower of the versions its notifications carry (`store_announce`
 * notifies `store_change_version`) in place of a cache lease, held at all times — what an instance holding a
 * lease measures, without the lease (not safe behind a load balancer: a notification arrives after its change
 * committed elsewhere).
 */
async function notifiedChangeVersion(
  store: Store,
  closeHandlers: (() => Promise<void>)[],
): Promise<ChangeVersion> {
  let heard = 0;
  const hear = (version: number): void => {
    heard = Math.max(heard, version);
  };
  closeHandlers.push(await store.listen(CHANGE_VERSION_CHANNEL, (payload) => hear(changeVersionOf(payload))));
  hear(await store.changeVersion());
  return createChangeVersion(store, { held: () => true, heard: () => heard });
}
