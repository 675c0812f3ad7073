import { existsSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { request } from 'undici';
import { startCluster, UPSTREAM_HEADER, type Cluster } from '../../src/cli/cluster.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { tppOnboarder, type Sandbox } from './journey.ts';
import { httpsClient } from './platform.ts';
import { createTestDatabase } from './store.ts';

/**
 * The production topology in a test: nginx (deploy/nginx, mutual TLS, RFC 9440 Client-Cert) in front of N
 * sandbox instances in proxy mode, child processes on a fresh PostgreSQL database, stopped when the calling
 * suite ends. Share one per test file; instances 1..N-1 start together.
 */
export interface TestCluster {
  cluster: Cluster;
  /** The sandbox root CA (PEM): TLS at nginx, and the TPPs' certificates. */
  rootPem: string;
  discoveryUrl: string;
  /** The cluster's own database (a store of the test's own, for assertions). */
  databaseUrl: string;
  store: Store;
  /** Onboards at the directory and registers at the bank, all through nginx (see `Sandbox.tpp`). */
  tpp: Sandbox['tpp'];
  /** Which instance answered a response, from the header the cluster's nginx adds. */
  instanceOf(headers: Record<string, string | string[] | undefined>): number | undefined;
  /**
   * Every request nginx has answered so far, in order, with the instance that answered (undefined: none
   * did, e.g. nginx refused it). `since` skips the first entries (a count taken earlier).
   */
  requests(since?: number): LoggedRequest[];
  /**
   * The requests since `since` that `matches`, once nginx has logged one: it writes a request's line after
   * it sent the answer, so a client that got its answer can look before the line is there. Waits for the
   * log file to change (never a fixed time), at most 5 s; then answers what there is.
   */
  requestsLogged(since: number, matches: (entry: LoggedRequest) => boolean): Promise<LoggedRequest[]>;
  /**
   * Makes the next request to `surface` go to instance `index`: nginx (one worker) takes its upstreams in
   * turn, so cheap /health calls advance the turn until the instance before it has answered.
   */
  routeNextTo(surface: 'browser' | 'mtls', index: number): Promise<void>;
}

export interface LoggedRequest {
  method: string;
  uri: string;
  status: number;
  upstream: string;
  instance: number | undefined;
}

/** Why cluster tests cannot run here, or undefined when they can (PostgreSQL and nginx). */
export function clusterUnavailable(): string | undefined {
  if (!process.env.DATABASE_URL) {
    return 'cluster tests need PostgreSQL (DATABASE_URL): instances in separate processes cannot share the embedded PGlite database';
  }
  if (!existsSync('/usr/sbin/nginx'))
    return 'cluster tests need nginx (/usr/sbin/nginx; apt-get install nginx)';
  return undefined;
}

export async function startTestCluster(
  options: { instances?: number; env?: Record<string, string> } = {},
): Promise<TestCluster> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error(clusterUnavailable());
  const databaseUrl = await createTestDatabase(baseUrl);
  const cluster = await startCluster({
    instances: options.instances ?? 3,
    databaseUrl,
    // One worker: its round robin goes strictly in turn, so a test can say which instance answers.
    nginxWorkers: 1,
    env: { OBKIT_LOG_LEVEL: process.env.OBKIT_TEST_LOG_LEVEL ?? 'warn', ...options.env },
    onOutput: (source, line) => {
      if (process.env.OBKIT_TEST_LOG_LEVEL) process.stderr.write(`[${source}] ${line}\n`);
    },
  });
  // Registered before the database's own drop (after hooks run in reverse): instances stop first.
  after(() => cluster.stop());
  const store = await openStore({ backend: 'postgres', url: databaseUrl, poolSize: 2 });
  after(() => store.close());
  const rootPem = readFileSync(cluster.rootCaFile, 'utf8');
  const discoveryUrl = `${cluster.urls.browser}/.well-known/openid-configuration`;
  const probe = httpsClient([rootPem]);
  const instanceOf = (headers: Record<string, string | string[] | undefined>) => {
    const value = headers[UPSTREAM_HEADER];
    return cluster.instanceAt(Array.isArray(value) ? value.at(-1) : value);
  };
  const requests = (since = 0): LoggedRequest[] => {
    const file = join(cluster.nginxDir, 'access.log');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(since)
      .map((line) => {
        const entry = JSON.parse(line) as Omit<LoggedRequest, 'instance'>;
        return { ...entry, instance: cluster.instanceAt(entry.upstream || undefined) };
      });
  };
  const requestsLogged = async (
    since: number,
    matches: (entry: LoggedRequest) => boolean,
  ): Promise<LoggedRequest[]> => {
    const file = join(cluster.nginxDir, 'access.log');
    const deadline = Date.now() + 5_000;
    for (;;) {
      let changed = (): void => undefined;
      const written = new Promise<void>((resolve) => (changed = resolve));
      // Watched before the read: a line written between the read and the wait is not missed.
      const watcher = existsSync(file) ? watch(file, () => changed()) : undefined;
      const timer = setTimeout(changed, Math.max(0, deadline - Date.now()));
      try {
        const found = requests(since).filter(matches);
        if (found.length > 0 || Date.now() >= deadline) return found;
        await written;
      } finally {
        watcher?.close();
        clearTimeout(timer);
      }
    }
  };
  return {
    cluster,
    rootPem,
    discoveryUrl,
    databaseUrl,
    store,
    tpp: tppOnboarder({ directoryUrl: cluster.urls.browser, discoveryUrl, rootPem }),
    instanceOf,
    requests,
    requestsLogged,
    async routeNextTo(surface, index) {
      const count = cluster.instances.length;
      const before = (index - 1 + count) % count;
      for (let attempt = 0; attempt <= count * 2; attempt += 1) {
        const response = await request(`${cluster.urls[surface]}/health`, { dispatcher: probe });
        await response.body.dump();
        if (instanceOf(response.headers) === before) return;
      }
      throw new Error(`instance ${before} never answered /health on the ${surface} listener`);
    },
  };
}
