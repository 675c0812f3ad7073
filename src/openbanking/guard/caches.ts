import type { Intent } from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { thenOrNow } from '../../shared/maybe-promise.ts';
import type { AccessTokenView, IntentSource, TokenRevocation, TokenSource } from './types.ts';

/**
 * The API hot path must not hit the database for every request: token and consent look-ups are cached
 * here for a short time. A revocation drops the entries at once — locally through `forgetIntent`, and on
 * every other instance through the PostgreSQL NOTIFY the server subscribes to — so the TTL only bounds
 * how long a change we were not told of (e.g. a token's own expiry, which is also checked) can linger.
 * Behind a load balancer the NOTIFY may arrive after the next request: `version` (the store's change
 * version, read at the start of each request) makes every entry read under an older version a miss.
 */
export interface CacheOptions {
  clock: Clock;
  ttlMs: number;
  maxEntries: number;
  /** The store's change version this instance last read; entries kept under another are not served. */
  version?: () => number;
}

interface Entry<T> {
  value: T | undefined;
  until: number;
  /** The change version current when the value was read (before the read, so never newer than it). */
  version: number;
}

class TtlCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #options: CacheOptions;
  constructor(options: CacheOptions) {
    this.#options = options;
  }

  get(key: string): Entry<T> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.#options.clock.epochMs() || entry.version !== this.version()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The current change version: take it before reading what `set` will keep. */
  version(): number {
    return this.#options.version?.() ?? 0;
  }

  set(key: string, value: T | undefined, version: number, until?: number): void {
    const now = this.#options.clock.epochMs();
    this.#entries.delete(key);
    this.#entries.set(key, { value, version, until: Math.min(until ?? Infinity, now + this.#options.ttlMs) });
    // Insertion order is age order and no entry outlives `ttlMs` from its `set`: the expired ones at the
    // front go as new ones come, so the cache holds what the last `ttlMs` brought, not every token and
    // consent the instance ever saw (a token used once is never asked again, so `get` never drops it). Kept
    // to `maxEntries` alone, a long-running instance held up to 50,000 tokens (~55 MB), which `deleteWhere`
    // — run by every payment submission and every revocation — scanned (session 18, bench/README.md).
    for (const [oldest, entry] of this.#entries) {
      if (entry.until > now) break;
      this.#entries.delete(oldest);
    }
    if (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  deleteWhere(predicate: (value: T | undefined) => boolean): void {
    for (const [key, entry] of this.#entries) if (predicate(entry.value)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}

export interface GuardCaches {
  tokens: TokenSource;
  intents: IntentSource;
  /** Drops the intent and every token resting on it (a revocation, a status change). */
  forgetIntent(intentId: string): void;
  /** Drops one token (RFC 7009 revocation), or every token of a client (registration deleted). */
  forgetTokens(revocation: TokenRevocation): void;
  clear(): void;
  /** How many entries each cache holds now, live or not yet dropped: what an instance keeps as it runs. */
  held(): { tokens: number; intents: number };
}

export function createGuardCaches(
  inner: { tokens: TokenSource; intents: IntentSource },
  options: CacheOptions,
): GuardCaches {
  const tokens = new TtlCache<AccessTokenView>(options);
  const intents = new TtlCache<Intent>(options);
  return {
    // A hit is answered at once, not through an async function's promise (types.ts, `MaybePromise`).
    tokens: {
      find(token) {
        const hit = tokens.get(token);
        if (hit) return hit.value;
        const version = tokens.version();
        return thenOrNow(inner.tokens.find(token), (found) => {
          // An unknown token is remembered briefly too, so a flood of bad tokens does not reach the database.
          tokens.set(token, found, version, found?.expiresAt.getTime());
          return found;
        });
      },
    },
    intents: {
      find(intentId) {
        const hit = intents.get(intentId);
        if (hit) return hit.value;
        const version = intents.version();
        return thenOrNow(inner.intents.find(intentId), (found) => {
          intents.set(intentId, found, version);
          return found;
        });
      },
    },
    forgetIntent(intentId) {
      intents.delete(intentId);
      tokens.deleteWhere((token) => token?.intentId === intentId);
    },
    forgetTokens(revocation) {
      if ('token' in revocation) tokens.delete(revocation.token);
      else tokens.deleteWhere((token) => token?.clientId === revocation.clientId);
    },
    clear() {
      tokens.clear();
      intents.clear();
    },
    held() {
      return { tokens: tokens.size, intents: intents.size };
    },
  };
}
