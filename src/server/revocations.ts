import {
  CONSENT_CHANGED_CHANNEL,
  CONSENT_REVOKED_CHANNEL,
  type ConsentChangeNotifier,
  type RevocationNotifier,
} from '../consent/index.ts';
import { participantStatusChannel } from '../directory/index.ts';
import type { TokenRevocation } from '../openbanking/index.ts';
import { readParticipantStatusChange, type ParticipantStatusChange } from '../shared/participant-status.ts';
import type { Store } from '../store/index.ts';

/** NOTIFY channel of access tokens revoked before their expiry, as JSON `TokenRevocation`. */
export const TOKENS_REVOKED_CHANNEL = 'auth_tokens_revoked';

/**
 * One place where revocations fan out: of a consent (its intent id), of a consent's accounts (a change that
 * revokes no token), of access tokens (one token by
 * RFC 7009, or every token of a client whose registration was deleted or whose participant was suspended),
 * and of participant status changes at the sandbox directory. `publish…` runs this instance's
 * handlers before it returns (so the answer to whoever revoked already holds everywhere here), then
 * NOTIFYs every other instance through PostgreSQL, whose handlers run when the notification arrives.
 * Handlers are idempotent: an instance also hears its own notification.
 */
export interface Revocations {
  publish: RevocationNotifier;
  subscribe(handler: (intentId: string) => void | Promise<void>): void;
  /** A consent changed without being revoked (an account no longer shared): caches drop it, tokens stay. */
  publishChange: ConsentChangeNotifier;
  subscribeChange(handler: (intentId: string) => void | Promise<void>): void;
  publishTokens(revocation: TokenRevocation): Promise<void>;
  subscribeTokens(handler: (revocation: TokenRevocation) => void | Promise<void>): void;
  publishParticipantStatus(change: ParticipantStatusChange): Promise<void>;
  subscribeParticipantStatus(handler: (change: ParticipantStatusChange) => void | Promise<void>): void;
}

export async function createRevocations(
  store: Store,
  onError: (error: unknown) => void,
): Promise<Revocations> {
  const consents = await fanOut<string>(store, CONSENT_REVOKED_CHANNEL, (intentId) => intentId, onError);
  const changes = await fanOut<string>(store, CONSENT_CHANGED_CHANNEL, (intentId) => intentId, onError);
  const tokens = await fanOut<TokenRevocation>(store, TOKENS_REVOKED_CHANNEL, readTokenRevocation, onError);
  const statuses = await fanOut<ParticipantStatusChange>(
    store,
    participantStatusChannel,
    readParticipantStatusChange,
    onError,
  );
  return {
    publish: async (intentId) => consents.publish(intentId, intentId),
    subscribe: consents.subscribe,
    publishChange: async (intentId) => changes.publish(intentId, intentId),
    subscribeChange: changes.subscribe,
    publishTokens: async (revocation) => tokens.publish(revocation, JSON.stringify(revocation)),
    subscribeTokens: tokens.subscribe,
    publishParticipantStatus: async (change) => statuses.publish(change, JSON.stringify(change)),
    subscribeParticipantStatus: statuses.subscribe,
  };
}

async function fanOut<T>(
  store: Store,
  channel: string,
  read: (payload: string) => T | undefined,
  onError: (error: unknown) => void,
) {
  const handlers: ((value: T) => void | Promise<void>)[] = [];
  // Every handler starts at once, synchronously: the API's cache drop (synchronous) must not wait behind
  // the authorization server's token deletion (a database round trip), or a request arriving on this
  // instance just after the notification would still be served from the cache.
  const runAll = async (value: T): Promise<void> => {
    const pending: Promise<void>[] = [];
    for (const handler of handlers) {
      try {
        const running = handler(value);
        if (running) pending.push(running.catch(onError));
      } catch (error) {
        onError(error);
      }
    }
    await Promise.all(pending);
  };
  await store.listen(channel, (payload) => {
    const value = read(payload);
    if (value !== undefined) void runAll(value);
  });
  return {
    async publish(value: T, payload: string): Promise<void> {
      await runAll(value);
      await store.notify(channel, payload);
    },
    subscribe(handler: (value: T) => void | Promise<void>): void {
      handlers.push(handler);
    },
  };
}

function readTokenRevocation(payload: string): TokenRevocation | undefined {
  try {
    const value = JSON.parse(payload) as { token?: unknown; clientId?: unknown };
    if (typeof value.token === 'string') return { token: value.token };
    if (typeof value.clientId === 'string') return { clientId: value.clientId };
  } catch {
    return undefined;
  }
  return undefined;
}
