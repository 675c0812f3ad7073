import { coalescedBatches } from '../shared/coalesced-reads.ts';
import type { MaybePromise } from '../shared/maybe-promise.ts';
import type { CacheLease, Store } from '../store/index.ts';

/**
 * What keeps every instance's caches honest behind a load balancer: the store's change version (advanced
 * with every revocation's NOTIFY, in the same statement) is read at the start of each request, before
 * anything cached is consulted. Caches tag what they keep with the version current when they started
 * reading it, and serve only what carries the current one — so a revocation that returned on one instance
 * is honoured by the next request on every instance, whether or not its NOTIFY has arrived yet. While the
 * instance holds a cache lease (`src/store/cache-lease.ts`) nothing is read: every announcing writer waits
 * until this instance has heard its change, so the version heard is already current.
 *
 * On the embedded database there is one process, whose own handlers ran before the revocation returned:
 * nothing is read, and the version stays 0.
 */
export interface ChangeVersion {
  /** The highest version this instance has read. */
  current(): number;
  /**
   * Reads the store's version (one primary-key query, shared by the requests that arrive while it is being
   * read); throws when the database cannot answer. Embedded: nothing to read, so no promise.
   */
  refresh(): MaybePromise<void>;
  /** Takes a version a request read in its own statement (`src/shared/deferred-change-version.ts`). */
  observe(version: number): void;
  /** Whether requests may read the version in their own statement instead of up front (PostgreSQL only). */
  readonly deferrable: boolean;
  /** Whether a request has a version to read at all (PostgreSQL); the embedded database has none. */
  readonly readsPerRequest: boolean;
  /**
   * Whether `current()` already counts every change announced before this moment, so that a request may be
   * answered from what is cached under it without reading the store: always on the embedded database (one
   * process runs every handler before a change returns); on PostgreSQL while this instance holds a cache
   * lease (`src/store/cache-lease.ts`: every announcing writer waits until this instance heard its change).
   */
  upToDate(): boolean;
}

/**
 * The instance's change version over `store`; on PostgreSQL with `lease` (`Store.holdCacheLease`), also
 * every version the lease heard announced, and up to date while the lease is held.
 */
export function createChangeVersion(store: Store, lease?: CacheLease): ChangeVersion {
  let seen = 0;
  if (store.backend === 'pglite') {
    return {
      current: () => seen,
      refresh: () => undefined,
      observe: () => undefined,
      deferrable: false,
      readsPerRequest: false,
      upToDate: () => true,
    };
  }
  // Requests arriving together share one read, but never one that began before they arrived (it might
  // not see a revocation committed since): while a read is under way, later arrivals wait for the next.
  const read = coalescedBatches<void, void>(async (callers) => {
    const version = await store.changeVersion();
    if (version > seen) seen = version;
    return callers.map(() => undefined);
  });
  return {
    // What the lease heard is taken before it is acknowledged to the writer: caches tagged older are dropped.
    current: lease ? () => Math.max(seen, lease.heard()) : () => seen,
    observe(version) {
      if (version > seen) seen = version;
    },
    deferrable: true,
    readsPerRequest: true,
    upToDate: lease ? () => lease.held() : () => false,
    refresh: () => read(undefined),
  };
}
