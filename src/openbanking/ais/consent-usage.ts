import type { FastifyBaseLogger } from 'fastify';
import { recordUse, type ConsentContext } from '../../consent/index.ts';

/**
 * "Last used" of a consent for the PSU's dashboard, without a database write per API call: at most one
 * `recordUse` per intent per interval (a minute by default), fired and forgotten — a failure is logged and
 * never fails the TPP's request. Per instance: with N instances an intent is written at most N times a
 * minute, which the dashboard's minute resolution does not notice.
 */
export interface ConsentUsage {
  touch(intentId: string, log: FastifyBaseLogger): void;
  /** Resolves when every write started so far has settled (tests, shutdown). */
  settled(): Promise<void>;
}

export function consentUsage(
  ctx: ConsentContext,
  options: { intervalMs?: number; maxTracked?: number } = {},
): ConsentUsage {
  const intervalMs = options.intervalMs ?? 60_000;
  const maxTracked = options.maxTracked ?? 100_000;
  const lastWritten = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();
  return {
    touch(intentId, log) {
      const now = ctx.clock.epochMs();
      const last = lastWritten.get(intentId);
      if (last !== undefined && now - last < intervalMs) return;
      lastWritten.delete(intentId);
      lastWritten.set(intentId, now);
      // Insertion order is age order: drop the oldest when the map is full (it only costs an early write).
      if (lastWritten.size > maxTracked) {
        const oldest = lastWritten.keys().next().value;
        if (oldest !== undefined) lastWritten.delete(oldest);
      }
      const write = recordUse(ctx, intentId, 'account information read').then(
        () => undefined,
        (error: unknown) => {
          // Let a later call try again rather than wait out the interval.
          if (lastWritten.get(intentId) === now) lastWritten.delete(intentId);
          log.warn({ err: error, intentId }, 'could not record the consent as used');
        },
      );
      inFlight.add(write);
      void write.finally(() => inFlight.delete(write));
    },
    async settled() {
      await Promise.all([...inFlight]);
    },
  };
}
