import type { Clock } from '../shared/clock.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { startPlatform, type Part, type RunningPlatform } from './platform.ts';

/**
 * Runs the platform until SIGINT/SIGTERM, then shuts down gracefully: in-flight requests finish, the
 * store closes, the process exits 0. A second signal, or a shutdown that overruns its timeout, exits 1.
 */
export async function runUntilSignal(options: {
  config: Config;
  logger: Logger;
  clock: Clock;
  parts: readonly Part[];
  onReady(platform: RunningPlatform): void;
}): Promise<void> {
  const platform = await startPlatform(options);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      options.logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    options.logger.info({ signal }, 'shutting down');
    const overrun = setTimeout(() => {
      options.logger.error('shutdown overran its timeout');
      process.exit(1);
    }, options.config.shutdownTimeoutMs + 5_000);
    overrun.unref();
    platform.close().then(
      () => {
        options.logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        options.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Announced only once the handlers are in place: whoever waits for "ready" may signal at once.
  options.onReady(platform);
}
