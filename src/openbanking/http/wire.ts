import type { FastifyRequest } from 'fastify';
import { allBasePaths, VERSION_BASES } from '../versions.ts';

/** Where each v3.1.11 API lives, as the specifications' `servers` give it (every version: versions.ts). */
export const API_BASES = VERSION_BASES['v3.1.11'] as Required<(typeof VERSION_BASES)['v3.1.11']>;

/**
 * A trailing slash on a specified Read/Write path is served as that path (`…/aisp/accounts/` as
 * `…/aisp/accounts`, `…/pisp/domestic-payments/{id}/` as `…/pisp/domestic-payments/{id}`): the mTLS
 * surface rewrites each request's URL with this once, before routing, so no route is declared twice.
 * The query string is kept; a URL outside the API base paths, or a base path itself, is left alone, and
 * so still answers 404 when nothing is there.
 */
export function readWriteUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (!path.endsWith('/')) return url;
  const base = allBasePaths().find((candidate) => path.startsWith(`${candidate}/`));
  if (base === undefined || path.length === base.length + 1) return url;
  return `${path.slice(0, -1)}${queryAt === -1 ? '' : url.slice(queryAt)}`;
}

/** OB date-times are ISO 8601 with an offset; we always answer in UTC. */
export function obDateTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/**
 * The absolute URL of the resource this request addressed: every OB response's `Links.Self`.
 * `request.url` is the whole path (the API's base path included), so only the origin of
 * `publicBaseUrl` is used.
 */
export function selfUrl(request: FastifyRequest, publicBaseUrl: string): string {
  const key = `${publicBaseUrl} ${request.url}`;
  const known = selfUrls.get(key);
  if (known !== undefined) return known;
  const url = new URL(request.url, publicBaseUrl).toString();
  selfUrls.set(key, url);
  if (selfUrls.size > MAX_SELF_URLS) selfUrls.delete(selfUrls.keys().next().value as string);
  return url;
}

/**
 * `Links.Self` by base and request URL: a polled resource's is built once (`new URL` and its serialisation
 * cost ~10 µs of every read). A pure function of the two strings, so never stale; the oldest go first.
 */
const selfUrls = new Map<string, string>();
const MAX_SELF_URLS = 4096;

export interface Links {
  Self: string;
  First?: string;
  Prev?: string;
  Next?: string;
  Last?: string;
}

export interface Meta {
  TotalPages?: number;
  FirstAvailableDateTime?: string;
  LastAvailableDateTime?: string;
}
