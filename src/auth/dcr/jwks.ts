import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { Agent, request } from 'undici';
import type { Clock } from '../../shared/clock.ts';
import { systemClock } from '../../shared/clock.ts';
import {
  publishedStatusOnly,
  type PublishedKey,
  type SigningKeyStatus,
} from '../../shared/signing-key-status.ts';

/**
 * JWK Sets fetched over HTTPS by URL and cached: the directory's (SSA signatures) and each software's
 * (registration request signatures). A key id not in the cached set refetches once (a rotation), no
 * more often than `refetchCooldownMs`, so a stream of bad kids cannot hammer the directory.
 */

export type JsonFetcher = (url: string) => Promise<unknown>;

export class JwksFetchError extends Error {
  override name = 'JwksFetchError';
}

/** GET over HTTPS only, with a timeout, a size limit, and optionally extra trust anchors (sandbox CA). */
export function httpsJsonFetcher(
  options: { ca?: string; timeoutMs?: number; maxBytes?: number } = {},
): JsonFetcher {
  const agent = new Agent({
    connect: { ...(options.ca ? { ca: options.ca } : {}), timeout: options.timeoutMs ?? 5000 },
    headersTimeout: options.timeoutMs ?? 5000,
    bodyTimeout: options.timeoutMs ?? 5000,
  });
  const maxBytes = options.maxBytes ?? 256 * 1024;
  return async (url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new JwksFetchError(`${url} is not a URL`);
    }
    if (parsed.protocol !== 'https:') throw new JwksFetchError(`${url} is not an https URL`);
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(parsed, {
        method: 'GET',
        dispatcher: agent,
        headers: { accept: 'application/json, application/jwk-set+json' },
      });
    } catch (error) {
      throw new JwksFetchError(
        `${url} could not be fetched: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new JwksFetchError(`${url} answered HTTP ${response.statusCode}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new JwksFetchError(`${url} sent more than ${maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new JwksFetchError(`${url} did not answer JSON`);
    }
  };
}

function asKeySet(value: unknown, url: string): JSONWebKeySet {
  if (typeof value !== 'object' || value === null || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw new JwksFetchError(`${url} did not answer a JWK Set`);
  }
  return value as JSONWebKeySet;
}

interface Entry {
  keys: JSONWebKeySet;
  fetchedAt: number;
}

export class RemoteJwksCache {
  readonly #fetch: JsonFetcher;
  readonly #clock: Clock;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<Entry>>();
  readonly #keyStatus: SigningKeyStatus;
  readonly #maxEntries: number;

  constructor(
    fetch: JsonFetcher,
    options: {
      clock?: Clock;
      maxAgeMs?: number;
      refetchCooldownMs?: number;
      /**
       * Asked about the key that verifies, every time: a cached set may still list a revoked key. Default:
       * only what the JWKS itself says.
       */
      keyStatus?: SigningKeyStatus;
      /**
       * Sets kept: one per JWKS URL a registration named (each software's own), so a bound, as the API's key
       * sets have (`remoteJwksKeyResolver`'s `maxSets`): the least recently used go first, so that a busy
       * software's set is not dropped for an idle one fetched after it.
       */
      maxEntries?: number;
    } = {},
  ) {
    this.#fetch = fetch;
    this.#keyStatus = options.keyStatus ?? publishedStatusOnly;
    this.#clock = options.clock ?? systemClock;
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.#cooldownMs = options.refetchCooldownMs ?? 30_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  async #load(url: string): Promise<Entry> {
    const running = this.#inFlight.get(url);
    if (running) return running;
    const work = (async () => {
      const entry = { keys: asKeySet(await this.#fetch(url), url), fetchedAt: this.#clock.now().getTime() };
      this.#entries.delete(url);
      this.#entries.set(url, entry);
      if (this.#entries.size > this.#maxEntries)
        this.#entries.delete(this.#entries.keys().next().value ?? '');
      return entry;
    })().finally(() => this.#inFlight.delete(url));
    this.#inFlight.set(url, work);
    return work;
  }

  /** The cached set while fresh; then fetched again, and the stale one kept when the fetch fails. */
  async #get(url: string): Promise<Entry> {
    const entry = this.#entries.get(url);
    if (entry && this.#clock.now().getTime() - entry.fetchedAt < this.#maxAgeMs) {
      // Last in the map's order, which is the order of eviction (insertion order: delete, then set).
      this.#entries.delete(url);
      this.#entries.set(url, entry);
      return entry;
    }
    try {
      return await this.#load(url);
    } catch (error) {
      if (entry && error instanceof JwksFetchError) return entry;
      throw error;
    }
  }

  /**
   * A key resolver for jose's `jwtVerify`: the cached set, refetched once when it holds no key for the
   * token's kid.
   */
  async resolver(url: string): Promise<JWTVerifyGetKey> {
    const entry = await this.#get(url);
    let local = createLocalJWKSet(entry.keys);
    let current = entry;
    return async (header, token) => {
      try {
        return await local(header, token);
      } catch (error) {
        if (
          error instanceof joseErrors.JWKSNoMatchingKey &&
          this.#clock.now().getTime() - current.fetchedAt >= this.#cooldownMs
        ) {
          current = await this.#load(url);
          local = createLocalJWKSet(current.keys);
          return local(header, token);
        }
        throw error;
      }
    };
  }

  /**
   * Why a JWS that `url`'s keys verified must still be refused: the key its `kid` names (or, without one,
   * any signing key of the set) is refused by the key status, or is no longer published at all. Asked after
   * verification, of the set as cached now, since a cached set may still list a key revoked since.
   */
  async refusalOf(url: string, kid: string | undefined): Promise<string | undefined> {
    const keys = (await this.#get(url)).keys.keys;
    const candidates = keys.filter((jwk) =>
      kid === undefined ? jwk.use === undefined || jwk.use === 'sig' : jwk.kid === kid,
    );
    if (candidates.length === 0)
      return `the signing key ${kid ?? '(no kid)'} is no longer published at ${url}`;
    for (const jwk of candidates) {
      const refusal = await this.#keyStatus.refusalOf(jwk as PublishedKey);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
}
