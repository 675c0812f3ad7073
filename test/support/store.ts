import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrationsFolder, openStore, type Store } from '../../src/store/index.ts';

/**
 * A fresh, migrated store for one test: a clone of a migrated PGlite template (creating PGlite takes
 * seconds, a clone a fraction of that), or, when DATABASE_URL is set, a new database on that server copied
 * from a migrated template database (see `migratedPostgresTemplate`), dropped when the test file ends. The
 * same tests thus run on both backends.
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
  const url = await createTestDatabase(baseUrl, await migratedPostgresTemplate(baseUrl));
  const store = await openStore({ backend: 'postgres', url, poolSize: 20 });
  // The copy is at the latest migration already: this only reads drizzle's journal, and proves it.
  await store.migrate();
  after(() => store.close());
  return store;
}

/** One advisory lock (on the server's base database) for creating templates, across test processes. */
const TEMPLATE_LOCK_ID = 7_214_042_611;

let postgresTemplate: Promise<string> | undefined;

/**
 * The name of a database on the server of `baseUrl` holding every migration, to copy test databases from
 * (CREATE DATABASE … TEMPLATE copies files, which is faster than running the migrations in each new
 * database). It is named by a hash of the migration files, so a changed or added migration makes a new
 * one, and it is kept for later test processes and runs: the first process creates it under an advisory
 * lock, migrating a database of its own and renaming it into place, so nobody copies a half-migrated one.
 * Nobody connects to it (a copy needs its template without connections). Left on the server on purpose,
 * one per migration set: `drop database "obkit_test_template_…"` reclaims them.
 */
async function migratedPostgresTemplate(baseUrl: string): Promise<string> {
  postgresTemplate ??= (async () => {
    const name = `obkit_test_template_${await migrationsHash()}`;
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    try {
      await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK_ID]);
      const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (exists.rowCount === 0) {
        const building = `${name}_${randomBytes(4).toString('hex')}`;
        await admin.query(`create database "${building}"`);
        try {
          const url = new URL(baseUrl);
          url.pathname = `/${building}`;
          const store = await openStore({ backend: 'postgres', url: url.toString(), poolSize: 1 });
          try {
            await store.migrate();
          } finally {
            await store.close();
          }
          await admin.query(`alter database "${building}" rename to "${name}"`);
        } catch (error) {
          await admin.query(`drop database if exists "${building}" with (force)`);
          throw error;
        }
      }
    } finally {
      await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK_ID]).catch(() => undefined);
      await admin.end();
    }
    return name;
  })();
  return postgresTemplate;
}

/** The first 16 hex digits of a SHA-256 over every migration file's path and content. */
async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(migrationsFolder, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) {
    hash.update(relative(migrationsFolder, file)).update('\0');
    hash.update(await readFile(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * A new database on the server of `baseUrl`, dropped when the calling test or suite ends: empty, or a copy
 * of `template`. Empty ones are for processes a test spawns, which must not share the test run's database.
 */
export async function createTestDatabase(baseUrl: string, template?: string): Promise<string> {
  const name = `obkit_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database "${name}"${template ? ` template "${template}"` : ''}`);
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
