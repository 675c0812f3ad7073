/**
 * A store of its own for one benchmark run: PGlite in a temporary folder, or a new PostgreSQL database
 * (DATABASE_URL, or the local test server) created for the run and dropped after it, so that runs on the
 * same server never share rows.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Backend, type Store } from '../../src/store/index.ts';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchStore {
  store: Store;
  /** The store's connection string (PostgreSQL) or data folder (PGlite), for instances started apart. */
  location: string;
  drop(): Promise<void>;
}

export async function openBenchStore(backend: Backend, dataDir: string): Promise<BenchStore> {
  if (backend === 'pglite') {
    const folder = join(dataDir, 'pglite');
    const store = await openStore({ backend: 'pglite', dataDir: folder });
    await store.migrate();
    return { store, location: folder, drop: () => store.close() };
  }
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  const name = `obkit_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(url, `create database "${name}"`);
  const target = new URL(url);
  target.pathname = `/${name}`;
  const store = await openStore({ backend: 'postgres', url: target.toString(), poolSize: 20 });
  await store.migrate();
  return {
    store,
    location: target.toString(),
    async drop() {
      await store.close();
      await adminQuery(url, `drop database if exists "${name}" with (force)`);
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
