/**
 * Pages of transactions as they were last answered, serialised, so that a TPP reading the same page again
 * (what AIS polling is) costs one primary-key read instead of the ledger query, the mapping and the
 * serialisation. An entry is served only while the accounts' ledger version (bank/ais-queries.ts
 * `ledgerVersionsOf`, read on every request) is the one it was made under: a posting or a status change on
 * any instance is seen by the next read on every instance. The version is read before the page, so an entry
 * is never newer data under an older version — at worst an older version that no request will match again.
 * Bounded by its total size; the least recently made entries go first.
 */
export interface TransactionPageCache {
  get(key: string, ledgerVersion: string): string | undefined;
  set(key: string, ledgerVersion: string, json: string): void;
}

export function transactionPageCache(maxChars = 16 * 1024 * 1024): TransactionPageCache {
  const entries = new Map<string, { ledgerVersion: string; json: string }>();
  let size = 0;
  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    size -= entry.json.length;
  };
  return {
    get(key, ledgerVersion) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.ledgerVersion === ledgerVersion) return entry.json;
      remove(key);
      return undefined;
    },
    set(key, ledgerVersion, json) {
      if (json.length > maxChars) return;
      remove(key);
      entries.set(key, { ledgerVersion, json });
      size += json.length;
      for (const oldest of entries.keys()) {
        if (size <= maxChars) break;
        remove(oldest);
      }
    },
  };
}
