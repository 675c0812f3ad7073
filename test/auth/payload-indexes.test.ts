import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../../src/store/index.ts';
import { createTestStore } from '../support/store.ts';

/**
 * `auth_models`' two payload indexes (a client's rows, a customer's pending CIBA requests) hold only rows that
 * have the field: an assertion's `jti` record has neither, a client_credentials token no `accountId`, so the
 * token endpoint's one statement updates three index entries fewer per token (bench/README.md, Tokens,
 * session 16). The two look-ups that use them still do.
 */
describe('auth_models payload indexes', () => {
  async function rowsOf<T>(db: Queryable, query: ReturnType<typeof sql>): Promise<T[]> {
    return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
  }

  /** The plan of `query` with sequential scans priced out, so that a usable index is the plan's. */
  async function planOf(db: Queryable, query: string): Promise<string> {
    return db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      const rows = await rowsOf<Record<string, string>>(tx, sql.raw(`explain ${query}`));
      return rows.map((row) => Object.values(row)[0]).join('\n');
    });
  }

  it('hold only the rows that have the field, and serve the DCR delete and the CIBA list', async () => {
    const store = await createTestStore();
    const indexes = await rowsOf<{ indexname: string; indexdef: string }>(
      store.db,
      sql`select indexname, indexdef from pg_indexes
          where tablename = 'auth_models' and indexname in ('auth_models_client_id_idx', 'auth_models_account_id_idx')
          order by indexname`,
    );
    assert.deepEqual(
      indexes.map((index) => [
        index.indexname,
        /WHERE \(\(payload ->> '(\w+)'::text\) IS NOT NULL\)$/.exec(index.indexdef)?.[1],
      ]),
      [
        ['auth_models_account_id_idx', 'accountId'],
        ['auth_models_client_id_idx', 'clientId'],
      ],
    );
    // src/auth/dcr/store.ts `deleteRegistration`, and src/auth/ciba-bridge.ts `pending`.
    assert.match(
      await planOf(store.db, `delete from auth_models where payload ->> 'clientId' = 'client-a'`),
      /auth_models_client_id_idx/,
    );
    assert.match(
      await planOf(
        store.db,
        `select id, payload from auth_models where model = 'BackchannelAuthenticationRequest'
           and payload ->> 'accountId' = 'customer-1' and consumed_at is null and expires_at > now()`,
      ),
      /auth_models_account_id_idx/,
    );
  });
});
