/**
 * Answers as they were last sent, serialised, so that a TPP reading the same resource again (what AIS
 * polling is) costs one primary-key read of the accounts' row versions instead of the query, the mapping
 * and the serialisation: transaction pages under the accounts' ledger version, `/accounts` and
 * `/accounts/{AccountId}` under the account rows' version (both the rows' `xmin`, bank/ais-queries.ts,
 * read on every request). An entry is served only while that version is the one it was made under: a
 * write on any instance is seen by the next read on every instance. The version an entry is kept under is
 * never newer than its data (read before the data, or in the data's own statement) — at worst an older
 * version that no request will match again. On PostgreSQL an `/accounts` answer carries the store's change
 * version too, that of the last statement it was made or found by (the same snapshot as the row versions),
 * and is sent without a statement while this instance has heard every change (account-information.ts).
 * Bounded by its total size (keys and answers); the least recently made entries go first.
 */
export interface SerialisedAnswerCache {
  /**
   * The answer kept under `key` if it was made under `version` (one made under another is dropped). Found by
   * a statement that saw `changeVersion`: kept under that change version from now on.
   */
  get(key: string, version: string, changeVersion?: number): string | undefined;
  /** The answer kept under `key` if the last statement it was made or found by saw `changeVersion`. */
  getByChangeVersion(key: string, changeVersion: number): string | undefined;
  set(key: string, version: string, json: string, changeVersion?: number): void;
}

export function serialisedAnswerCache(maxChars = 16 * 1024 * 1024): SerialisedAnswerCache {
  const entries = new Map<string, { version: string; json: string; changeVersion: number | undefined }>();
  let size = 0;
  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    size -= key.length + entry.json.length;
  };
  return {
    get(key, version, changeVersion) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.version === version) {
        entry.changeVersion = changeVersion;
        return entry.json;
      }
      remove(key);
      return undefined;
    },
    getByChangeVersion(key, changeVersion) {
      const entry = entries.get(key);
      return entry?.changeVersion === changeVersion ? entry.json : undefined;
    },
    set(key, version, json, changeVersion) {
      if (key.length + json.length > maxChars) return;
      remove(key);
      entries.set(key, { version, json, changeVersion });
      size += key.length + json.length;
      for (const oldest of entries.keys()) {
        if (size <= maxChars) break;
        remove(oldest);
      }
    },
  };
}
