import type { FastifyRequest } from 'fastify';
import { ObError } from '../errors.ts';
import type { Links, Meta } from './wire.ts';
import { singleQueryValue } from './query-dates.ts';

/**
 * Paging of the Read/Write list endpoints: a fixed page size and a 1-based `page` query parameter. The
 * response's `Links` carry `Self` always and `First`/`Prev`/`Next`/`Last` when there is more than one
 * page; `Meta.TotalPages` the number of pages (at least 1, an empty list is one empty page).
 */
export const PAGE_SIZE = 50;

const PAGE = /^[1-9]\d{0,6}$/;

/** The requested page (1 when absent); 400 `UK.OBIE.Field.Invalid` for anything but a positive integer. */
export function requestedPage(request: FastifyRequest): number {
  const value = singleQueryValue(request.query, 'page');
  if (value === undefined) return 1;
  if (typeof value !== 'string' || !PAGE.test(value)) {
    throw ObError.single(400, 'UK.OBIE.Field.Invalid', 'page must be a positive integer', 'page');
  }
  return Number(value);
}

export function totalPagesOf(total: number, pageSize = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** Refuses a page past the last one (the TPP followed no link of ours to get there). */
export function assertPageExists(page: number, totalPages: number): void {
  if (page > totalPages) {
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      `page ${page} is beyond the last page (${totalPages})`,
      'page',
    );
  }
}

/** One page of an in-memory list (lists that are small per account: beneficiaries, standing orders, …). */
export function pageOf<T>(items: readonly T[], page: number, pageSize = PAGE_SIZE): T[] {
  assertPageExists(page, totalPagesOf(items.length, pageSize));
  return items.slice((page - 1) * pageSize, page * pageSize);
}

/**
 * `Links` and `Meta` for page `page` of `totalPages`. `self` is the absolute URL the TPP called; the other
 * links are it with `page` set (every other query parameter, such as the date filters, kept).
 */
export function pageLinks(
  self: string,
  page: number,
  totalPages: number,
): { Links: Links; Meta: Required<Pick<Meta, 'TotalPages'>> } {
  const links: Links = { Self: self };
  if (totalPages > 1) {
    const at = (n: number) => {
      const url = new URL(self);
      url.searchParams.set('page', String(n));
      return url.toString();
    };
    links.First = at(1);
    if (page > 1) links.Prev = at(Math.min(page - 1, totalPages));
    if (page < totalPages) links.Next = at(page + 1);
    links.Last = at(totalPages);
  }
  return { Links: links, Meta: { TotalPages: totalPages } };
}
