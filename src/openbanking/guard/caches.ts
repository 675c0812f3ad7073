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

/**
 * Keys of a cache by something their values share (a token's consent, a token's client), so that dropping
 * a group touches its own entries only: a scan of every entry, as before, grew with what the last TTL
 * brought — 15 µs at 1,000 tokens, 164–177 µs at 10,000 (session 18) — on every payment submission.
 */
interface Grouping<T> {
  of: (value: T) => string | undefined;
  keys: Map<string, Set<string>>;
}

class TtlCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #options: CacheOptions;
  readonly #groupings: Grouping<T>[];
  constructor(options: CacheOptions, groupBy: readonly ((value: T) => string | undefined)[] = []) {
    this.#options = options;
    this.#groupings = groupBy.map((of) => ({ of, keys: new Map() }));
  }

  get(key: string): Entry<T> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.#options.clock.epochMs() || entry.version !== this.version()) {
      this.delete(key);
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
    this.delete(key);
    this.#entries.set(key, { value, version, until: Math.min(until ?? Infinity, now + this.#options.ttlMs) });
    if (value !== undefined) {
      for (const grouping of this.#groupings) {
        const group = grouping.of(value);
        if (group === undefined) continue;
        const keys = grouping.keys.get(group);
        if (keys) keys.add(key);
        else grouping.keys.set(group, new Set([key]));
      }
    }
    // Insertion order is age order and no entry outlives `ttlMs` from its `set`: the expired ones at the
    // front go as new ones come, so the cache holds what the last `ttlMs` brought, not every token and
    // consent the instance ever saw (a token used once is never asked again, so `get` never drops it). Kept
    // to `maxEntries` alone, a long-running instance held up to 50,000 tokens (~55 MB) (session 18,
    // bench/README.md).
    for (const [oldest, entry] of this.#entries) {
      if (entry.until > now) break;
      this.delete(oldest);
    }
    if (this.#entries.size > this.#options.maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.delete(oldest);
    }
  }

  /** Every removal passes here, so the groupings never name a key that is gone. */
  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    if (entry.value === undefined) return;
    for (const grouping of this.#groupings) {
      const group = grouping.of(entry.value);
      if (group === undefined) continue;
      const keys = grouping.keys.get(group);
      keys?.delete(key);
      if (keys?.size === 0) grouping.keys.delete(group);
    }
  }

  /** Drops every entry whose value is in `group` of the `index`th grouping given to the constructor. */
  deleteGroup(index: number, group: string): void {
    const keys = this.#groupings[index]?.keys.get(group);
    if (!keys) return;
    for (const key of [...keys]) this.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    for (const grouping of this.#groupings) grouping.keys.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How many groups each grouping holds (every one non-empty): what the index keeps beside the entries. */
  groups(): number[] {
    return this.#groupings.map((grouping) => grouping.keys.size);
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
  /**
   * How many entries each cache holds now, live or not yet dropped: what an instance keeps as it runs;
   * `tokenGroups`, the consents and clients the tokens are indexed by.
   */
  held(): { tokens: number; intents: number; tokenGroups: number };
}

export function createGuardCaches(
  inner: { tokens: TokenSource; intents: IntentSource },
  options: CacheOptions,
): GuardCaches {
  // Grouped by consent and by client: what `forgetIntent` and `forgetTokens` drop.
  const BY_INTENT = 0;
  const BY_CLIENT = 1;
  const tokens = new TtlCache<AccessTokenView>(options, [
    (token) => token.intentId,
    (token) => token.clientId,
  ]);
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
      tokens.deleteGroup(BY_INTENT, intentId);
    },
    forgetTokens(revocation) {
      if ('token' in revocation) tokens.delete(revocation.token);
      else tokens.deleteGroup(BY_CLIENT, revocation.clientId);
    },
    clear() {
      tokens.clear();
      intents.clear();
    },
    held() {
      const [byIntent = 0, byClient = 0] = tokens.groups();
      return { tokens: tokens.size, intents: intents.size, tokenGroups: byIntent + byClient };
    },
  };
}
