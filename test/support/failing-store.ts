import type { Store } from '../../src/store/index.ts';

/** The query entry points of the Drizzle client: what fails while the database is "down". */
const QUERY_METHODS = new Set([
  'select',
  'selectDistinct',
  'selectDistinctOn',
  'insert',
  'update',
  'delete',
  'execute',
  'transaction',
  'query',
  'with',
  '$count',
]);

/**
 * A store whose database can be made to refuse every query, as a server that stopped answering does
 * (`ECONNREFUSED`): what parts and the platform do with a failing database, without stopping a real one.
 * Everything else (migrations, LISTEN/NOTIFY, the change version) goes to the real store.
 */
export function failingStore(store: Store): { store: Store; setFailing(failing: boolean): void } {
  let failing = false;
  const refuse = () => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432 (the test stopped the database)'), {
      code: 'ECONNREFUSED',
    });
  };
  const refusing = (database: Store['db']) =>
    new Proxy(database, {
      get(target, property, receiver) {
        if (failing && property === 'query') return new Proxy({}, { get: refuse });
        if (failing && typeof property === 'string' && QUERY_METHODS.has(property)) return refuse;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  // The embedded database's reads answered again until the next write (src/store/embedded-reads.ts) would
  // answer without touching the database: while "down", its count moves on every look, so every read is
  // sent, and refused.
  let looksWhileFailing = 0;
  const embedded = store.embedded && {
    writeCount: () => store.embedded!.writeCount() + (failing ? ++looksWhileFailing : looksWhileFailing),
    db: refusing(store.embedded.db),
  };
  // Statements prepared once (the hot AIS reads: `.prepare(name)`) hold the client itself, not the Drizzle
  // client above: its `query` refuses too while "down".
  for (const database of [store.db, store.embedded?.db]) {
    const client = (database as unknown as { $client?: { query: (...args: unknown[]) => unknown } })?.$client;
    if (!client) continue;
    const query = client.query.bind(client);
    client.query = (...args: unknown[]) => (failing ? refuse() : query(...args));
  }
  const wrapped = Object.assign(Object.create(store) as Store, {
    db: refusing(store.db),
    asyncCommitDb: refusing(store.asyncCommitDb),
    embedded,
    ping: async () => (failing ? refuse() : store.ping()),
  });
  return { store: wrapped, setFailing: (value) => (failing = value) };
}
