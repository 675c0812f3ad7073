import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.ts';

/**
 * A fresh, migrated store for one test: a clone of a migrated PGlite template (creating PGlite takes
 * seconds, a clone a fraction of that), or, when DATABASE_URL is set, a new database on that server,
 * dropped when the test file ends. The same tests thus run on both backends.
 */
export async function createTestStore(): Promise<Store> {
  const url = process.env.DATABASE_URL;
  return url ? createPostgresStore(url) : createPgliteStore();
}

let template: Promise<PGlite> | undefined;

async function migratedTemplate(): Promise<PGlite> {
  template ??= (async () => {
    const client = new PGlite();
    const store = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
    await store.migrate();
    // The template lives as long as the test process; the runner's --test-force-exit ends it.
    return client;
  })();
  return template;
}

async function createPgliteStore(): Promise<Store> {
  // clone() is typed as the interface but returns a PGlite.
  const clone = (await (await migratedTemplate()).clone()) as PGlite;
  const store = await openStore({ backend: 'pglite', dataDir: undefined, pglite: clone });
  after(() => store.close());
  return store;
}

async function createPostgresStore(baseUrl: string): Promise<Store> {
  const url = await createTestDatabase(baseUrl);
  const store = await openStore({ backend: 'postgres', url, poolSize: 20 });
  await store.migrate();
  after(() => store.close());
  return store;
}

/**
 * A new, empty database on the server of `baseUrl`, dropped when the calling test or suite ends; for
 * processes a test spawns, which must not share the test run's database.
 */
export async function createTestDatabase(baseUrl: string): Promise<string> {
  const name = `obkit_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  after(async () => {
    const dropper = new pg.Client({ connectionString: baseUrl });
    await dropper.connect();
    await dropper.query(`drop database if exists "${name}" with (force)`);
    await dropper.end();
  });
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Environment for a spawned obkit process: its own database on PostgreSQL runs, the embedded one otherwise. */
export async function isolatedDatabaseEnv(): Promise<Record<string, string>> {
  const base = process.env.DATABASE_URL;
  return base ? { DATABASE_URL: await createTestDatabase(base) } : {};
}
