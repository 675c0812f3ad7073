import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import type { DestinationStream } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { loadConfig, type Config } from '../../src/server/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startPlatform, type Part, type RunningPlatform } from '../../src/server/platform.ts';
import { loadServerTls } from '../../src/server/tls-material.ts';
import { ManualClock, systemClock, type Clock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';
import { createTestStore, keptFolder, seedPgliteDataDir } from './store.ts';

export { ManualClock };

export interface TestPlatform extends RunningPlatform {
  config: Config;
  dataDir: string;
}

/**
 * The whole platform on free loopback ports, over a fresh test store, with the given parts mounted.
 * Stopped (and its data directory removed) when the calling test or suite ends.
 */
export async function startTestPlatform(
  options: {
    parts?: readonly Part[];
    env?: Record<string, string>;
    clock?: Clock;
    /** Another instance of an existing platform: its data directory (PKI, keys) and an open store on its database. */
    instanceOf?: { dataDir: string; store: Store };
    /** Where the platform's JSON log lines go (at level `info` unless OBKIT_LOG_LEVEL says otherwise). */
    logTo?: DestinationStream;
  } = {},
): Promise<TestPlatform> {
  const dataDir = options.instanceOf?.dataDir ?? mkdtempSync(join(tmpdir(), 'obkit-test-'));
  if (!options.instanceOf && !options.env?.OBKIT_TLS_CERT_FILE) await seedSandboxPki(dataDir);
  const config = loadConfig({
    env: {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_BROWSER_PORT: '0',
      OBKIT_MTLS_PORT: '0',
      OBKIT_OPERATOR_PORT: '0',
      OBKIT_LOG_LEVEL: process.env.OBKIT_TEST_LOG_LEVEL ?? (options.logTo ? 'info' : 'silent'),
      ...options.env,
    },
  });
  const platform = await startPlatform({
    config,
    logger: createLogger(config, options.logTo),
    clock: options.clock ?? systemClock,
    parts: options.parts ?? [],
    store: options.instanceOf?.store ?? (await createTestStore()),
  });
  after(async () => {
    await platform.close();
    if (!options.instanceOf) rmSync(dataDir, { recursive: true, force: true });
  });
  return { ...platform, config, dataDir };
}

/** What a sandbox keeps in `<data dir>/pki`: its CA hierarchy, and the server certificate it issued. */
const SANDBOX_PKI_FILES = [
  'root-ca.pem',
  'root-ca.key.pem',
  'issuing-ca.pem',
  'issuing-ca.key.pem',
  'server.pem',
  'server.key.pem',
];

let sandboxPki: Promise<string> | undefined;

/**
 * Puts a sandbox CA and server certificate into a new platform's data dir, as a sandbox leaves them after
 * its first start. Making them takes two 3072-bit and one 2048-bit RSA keys (about 1 s of CPU), which every
 * platform a test started paid. They are made once by `loadServerTls` itself into a folder under the
 * temporary directory, named by a hash of the code that makes them (src/pki, the TLS material), so a change
 * there makes new ones; concurrent first processes each make a folder aside and rename it into place (the
 * loser keeps the winner's). Each platform still has its own copy, so it may add to it or replace it. The
 * CA is dated from when it was made, as a fresh one is: valid from a day before, for years. Left there on
 * purpose: `rm -r "$TMPDIR"/obkit-test-sandbox-pki-*` reclaims them.
 */
async function seedSandboxPki(dataDir: string): Promise<void> {
  sandboxPki ??= keptFolder(
    join(tmpdir(), `obkit-test-sandbox-pki-${sandboxPkiCodeHash()}`),
    async (draft) => {
      const scratch = mkdtempSync(join(tmpdir(), 'obkit-test-sandbox-pki-data-'));
      await loadServerTls(loadConfig({ env: { OBKIT_DATA_DIR: scratch } }));
      renameSync(join(scratch, 'pki'), draft);
      rmSync(scratch, { recursive: true, force: true });
    },
  );
  const folder = await sandboxPki;
  const pki = join(dataDir, 'pki');
  mkdirSync(pki, { mode: 0o700 });
  // copyFileSync keeps each file's mode: private keys stay 0600.
  for (const file of SANDBOX_PKI_FILES) copyFileSync(join(folder, file), join(pki, file));
}

/**
 * Makes a new data dir for an obkit process a test spawns look as after a first start, for tests that do
 * not check what a first start does: the sandbox CA (`seedSandboxPki`) and, when the process will use the
 * embedded database (by default when DATABASE_URL is unset), a migrated database in `pglite/`
 * (`seedPgliteDataDir`). Each spawned process thus skips initdb and making a CA (about 7 s of CPU).
 */
export async function seedDataDir(dataDir: string, options: { embedded?: boolean } = {}): Promise<void> {
  const embedded = options.embedded ?? !process.env.DATABASE_URL;
  await Promise.all([
    seedSandboxPki(dataDir),
    embedded ? seedPgliteDataDir(join(dataDir, 'pglite')) : undefined,
  ]);
}

/** The first 16 hex digits of a SHA-256 over the sources that make the sandbox PKI files. */
function sandboxPkiCodeHash(): string {
  const hash = createHash('sha256');
  const pkiSources = fileURLToPath(new URL('../../src/pki/', import.meta.url));
  const sources = [
    ...readdirSync(pkiSources)
      .sort()
      .map((name) => join(pkiSources, name)),
    fileURLToPath(new URL('../../src/server/tls-material.ts', import.meta.url)),
  ];
  for (const file of sources) hash.update(file.slice(file.lastIndexOf('/src/'))).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

export interface ClientIdentity {
  certificatePem: string;
  privateKeyPem: string;
}

/** An HTTPS client that trusts the platform's CA and, when given one, presents a client certificate. */
export function httpsClient(
  caPem: readonly string[],
  identity?: ClientIdentity,
  localAddress?: string,
): Agent {
  const agent = new Agent({
    connect: {
      ca: [...caPem],
      servername: 'localhost',
      ...(identity ? { cert: identity.certificatePem, key: identity.privateKeyPem } : {}),
    },
    ...(localAddress ? { localAddress } : {}),
  });
  after(() => agent.close());
  return agent;
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

export async function call(
  dispatcher: Dispatcher,
  url: string,
  init: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string } = {},
): Promise<JsonResponse> {
  const response = await request(url, {
    dispatcher,
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
  });
  const text = await response.body.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the caller reads `text`.
  }
  return { status: response.statusCode, headers: response.headers, body, text };
}

export interface LogLine {
  level: number;
  msg?: string;
  interactionId?: string;
  [key: string]: unknown;
}

/** A log destination that keeps every line, parsed, for a test to read. */
export function logCapture(): DestinationStream & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line) as LogLine);
    },
  };
}

/** pino's level number for `error`. */
export const ERROR_LEVEL = 50;
