import { CONSENT_REVOKED_CHANNEL, type RevocationNotifier } from '../consent/index.ts';
import type { Store } from '../store/index.ts';

/**
 * One place where a consent revocation fans out. `publish` runs this instance's handlers before it
 * returns (so the answer to the PSU or TPP who revoked already holds everywhere here), then NOTIFYs
 * every other instance through PostgreSQL, whose handlers run when the notification arrives. Handlers
 * are idempotent: an instance also hears its own notification.
 */
export interface Revocations {
  publish: RevocationNotifier;
  subscribe(handler: (intentId: string) => void | Promise<void>): void;
}

export async function createRevocations(
  store: Store,
  onError: (error: unknown) => void,
): Promise<Revocations> {
  const handlers: ((intentId: string) => void | Promise<void>)[] = [];
  const runAll = async (intentId: string): Promise<void> => {
    for (const handler of handlers) {
      try {
        await handler(intentId);
      } catch (error) {
        onError(error);
      }
    }
  };
  await store.listen(CONSENT_REVOKED_CHANNEL, (intentId) => void runAll(intentId));
  return {
    async publish(intentId) {
      await runAll(intentId);
      await store.notify(CONSENT_REVOKED_CHANNEL, intentId);
    },
    subscribe(handler) {
      handlers.push(handler);
    },
  };
}
