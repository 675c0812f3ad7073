import type { PGlite } from '@electric-sql/pglite';

/**
 * Checkpoints for the embedded database. PGlite runs PostgreSQL in single-user mode: no checkpointer, so no
 * checkpoint by time or by WAL volume (`max_wal_size` is acted on only under a postmaster) — the only ones are
 * a clean close's and the one ending a crash recovery. Left alone, a long-running embedded store's `pg_wal`
 * grows by every write (~1.5 KB a token, ~2.2 KB a payment) and a crash recovery replays all of it at the
 * next start (bench/README.md, Tokens, session 16). So the store asks, now and then, how much WAL was written
 * since the last checkpoint's redo point and checkpoints past a threshold, as a checkpointer would by volume.
 */
export interface EmbeddedCheckpointOptions {
  /** How often the WAL written since the last checkpoint is looked at (one short statement). */
  readonly everyMs: number;
  /** A checkpoint is taken once this many bytes of WAL were written since the last one's redo point. */
  readonly walBytes: number;
}

/** One look a minute; a checkpoint per 64 MiB of WAL (four segments), PostgreSQL's `max_wal_size` scaled down. */
export const EMBEDDED_CHECKPOINTS: EmbeddedCheckpointOptions = {
  everyMs: 60_000,
  walBytes: 64 * 1024 * 1024,
};

const WAL_SINCE_CHECKPOINT = `select pg_wal_lsn_diff(pg_current_wal_insert_lsn(),
  (select redo_lsn from pg_control_checkpoint()))::float8 as since`;

/** Bytes of WAL written since the last checkpoint's redo point. */
export async function walSinceCheckpoint(client: PGlite): Promise<number> {
  const { rows } = await client.query<{ since: number }>(WAL_SINCE_CHECKPOINT);
  return rows[0]?.since ?? 0;
}

/**
 * Takes a checkpoint when at least `walBytes` of WAL were written since the last one; says whether it did.
 * PGlite runs one query at a time and waits for an open transaction to end, so it never interleaves a
 * transaction's statements.
 */
export async function checkpointWhenDue(client: PGlite, walBytes: number): Promise<boolean> {
  if ((await walSinceCheckpoint(client)) < walBytes) return false;
  await client.exec('checkpoint');
  return true;
}

/**
 * Looks every `everyMs` (the timer keeps no process alive) until the returned stop is called. A look that
 * fails (the store closing under it) is not retried: the next one comes at its time.
 */
export function scheduleEmbeddedCheckpoints(
  client: PGlite,
  options: EmbeddedCheckpointOptions = EMBEDDED_CHECKPOINTS,
): () => void {
  let looking = false;
  const timer = setInterval(() => {
    if (looking || client.closed) return;
    looking = true;
    checkpointWhenDue(client, options.walBytes)
      .catch(() => undefined)
      .finally(() => {
        looking = false;
      });
  }, options.everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
