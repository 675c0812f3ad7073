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
