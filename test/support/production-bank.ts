import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { loadConfig } from '../../src/server/config.ts';
import { createLogger } from '../../src/server/logger.ts';
import { selectParts } from '../../src/server/parts.ts';
import { startPlatform, type RunningPlatform } from '../../src/server/platform.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { createTestStore } from './store.ts';

export interface ProductionBank<C extends Clock = Clock> {
  platform: RunningPlatform;
  clock: C;
  /** The platform's log lines so far, parsed. */
  logs(): { level: number; msg: string }[];
}

/**
 * The parts a bank runs in production (`bank auth consent openbanking`: no sandbox directory), configured
 * by `env` as an operator would (OBKIT_SANDBOX=false and its PEM files), on a fresh test store, on free
 * loopback ports, with its logs kept. Stopped when the calling suite ends.
 */
export async function startProductionBank<C extends Clock>(
  env: Record<string, string>,
  options: { clock: C },
): Promise<ProductionBank<C>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'obkit-bank-data-'));
  const config = loadConfig({
    env: {
      OBKIT_DATA_DIR: dataDir,
      OBKIT_BROWSER_PORT: '0',
      OBKIT_MTLS_PORT: '0',
      OBKIT_OPERATOR_PORT: '0',
      OBKIT_LOG_LEVEL: 'info',
      ...env,
    },
  });
  const lines: string[] = [];
  const platform = await startPlatform({
    config,
    logger: createLogger(config, { write: (line: string) => void lines.push(line) }),
    clock: options.clock,
    parts: selectParts(['bank', 'auth', 'consent', 'openbanking']),
    store: await createTestStore(),
  });
  after(async () => {
    await platform.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    platform,
    clock: options.clock,
    logs: () => lines.map((line) => JSON.parse(line) as { level: number; msg: string }),
  };
}
