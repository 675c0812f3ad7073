/** One text field of a console query string: trimmed, at most 200 characters, `''` when absent. */
export function text(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, 200) : '';
}

/** A search form's query string read for a search: what was typed, and the filter it means. */
export interface ParsedSearch<K extends string> {
  /** The fields as typed (text()), to show back in the form. */
  typed: Record<K | 'from' | 'to', string>;
  /**
   * The non-empty text fields and the dates; `undefined` when `from` or `to` is not a `YYYY-MM-DD` date, or a
   * field with choices holds none of them (`problem` says which).
   */
  filter: (Partial<Record<K, string>> & { from?: Date; to?: Date }) | undefined;
  /** Why `filter` is undefined, in one line for the page. */
  problem?: string;
}

/**
 * Reads the consents' and payments' search forms: each of `fields` as text, plus the `from` and `to` dates
 * (created on or after / before the end of). A field given `choices` (a select's options) must hold one of
 * them when not empty: a value from elsewhere would match nothing and say nothing. The consents and payments
 * pages answer 400 with `problem` when `filter` is undefined.
 */
export function parseSearch<K extends string>(
  query: unknown,
  fields: readonly K[],
  choices: Partial<Record<K, readonly string[]>> = {},
): ParsedSearch<K> {
  const asked = (query ?? {}) as Record<string, unknown>;
  const typed = {} as Record<K | 'from' | 'to', string>;
  for (const name of [...fields, 'from', 'to'] as const) typed[name] = text(asked[name]);
  const from = dateOf(typed.from);
  const to = dateOf(typed.to);
  if ((typed.from && !from) || (typed.to && !to))
    return { typed, filter: undefined, problem: 'Dates are YYYY-MM-DD.' };
  for (const name of fields) {
    const allowed = choices[name];
    if (typed[name] && allowed && !allowed.includes(typed[name]))
      return { typed, filter: undefined, problem: `No ${name} "${typed[name]}": choose one of the list.` };
  }
  const filter: Record<string, string | Date> = {};
  for (const name of fields) if (typed[name]) filter[name] = typed[name];
  if (from) filter['from'] = from;
  if (to) filter['to'] = to;
  return { typed, filter: filter as ParsedSearch<K>['filter'] };
}

function dateOf(value: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
