import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { changeVersion } from './schema/change-version.ts';

/** The store's change version: one primary-key read (no row before the first change). */
const changeVersionRow = sql`select ${changeVersion.version} from ${changeVersion} where ${changeVersion.id} = 1`;

/**
 * The same read as plain SQL, for the store's own client (`Store.changeVersion`): no query builder on a read
 * made for every request that does not fold it into its own statement.
 */
export const CHANGE_VERSION_QUERY = new PgDialect().sqlToQuery(changeVersionRow).sql;

/**
 * The store's change version as one column of another statement (a scalar sub-select; 0 before the first
 * change), so that a request can read it in the same round trip, and the same snapshot, as its data
 * (`src/shared/deferred-change-version.ts`).
 */
export const currentChangeVersion = sql<number>`coalesce((${changeVersionRow}), 0)`.mapWith(changeVersionOf);

/** The change version from the driver's value of it (a `bigint`: text on `pg`); 0 when there is none yet. */
export function changeVersionOf(value: unknown): number {
  return Number(value ?? 0);
}

/**
 * A FROM source of exactly one row, to left-join a table to: the statement answers (with the change
 * version) even when no row of that table matches.
 */
export const oneRow = sql`(select 1) as one_row`;
