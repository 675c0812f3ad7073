/**
 * What one write costs the embedded database's thread: N `client_credentials` token statements (the
 * assertion's `jti` and the token row, through the token endpoint's own code, src/auth/assertion-replays.ts),
 * one after the other, on a PGlite store in a data folder of its own, and N payment-shaped transactions
 * (BEGIN, 10 statements, COMMIT: the idempotency row, reads and locks, inserts and updates of the
 * submission's tables' shape). Prints CPU and main-thread busy microseconds per operation (best of
 * `BENCH_ROUNDS` rounds of `BENCH_STATEMENTS`), and the WAL written per operation.
 * Run: node bench/pglite-writes.ts [token] [payment] [--settings name=value,name=value]
 *   --settings: PostgreSQL settings added to the store's start parameters (`-c name=value`), to compare
 *   settings in one command line each (A/B: run the two alternately).
 *   BENCH_PROFILE_DIR=dir: one CPU profile per operation kind (bench/support/profile-summary.ts reads it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { KoaContextWithOIDC } from 'oidc-provider';
// oidc-provider keeps the request's context in its own AsyncLocalStorage (`Provider.ctx`); no exports map.
import als from 'oidc-provider/lib/helpers/als.js';
import { createAssertionReplays } from '../src/auth/assertion-replays.ts';
import { systemClock } from '../src/shared/clock.ts';
import { EMBEDDED_START_PARAMS, openStore, type Store } from '../src/store/database.ts';
import { mainThreadWindow } from './support/main-thread.ts';

const statements = Number(process.env.BENCH_STATEMENTS ?? '1000');
const rounds = Number(process.env.BENCH_ROUNDS ?? '3');
const settingsArgument = process.argv.indexOf('--settings');
const settings =
  settingsArgument > 0 ? (process.argv[settingsArgument + 1] ?? '').split(',').filter(Boolean) : [];
const kinds = ['token', 'payment'].filter((kind) => process.argv.includes(kind));

const dir = await mkdtemp(join(tmpdir(), 'obkit-pglite-writes-'));
const client = new PGlite(join(dir, 'pglite'), {
  startParams: [...EMBEDDED_START_PARAMS, ...settings.flatMap((setting) => ['-c', setting])],
});
const store = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
await store.migrate();

let sequence = 0;
function fresh(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}-${Math.random().toString(36).slice(2)}`;
}

/** One token request's statement, as the token endpoint makes it (its context, held `jti`, token save). */
function tokenOperation(store: Store): () => Promise<void> {
  const replays = createAssertionReplays(store.asyncCommitDb, systemClock);
  return async () => {
    const ctx = {
      oidc: { route: 'token', params: { grant_type: 'client_credentials' } },
    } as unknown as KoaContextWithOIDC;
    const now = Date.now();
    const jti = fresh('jti');
    await als.run(ctx, () =>
      replays.recordHeldAssertions(ctx, async () => {
        await replays.record({
          model: 'ReplayDetection',
          id: jti,
          payload: { iat: now / 1000, exp: now / 1000 + 300, iss: 'client-a', kind: 'ReplayDetection', jti },
          expiresAt: new Date(now + 300_000),
        });
        const id = fresh('token');
        const saved = await replays.saveWithHeldRecord({
          model: 'ClientCredentials',
          id,
          payload: {
            iat: now / 1000,
            exp: now / 1000 + 900,
            scope: 'accounts',
            kind: 'ClientCredentials',
            jti: id,
            clientId: 'client-a',
            'x5t#S256': 'iPQ1LepNikzwc0n3TR3dix4xTJSLsKOAk276Lc1dNhY',
          },
          expiresAt: new Date(now + 900_000),
        });
        if (!saved) throw new Error('token not saved with its held jti');
      }),
    );
  };
}

/**
 * A payment-shaped transaction: 10 statements between BEGIN and COMMIT on tables of the submission's shape
 * (a key row, two account rows locked and updated, an entry, two postings, a payment row, an event row),
 * so the WAL, heap and index work per commit is of that size, without the platform around it.
 */
