import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrationsFolder, openStore, type Store } from '../../src/store/index.ts';

/**
 * A fresh, migrated store for one test: a PGlite database loaded from a migrated one's files (see
 * `migratedPgliteTemplate`), or, when DATABASE_URL is set, a new database on that server copied
 * from a migrated template database (see `migratedPostgresTemplate`), dropped when the test file ends. The
 * same tests thus run on both backends.
 */
export async function createTestStore(): Promise<Store> {
  const url = process.env.DATABASE_URL;
  return url ? createPostgresStore(url) : createPgliteStore();
}

let pgliteTemplate: Promise<Blob> | undefined;

/**
 * The template's tarball as the Blob PGlite's `loadDataDir` takes, from bytes already in memory. PGlite
 * reads it with `arrayBuffer()`, which for a Blob made from a 42 MB buffer streams it back in chunks and
 * concatenates them (about 0.45 s of CPU per store); this one answers with a copy of the bytes (PGlite may
 * keep views of it in its in-memory file system, so each store gets its own).
 */
class TarballBlob extends Blob {
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    super([bytes]);
    this.#bytes = bytes;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.#bytes.slice().buffer);
  }
}

/**
 * A migrated PGlite data directory, as an uncompressed tarball each test store is loaded from. Creating a
 * PGlite database runs initdb (about 6 s of CPU) and migrating it another 0.4 s, which every test process
 * paid; loading the tarball takes about 1.4 s. So it is kept on disk for later processes and runs, under the
 * temporary directory, named by a hash of the migrations and the PGlite and drizzle versions (a changed
 * migration or upgrade makes a new one). The first process to miss it builds it; concurrent ones may each
 * build it, and each writes aside and renames into place, so a reader never sees half a file. Left in the
 * temporary directory on purpose: `rm -r "$TMPDIR"/obkit-test-pglite-*` reclaims them (and the folders
 * `seedPgliteDataDir` keeps).
 */
async function migratedPgliteTemplate(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const file = `${await pgliteTemplateName()}.tar`;
    try {
      return new TarballBlob(await readFile(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const client = new PGlite();
    const store = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
    await store.migrate();
    const tarball = new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer());
    await store.close();
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(draft, tarball);
    await rename(draft, file);
    return new TarballBlob(tarball);
  })();
  return pgliteTemplate;
}

/** Where the migrated PGlite template is kept, without extension: named by versions and migrations. */
async function pgliteTemplateName(): Promise<string> {
  const versions = `pglite-${installedVersion('@electric-sql/pglite')}-drizzle-${installedVersion('drizzle-orm')}`;
  return join(tmpdir(), `obkit-test-pglite-${versions}-${await migrationsHash()}`);
}

/** The version of an installed package, from the package.json above its entry point. */
function installedVersion(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version) return manifest.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json naming ${name} above its entry point`);
    dir = dirname(dir);
  }
}

let pgliteTemplateFolder: Promise<string> | undefined;

/**
 * Fills `folder` (a data dir's `pglite/`, which must not exist yet) with the migrated database of
 * `migratedPgliteTemplate`, as an embedded store leaves it after its first start: an obkit process started
 * on it opens a migrated database and runs neither initdb (about 6 s of CPU) nor a migration. Loading the
 * tarball into a folder starts PGlite (about 3 s of CPU), so it is done once into a folder kept beside the
 * tarball (written aside and renamed into place, like it) and each data dir gets a copy of that folder.
 */
export async function seedPgliteDataDir(folder: string): Promise<void> {
  pgliteTemplateFolder ??= (async () =>
    keptFolder(`${await pgliteTemplateName()}.d`, async (draft) => {
      const client = await PGlite.create({ dataDir: draft, loadDataDir: await migratedPgliteTemplate() });
      await client.close();
    }))();
  await cp(await pgliteTemplateFolder, folder, { recursive: true });
}

/**
 * `path`, a folder kept for later test processes and runs: made by `build` in a draft folder beside it and
 * renamed into place, so it exists only whole; concurrent first processes may each build one, and the
 * loser of the rename keeps the winner's.
 */
export async function keptFolder(path: string, build: (draft: string) => Promise<void>): Promise<string> {
  if (existsSync(path)) return path;
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await build(draft);
  try {
    await rename(draft, path);
  } catch (error) {
    // Another process renamed its own into place first: use that one.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    await rm(draft, { recursive: true, force: true });
  }
  return path;
}

async function createPgliteStore(): Promise<Store> {
  const client = await PGlite.create({ loadDataDir: await migratedPgliteTemplate() });
  const store = await openStore({ backend: 'pglite', dataDir: undefined, pglite: client });
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
