import type { AdapterPayload } from 'oidc-provider';
import type { Clock } from '../shared/clock.ts';
import type { Store } from '../store/index.ts';

/**
 * Registered clients' stored metadata, kept in memory so that a token request does not read the client's
 * row every time (oidc-provider keeps the built client per metadata hash, but asks the adapter first).
 *
 * What keeps it honest: a registration changed or deleted through DCR is forgotten here at once and
 * announced (`store.notify`, which advances the store's change version in the same statement); every
 * entry is tagged with the change version current when its read began, and served only while that is
 * still the version this instance last read — read at the start of each request on PostgreSQL — so a
 * change made on another instance is honoured by the next request here. A TTL bounds anything else.
 */
export interface ClientCache {
  /**
   * The stored metadata of `clientId`, from memory or from `load` (a miss is never kept): while an entry is
   * served, the one object it keeps (the provider keeps what it builds from a registration by it), which
   * no caller may change.
   */
  find(
    clientId: string,
    load: () => Promise<AdapterPayload | undefined>,
  ): Promise<AdapterPayload | undefined>;
  /** The client's registration changed or went: forget it here and tell every other instance. */
  changed(clientId: string): Promise<void>;
}

/** The NOTIFY channel of a changed registration; the payload is the client id. */
export const CLIENT_CHANGED_CHANNEL = 'auth_client_changed';

interface Entry {
  payload: AdapterPayload;
  version: number;
  until: number;
}

export function createClientCache(options: {
  store: Store;
  clock: Clock;
  /** The store's change version this instance last read. */
  version: () => number;
  ttlMs?: number;
  maxEntries?: number;
}): ClientCache {
  const { store, clock, version } = options;
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 20_000;
  const entries = new Map<string, Entry>();
  /** Bumped by every local change: a read under way when its client changed keeps nothing. */
  let generation = 0;
  return {
    async find(clientId, load) {
      const now = clock.now().getTime();
      const entry = entries.get(clientId);
      if (entry && entry.until > now && entry.version === version()) return entry.payload;
      if (entry) entries.delete(clientId);
      const readUnder = version();
      const readGeneration = generation;
      const payload = await load();
      if (payload && readGeneration === generation) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value ?? '');
        entries.set(clientId, { payload, version: readUnder, until: now + ttlMs });
      }
      return payload;
    },
    async changed(clientId) {
      generation += 1;
      entries.delete(clientId);
      await store.notify(CLIENT_CHANGED_CHANNEL, clientId);
    },
  };
}
