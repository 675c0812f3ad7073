import { getTableColumns, sql, type Column, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * Column types whose value, as drizzle receives it from either driver, is the column's text as PostgreSQL
 * writes it (drizzle keeps dates and timestamps as that text on both drivers, `pg` sends `bigint` and
 * `numeric` as text, and each column's own `mapFromDriverValue` turns the text into its value): such a column
 * read as `::text` and mapped by the column is exactly the value a select of the column gives. Others
 * (integer, boolean, json…) reach drizzle already parsed by the driver, so they are refused here rather
 * than given the text.
 */
const MAPPED_FROM_TEXT = new Set([
  'PgText',
  'PgTimestamp',
  'PgTimestampString',
  'PgDate',
  'PgDateString',
  'PgBigInt64',
  'PgBigInt53',
  'PgNumeric',
]);

/** One row of a table as a single column of a statement, and the row again from that column's value. */
export interface RowAsText<Row> {
  /** `null` when the row is absent (its primary key is null: a left join that matched nothing). */
  readonly column: SQL<unknown>;
  /** The row, as a select of the table's columns would give it; `undefined` for the column's `null`. */
  decode(value: unknown): Row | undefined;
}

/**
 * `table`'s row as one JSON array of its columns' text (`json_build_array(column::text, …)`), for a
 * statement that carries a wide row only sometimes: where the row is absent the statement sends (and the
 * driver parses) one null, not a null per column, and nothing is mapped (drizzle's `mapResultRow` maps every
 * column of every row it is given, null or not). The text of each column is what a select of it sends, so
 * `decode` gives what drizzle's select of the table would (test/store/text-row.test.ts compares them).
 * `table` may be an alias; its columns must be of a type in `MAPPED_FROM_TEXT`.
 */
export function rowAsText<T extends PgTable>(table: T): RowAsText<T['$inferSelect']> {
  const columns = Object.entries(getTableColumns(table)) as [string, Column][];
  for (const [, column] of columns) {
    if (!MAPPED_FROM_TEXT.has(column.columnType))
      throw new Error(`rowAsText: column ${column.name} (${column.columnType}) is not read from its text`);
  }
  const key = columns.find(([, column]) => column.primary)?.[1];
  if (!key) throw new Error('rowAsText: the table has no single-column primary key');
  // json_build_array takes at most 100 arguments (FUNC_MAX_ARGS).
  if (columns.length > 100) throw new Error(`rowAsText: ${columns.length} columns, at most 100`);
  const texts = sql.join(
    columns.map(([, column]) => sql`${column}::text`),
    sql`, `,
  );
  return {
    column: sql`case when ${key} is null then null else json_build_array(${texts}) end`,
    decode(value) {
      if (value === null || value === undefined) return undefined;
      // Both drivers parse json by default; a string is parsed here, should a handle's table not.
      const texts = (typeof value === 'string' ? JSON.parse(value) : value) as (string | null)[];
      if (!Array.isArray(texts) || texts.length !== columns.length)
        throw new Error(`rowAsText: a row of ${columns.length} columns expected`);
      const row: Record<string, unknown> = {};
      for (let index = 0; index < columns.length; index += 1) {
        const [name, column] = columns[index]!;
        const text = texts[index];
        row[name] = text === null || text === undefined ? null : column.mapFromDriverValue(text);
      }
      return row as T['$inferSelect'];
    },
  };
}
