import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { DestinationStream } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { loadConfig, type Config } from '../../src/server/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { startPlatform, type Part, type RunningPlatform } from '../../src/server/platform.ts';
import { ManualClock, systemClock, type Clock } from '../../src/shared/clock.ts';
import type { Store } from '../../src/store/index.ts';
import { createTestStore } from './store.ts';

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