async function paymentOperation(store: Store): Promise<() => Promise<void>> {
  await store.db
    .execute(sql`create table if not exists bw_accounts (id text primary key, balance bigint not null,
    last_at timestamptz)`);
  await store.db.execute(sql`create table if not exists bw_keys (key text primary key, hash text not null,
    response jsonb, created_at timestamptz not null default now())`);
  await store.db
    .execute(sql`create table if not exists bw_entries (id bigserial primary key, origin text unique,
    details jsonb not null, created_at timestamptz not null default now())`);
  await store.db
    .execute(sql`create table if not exists bw_postings (id bigserial primary key, entry_id bigint not null,
    account_id text not null, amount bigint not null, balance bigint, booked_at timestamptz not null default now())`);
  await store.db.execute(
    sql`create index if not exists bw_postings_account on bw_postings (account_id, booked_at)`,
  );
  await store.db
    .execute(sql`create table if not exists bw_payments (id text primary key, consent_id text not null,
    status text not null, body jsonb not null, created_at timestamptz not null default now())`);
  await store.db
    .execute(sql`create table if not exists bw_events (id bigserial primary key, subject text not null,
    kind text not null, body jsonb not null, created_at timestamptz not null default now())`);
  await store.db.execute(sql`insert into bw_accounts values ('payer', 1000000000, null), ('payee', 0, null)
    on conflict do nothing`);
  const body = { Data: { Initiation: { InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } }, Risk: {} };
  return async () => {
    const key = fresh('key');
    const payment = fresh('payment');
    await store.db.transaction(async (tx) => {
      await tx.execute(sql`select id, balance from bw_accounts where id = ${'payer'}`);
      await tx.execute(sql`select id from bw_payments where id = ${payment}`);
      await tx.execute(
        sql`select id, balance, last_at from bw_accounts where id in (${'payer'}, ${'payee'}) order by id for update`,
      );
      const { rows } = (await tx.execute(
        sql`insert into bw_entries (origin, details) values (${payment}, ${JSON.stringify(body)}::jsonb) returning id`,
      )) as unknown as { rows: { id: string }[] };
      const [entry] = rows;
      await tx.execute(sql`insert into bw_postings (entry_id, account_id, amount, balance)
        values (${entry!.id}, ${'payer'}, -100, 0), (${entry!.id}, ${'payee'}, 100, 0)`);
      await tx.execute(sql`update bw_accounts set balance = balance + v.amount, last_at = now()
        from (values (${'payer'}, -100), (${'payee'}, 100)) as v (id, amount) where bw_accounts.id = v.id`);
      await tx.execute(sql`insert into bw_payments (id, consent_id, status, body)
        values (${payment}, ${fresh('consent')}, 'AcceptedSettlementCompleted', ${JSON.stringify(body)}::jsonb)`);
      await tx.execute(
        sql`insert into bw_events (subject, kind, body) values (${payment}, 'payment', ${JSON.stringify(body)}::jsonb)`,
      );
      await tx.execute(sql`select count(*) from bw_events where subject = ${payment}`);
      await tx.execute(
        sql`insert into bw_keys (key, hash, response) values (${key}, 'h', ${JSON.stringify(body)}::jsonb)`,
      );
    });
  };
}

/** WAL written so far: bytes (the insert position) and full-page images (`pg_stat_wal`). */
async function walSoFar(): Promise<{ bytes: bigint; fpi: number }> {
  const [row] = (
    await client.query<{ lsn: string; fpi: string }>(
      `select pg_current_wal_insert_lsn()::text as lsn, (select wal_fpi from pg_stat_wal)::text as fpi`,
    )
  ).rows;
  const [high, low] = row!.lsn.split('/').map((part) => BigInt(`0x${part}`));
  return { bytes: (high! << 32n) + low!, fpi: Number(row!.fpi) };
}

try {
  console.log(`settings: ${settings.length ? settings.join(' ') : '(the store’s own)'}`);
  for (const kind of kinds) {
    const run = kind === 'token' ? tokenOperation(store) : await paymentOperation(store);
    for (let i = 0; i < 200; i++) await run(); // warm up
    let best = { busy: Infinity, cpu: Infinity, wal: 0, fpi: 0 };
    for (let round = 0; round < rounds; round++) {
      const wal = await walSoFar();
      const window = await mainThreadWindow(`pglite-writes-${kind}`);
      for (let i = 0; i < statements; i++) await run();
      const spent = await window.stop(statements);
      const after = await walSoFar();
      const walPer = Number(after.bytes - wal.bytes) / statements;
      const fpiPer = (after.fpi - wal.fpi) / statements;
      if (spent.cpu < best.cpu) best = { busy: spent.busy, cpu: spent.cpu, wal: walPer, fpi: fpiPer };
    }
    console.log(
      `${kind.padEnd(8)} cpu ${(best.cpu * 1000).toFixed(1).padStart(7)} µs  busy ${(best.busy * 1000).toFixed(1).padStart(7)} µs  WAL ${best.wal.toFixed(0).padStart(6)} B, ${best.fpi.toFixed(3)} full-page images per operation`,
    );
  }
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
