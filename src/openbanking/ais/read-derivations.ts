/**
 * What an AIS read derives from its consent and its request URL alone — `Links.Self`, the accounts it
 * covers, an answer's cache key, the transaction window (the consent's `TransactionFromDateTime`/`ToDateTime`
 * narrowed by the query's date filters) — made once per consent and URL rather than on every read of a
 * polled resource (bench/README.md, AIS read path, session 16).
 *
 * Keyed by the consent object the guard's consent cache hands every request under it (the same object until
 * the consent is read again, when a new one comes: as `permissionSet`'s and `jsonOfList`'s `WeakMap`s in
 * account-information.ts), then by the request's URL (path and query). Nothing here is a trust decision: the
 * guard's checks (token, consent status and expiry, permissions, the account in the consent) still run on
 * every request before a derivation is asked for, and what is derived depends on nothing else (no clock, no
 * data), so an entry is exact for as long as it is kept. A derivation that throws (a bad query parameter) is
 * not kept: the next request is refused the same way. Each consent keeps its last `perConsent` URLs.
 */
export interface ReadDerivations<Consent extends object, T> {
  /** The derivation of `consent` and `url`, made by `make` the first time (and again once dropped). */
  of(consent: Consent, url: string, make: () => T): T;
}

export function readDerivations<Consent extends object, T>(perConsent = 64): ReadDerivations<Consent, T> {
  const byConsent = new WeakMap<Consent, Map<string, T>>();
  return {
    of(consent, url, make) {
      let byUrl = byConsent.get(consent);
      const known = byUrl?.get(url);
      if (known !== undefined) return known;
      const made = make();
      if (!byUrl) {
        byUrl = new Map();
        byConsent.set(consent, byUrl);
      }
      byUrl.set(url, made);
      // Insertion order is age order: the oldest URL goes first.
      if (byUrl.size > perConsent) byUrl.delete(byUrl.keys().next().value as string);
      return made;
    },
  };
}
