import type { FastifyRequest } from 'fastify';

/** Where each API lives, as the specifications' `servers` give it. */
export const API_BASES = {
  aisp: '/open-banking/v3.1/aisp',
  pisp: '/open-banking/v3.1/pisp',
  cbpii: '/open-banking/v3.1/cbpii',
} as const;

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
  return new URL(request.url, publicBaseUrl).toString();
}

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
