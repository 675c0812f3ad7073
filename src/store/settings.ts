import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Queryable } from './database.ts';
import { settings } from './schema/settings.ts';

export async function readSetting<T>(db: Queryable, key: string): Promise<T | undefined> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  return rows[0]?.value as T | undefined;
}

export async function writeSetting(db: Queryable, key: string, value: unknown): Promise<void> {
  await db
    .insert(settings)
    .values({ key, value })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: sql`now()` } });
}

/**
 * A random secret kept under `key`, made once by whichever instance asks first (`insert … on conflict do
 * nothing`, then everyone reads the winner), so every instance behind a load balancer holds the same.
 */
export async function loadOrCreateSecret(db: Queryable, key: string): Promise<string> {
  await db
    .insert(settings)
    .values({ key, value: { secret: randomBytes(32).toString('base64url') } })
    .onConflictDoNothing({ target: settings.key });
  const stored = await readSetting<{ secret?: unknown }>(db, key);
  if (typeof stored?.secret !== 'string') throw new Error(`the stored setting ${key} holds no secret`);
  return stored.secret;
}
