/**
 * The rows of a drizzle `db.execute` result on either store: PostgreSQL's driver answers `{ rows }`, and so
 * does PGlite's; an array is taken as the rows themselves.
 */
export function rowsOf<T>(result: unknown): T[] {
  const value = result as { rows?: T[] } | T[];
  return Array.isArray(value) ? value : (value.rows ?? []);
}
