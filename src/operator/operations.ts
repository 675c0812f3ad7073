import type { Clock } from '../shared/clock.ts';
import type { Store } from '../store/index.ts';
import { MiRecorder } from './mi/recorder.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics/registry.ts';

/** What one platform instance records for its operators: Prometheus metrics and OB MI. */
export interface Operations {
  metrics: OperatorMetrics;
  mi: MiRecorder;
  /** Stops the flush timer and writes what is left (the platform's onClose, before the store closes). */
  close(): Promise<void>;
}

export function startOperations(options: {
  store: Store;
  clock: Clock;
  flushIntervalMs: number;
  log: { warn(details: object, message: string): void };
}): Operations {
  const { store, clock, log } = options;
  const metrics = createOperatorMetrics({
    store,
    clock,
    onCollectError: (error) => log.warn({ err: error }, 'a metric could not be read from the database'),
  });
  const mi = new MiRecorder(store.db);
  const flush = () =>
    mi
      .flush()
      .catch((error: unknown) =>
        log.warn({ err: error }, 'MI figures could not be written; kept for the next flush'),
      );
  const timer = setInterval(() => void flush(), options.flushIntervalMs);
  timer.unref();
  return {
    metrics,
    mi,
    async close() {
      clearInterval(timer);
      await mi.flush();
    },
  };
}
