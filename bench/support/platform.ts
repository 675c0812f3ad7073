/**
 * The whole composed platform (every part, both listeners) on a benchmark store of its own, as `npm start`
 * runs it, with request rate limits out of the way (counted as in production, never reached).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/server/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { selectParts } from '../../src/server/parts.ts';
import { startPlatform, type RunningPlatform } from '../../src/server/platform.ts';
import { systemClock } from '../../src/shared/clock.ts';
import type { Backend, Store } from '../../src/store/index.ts';
import { openBenchStore } from './store.ts';

export interface BenchPlatform {
  platform: RunningPlatform;
  store: Store;
  config: Config;
  dataDir: string;
  /** The sandbox root CA (PEM): what a TPP trusts. */
  rootPem: string;
  /** Another instance on the same store and keys (behind a load balancer), with the given test switches. */
  startInstance(switches?: InstanceSwitches): Promise<RunningPlatform>;
  close(): Promise<void>;
}

/** What a benchmark may switch off on an instance to measure what it costs (startPlatform's test switches). */
export type InstanceSwitches = Pick<
  Parameters<typeof startPlatform>[0],
  'checkCertificateStatus' | 'readChangeVersion' | 'recordOperations'
>;

export async function startBenchPlatform(backend: Backend, name: string): Promise<BenchPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), `obkit-bench-${name}-`));
  const bench = await openBenchStore(backend, dataDir);
  const config = loadConfig({
    env: {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_BROWSER_PORT: '0',
      OBKIT_MTLS_PORT: '0',
      OBKIT_OPERATOR_PORT: '0',
      OBKIT_LOG_LEVEL: 'silent',
      // Counted as in production, but never reached: one client sends more a minute here than any TPP should.
      OBKIT_RATE_LIMIT_MTLS: '100000000',
      OBKIT_RATE_LIMIT_BROWSER: '100000000',
    },
  });
  const start = (switches: InstanceSwitches = {}) =>
    startPlatform({
      config,
      logger: createLogger(config),
      clock: systemClock,
      parts: selectParts('all'),
      store: bench.store,
      ...switches,
    });
  const instances: RunningPlatform[] = [];
  try {
    const platform = await start();
    instances.push(platform);
    const rootPem = await readFile(join(dataDir, 'pki', 'root-ca.pem'), 'utf8');
    return {
      platform,
      store: bench.store,
      config,
      dataDir,
      rootPem,
      async startInstance(switches) {
        const instance = await start(switches);
        instances.push(instance);
        return instance;
      },
      async close() {
        for (const instance of instances.reverse()) await instance.close();
        await bench.drop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const instance of instances) await instance.close();
    await bench.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
