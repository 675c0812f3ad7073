import type { FastifyInstance } from 'fastify';
import type { Clock } from '../shared/clock.ts';
import { openStore, type Store } from '../store/index.ts';
import { createClientCertificateResolver } from './client-certificate.ts';
import { openEmbeddedStore } from './data-dir.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { createSurface, type Surface } from './surface.ts';
import { loadServerTls, type ServerTls } from './tls-material.ts';

/** What a part gets to mount itself: both surfaces and the shared services. */
export interface PartContext {
  config: Config;
  store: Store;
  logger: Logger;
  clock: Clock;
  tls: ServerTls;
  browser: FastifyInstance;
  mtls: FastifyInstance;
  urls: PlatformUrls;
  /** The names of the parts this instance mounts. */
  parts: readonly string[];
  /** Registers work to do at shutdown, after the listeners have drained and before the store closes. */
  onClose(handler: () => Promise<void>): void;
}

export interface Part {
  name: string;
  mount(context: PartContext): Promise<void>;
}

export interface PlatformUrls {
  browser: string;
  mtls: string;
}

export interface RunningPlatform {
  urls: PlatformUrls;
  store: Store;
  tls: ServerTls;
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
    const clientCertificates = createClientCertificateResolver(
      config.mtlsMode === 'direct'
        ? { mode: 'direct' }
        : { mode: 'proxy', trustedProxies: config.trustedProxies, header: config.clientCertHeader },
      tls.trustAnchors,
      () => clock.now(),
    );
    const browser = await createSurface({ kind: 'browser', tls, logger, store });
    surfaces.push(browser);
    const mtls = await createSurface({ kind: 'mtls', tls, logger, store, clientCertificates });
    surfaces.push(mtls);

    // Ports are bound first so that parts can announce their real URLs (port 0 picks a free one).
    const urls = { browser: '', mtls: '' };
    urls.browser = `https://${config.publicHost}:${await browser.listen(config.bindHost, config.browserPort)}`;
    urls.mtls = `https://${config.publicHost}:${await mtls.listen(config.bindHost, config.mtlsPort)}`;
    const context: PartContext = {
      config,
      store,
      logger,
      clock,
      tls,
      browser: browser.app,
      mtls: mtls.app,
      urls,
      parts: options.parts.map((part) => part.name),
      onClose: (handler) => closeHandlers.push(handler),
    };
    for (const part of options.parts) await part.mount(context);
    await browser.ready();
    await mtls.ready();
    return {
      urls,
      store,
      tls,
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
