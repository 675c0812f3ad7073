import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { MasterKeyError } from '../directory/index.ts';
import { CaStoreError } from '../pki/index.ts';
import { openStore, type Store } from '../store/index.ts';

/**
 * The data dir (`dataDir`): the embedded database (`pglite/`), the sandbox CA (`pki/`) and the directory's
 * master key (`directory/master.key`). With the embedded database one process owns it at a time: a lock
 * file holding its pid keeps a second process out (a lock whose pid is dead is stale and taken over).
 * A damaged or half-made database stops start-up naming the folder and the remedy, and
 * `obkit sandbox reset` removes what the sandbox made.
 */

/** A refusal a person can act on: one line, no stack trace; exit code 2 for a wrong argument, else 1. */
export class Refusal extends Error {
  override name = 'Refusal';
  readonly exitCode: 1 | 2;
  constructor(message: string, options: { exitCode?: 1 | 2; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
  }
}

/** The data dir cannot be used as it is; the message names the file and what to do. */
export class DataDirError extends Refusal {
  override name = 'DataDirError';
}

export const LOCK_FILE = 'obkit.lock';
/** What `sandbox reset` removes: everything obkit writes into a data dir, and nothing else. */
export const SANDBOX_STATE = ['pglite', 'pki', 'directory'] as const;
export const RESET_COMMAND = 'npx obkit sandbox reset';

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of a live process holding the data dir's lock, if any. */
export function lockHolder(dataDir: string): number | undefined {
  const pid = readHolder(join(dataDir, LOCK_FILE));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

function inUse(dataDir: string, pid: number, path: string): DataDirError {
  const who = pid === process.pid ? 'this process' : `process ${pid}`;
  return new DataDirError(
    `${resolve(dataDir)} is in use by ${who} (lock file ${path}); stop it first, or use another data dir (--data-dir or OBKIT_DATA_DIR)`,
  );
}

/**
 * Takes the data dir for this process. The lock file appears complete or not at all (written aside, then
 * hard-linked into place), so a reader never sees it half-written. Released on `release()` and at exit.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCK_FILE);
  const draft = `${path}.${process.pid}`;
  const fd = openSync(draft, 'w', 0o600);
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        linkSync(draft, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
        const holder = readHolder(path);
        if (holder !== undefined && isAlive(holder)) throw inUse(dataDir, holder, path);
        // Stale: its process is gone (killed, or the machine stopped). Take it over.
        rmSync(path, { force: true });
      }
    }
  } catch (error) {
    if (error instanceof DataDirError) throw error;
    const holder = readHolder(path);
    if (holder !== undefined && isAlive(holder)) throw inUse(dataDir, holder, path);
    throw error;
  } finally {
    rmSync(draft, { force: true });
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readHolder(path) === process.pid) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    }
  };
  process.on('exit', release);
  return { path, release };
}

/**
 * The embedded database of a data dir, locked for this process. A folder with files but no `PG_VERSION`
 * (a first start that was interrupted) or a database that does not open is refused with one line.
 */
export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  const lock = lockDataDir(dataDir);
  const folder = join(dataDir, 'pglite');
  const remedy = `remove the sandbox state with \`${RESET_COMMAND}\`, or restore the folder from a backup`;
  try {
    if (existsSync(folder) && readdirSync(folder).length > 0 && !existsSync(join(folder, 'PG_VERSION'))) {
      throw new DataDirError(
        `${resolve(folder)} is not a complete database (it has no PG_VERSION: a first start was interrupted, or files were lost); ${remedy}`,
      );
    }
    const damaged = (error: unknown): DataDirError => {
      const reason = (error as Error).message.split('\n')[0]?.replace(/\. Build with .*$/, '');
      return new DataDirError(
        `the embedded database in ${resolve(folder)} does not open (${reason}): it is damaged or partial; ${remedy}`,
        { cause: error },
      );
    };
    let store: Store;
    try {
      store = await openStore({ backend: 'pglite', dataDir: folder });
    } catch (error) {
      throw damaged(error);
    }
    return {
      ...store,
      async migrate() {
        try {
          await store.migrate();
        } catch (error) {
          // PostgreSQL in WebAssembly aborts on pages it cannot read.
          throw (error as Error).name === 'RuntimeError' ? damaged(error) : error;
        }
      },
      async close() {
        try {
          await store.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}

export interface ResetOutcome {
  removed: string[];
}

/**
 * Removes what the sandbox made in a data dir (database, CA, directory keys) and nothing else; refused
 * while a process holds the data dir. The folder itself goes too when nothing else is left in it.
 */
export function resetSandboxState(dataDir: string): ResetOutcome {
  if (!existsSync(dataDir)) return { removed: [] };
  const lock = lockDataDir(dataDir);
  const removed: string[] = [];
  try {
    for (const name of SANDBOX_STATE) {
      const path = join(dataDir, name);
      if (!existsSync(path)) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(resolve(path));
    }
  } finally {
    lock.release();
  }
  if (readdirSync(dataDir).length === 0) rmSync(dataDir, { recursive: true, force: true });
  return { removed };
}

/**
 * What a refused command prints (one line, no stack trace) and its exit code, for the errors that name a
 * file and a remedy; undefined for any other error.
 */
export function refusalOf(error: unknown): { message: string; exitCode: 1 | 2 } | undefined {
  if (error instanceof Refusal) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof MasterKeyError) return { message: error.message, exitCode: 1 };
  if (error instanceof CaStoreError) {
    return { message: `${error.message} (in the sandbox, \`${RESET_COMMAND}\` starts afresh)`, exitCode: 1 };
  }
  return undefined;
}
