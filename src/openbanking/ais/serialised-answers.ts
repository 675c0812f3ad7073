/**
 * Answers as they were last sent, serialised, so that a TPP reading the same resource again (what AIS
 * polling is) costs one primary-key read of the accounts' row versions instead of the query, the mapping
 * and the serialisation: transaction pages under the accounts' ledger version, `/accounts` and
 * `/accounts/{AccountId}` under the account rows' version (both the rows' `xmin`, bank/ais-queries.ts,
 * read on every request). An entry is served only while that version is the one it was made under: a
 * write on any instance is seen by the next read on every instance. The version an entry is kept under is
 * never newer than its data (read before the data, or in the data's own statement) — at worst an older
 * version that no request will match again. On PostgreSQL `/accounts` answers are also kept under the
 * store's change version of the statement they were made from, and sent without a statement while this
 * instance has heard every change (account-information.ts). Bounded by its total size (keys and answers);
 * the least recently made entries go first.
 */
export interface SerialisedAnswerCache {
  get(key: string, version: string): string | undefined;
  set(key: string, version: string, json: string): void;
}

export function serialisedAnswerCache(maxChars = 16 * 1024 * 1024): SerialisedAnswerCache {
  const entries = new Map<string, { version: string; json: string }>();
  let size = 0;
  const remove = (key: string): void => {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    size -= key.length + entry.json.length;
  };
  return {
    get(key, version) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.version === version) return entry.json;
      remove(key);
      return undefined;
    },
    set(key, version, json) {
      if (key.length + json.length > maxChars) return;
      remove(key);
      entries.set(key, { version, json });
      size += key.length + json.length;
      for (const oldest of entries.keys()) {
        if (size <= maxChars) break;
        remove(oldest);
      }
    },
  };
}
