import type { ServerResponse } from 'node:http';

/** Cookie plumbing shared by every HTML surface. */

/** The value of cookie `name` in a `Cookie` request header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Adds a `Set-Cookie` line to the raw response, keeping the ones already there. On the raw response so
 * that it also reaches answers written after `reply.hijack()` (the consent app's redirects back to the TPP).
 */
export function appendSetCookie(response: ServerResponse, cookie: string): void {
  const existing = response.getHeader('set-cookie');
  const lines = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  response.setHeader('set-cookie', [...lines, cookie]);
}

/**
 * How a session cookie rides cross-site requests: `Lax` (the default; the consent app's cookies must come
 * back on the top-level redirect from the TPP) or `Strict` (the operator console, which nothing outside links
 * into with a session).
 */
export type SameSite = 'Lax' | 'Strict';

export interface SessionCookieOptions {
  /** `Lax` unless said. */
  sameSite?: SameSite;
}

/** A session cookie of a page app: Secure, HttpOnly, SameSite=Lax (or `options.sameSite`), limited to `path`. */
export function sessionCookie(
  name: string,
  path: string,
  token: string,
  maxAgeSeconds: number,
  options: SessionCookieOptions = {},
): string {
  return `${name}=${token}; Path=${path}; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=${options.sameSite ?? 'Lax'}`;
}

/** The `Set-Cookie` line that removes `sessionCookie(name, path, …, options)`. */
export function expiredCookie(name: string, path: string, options: SessionCookieOptions = {}): string {
  return `${name}=; Path=${path}; Max-Age=0; Secure; HttpOnly; SameSite=${options.sameSite ?? 'Lax'}`;
}
