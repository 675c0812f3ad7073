import { sql } from 'drizzle-orm';
import { changeVersion } from './schema/change-version.ts';

/**
 * The store's change version as one column of another statement (a scalar sub-select; 0 before the first
 * change), so that a request can read it in the same round trip, and the same snapshot, as its data
 * (`src/shared/deferred-change-version.ts`).
 */
export const currentChangeVersion =
  sql<number>`coalesce((select ${changeVersion.version} from ${changeVersion} where ${changeVersion.id} = 1), 0)`.mapWith(
    Number,
  );

/**
 * A FROM source of exactly one row, to left-join a table to: the statement answers (with the change
 * version) even when no row of that table matches.
 */
export const oneRow = sql`(select 1) as one_row`;
