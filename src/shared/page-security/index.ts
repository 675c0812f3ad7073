import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendSetCookie, readCookie } from './cookies.ts';
import {
  CSRF_COOKIE,
  CSRF_FIELD,
  csrfCookie,
  csrfTokenFor,
  csrfTokenValid,
  isCsrfNonce,
  newCsrfNonce,
} from './csrf.ts';
import { pageSecurityHeaders, type PageSecurityHeaderOptions } from './headers.ts';

export { appendSetCookie, readCookie } from './cookies.ts';
export { CSRF_COOKIE, CSRF_FIELD, PAGE_SECURITY_SECRET_SETTING } from './csrf.ts';
export { pageSecurityHeaders, type PageSecurityHeaderOptions } from './headers.ts';

/**
 * The hardening every HTML surface installs in its (encapsulated) fastify scope, once:
 *
 *   installPageSecurity(app, { secret, refuse })
 *
 * - every response of the scope carries `pageSecurityHeaders()` (set on the raw response, so answers
 *   written after `reply.hijack()` carry them too; a route may still override e.g. `cache-control` of a
 *   stylesheet with `reply.header`);
 * - every POST (PUT, PATCH, DELETE) must carry the CSRF token in the form field `csrf` matching the
 *   `__Host-obkit-csrf` cookie, checked before the handler runs; otherwise `refuse` answers (a 403 page)
 *   and the handler — and so any write — never runs;
 * - a form gets its token from `csrfToken(reply)`, which also sets the cookie when the browser has none.
 */
export interface PageSecurityOptions {
  /** The HMAC secret (the store setting `PAGE_SECURITY_SECRET_SETTING`, shared by every instance). */
  secret: string;
  headers?: PageSecurityHeaderOptions;
  /** Sends the surface's own 403 page (or throws an error its error handler renders as one). */
  refuse(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply>;
  /** Routes that are not browser forms (a JSON API a browser cannot post cross-site without CORS). */
  exempt?(request: FastifyRequest): boolean;
}

interface RequestState {
  secret: string;
  nonce?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const states = new WeakMap<FastifyRequest, RequestState>();

export function installPageSecurity(app: FastifyInstance, options: PageSecurityOptions): void {
  const headers = Object.entries(pageSecurityHeaders(options.headers));
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    states.set(request, { secret: options.secret });
  });
  // An error thrown before this scope's onRequest ran (an outer hook: the database unavailable, say) is
  // still answered with a page of this scope: it gets the headers too.
  app.addHook('onError', async (_request, reply) => {
    for (const [name, value] of headers) if (!reply.raw.hasHeader(name)) reply.raw.setHeader(name, value);
  });
  app.addHook('preHandler', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || options.exempt?.(request)) return;
    const nonce = readCookie(request.headers.cookie, CSRF_COOKIE);
    if (csrfTokenValid(options.secret, nonce, postedToken(request.body))) return;
    request.log.info({ hasCookie: nonce !== undefined }, 'form refused: missing or wrong CSRF token');
    reply.code(403);
    return options.refuse(request, reply);
  });
}

/** The value of the hidden `csrf` field for a form on the page this reply sends. */
export function csrfToken(reply: FastifyReply): string {
  const state = states.get(reply.request);
  if (!state) throw new Error('csrfToken: this route is not in a scope with installPageSecurity');
  if (state.nonce === undefined) {
    const sent = readCookie(reply.request.headers.cookie, CSRF_COOKIE);
    if (isCsrfNonce(sent)) state.nonce = sent;
    else {
      state.nonce = newCsrfNonce();
      appendSetCookie(reply.raw, csrfCookie(state.nonce));
    }
  }
  return csrfTokenFor(state.secret, state.nonce);
}

function postedToken(body: unknown): string | undefined {
  if (body instanceof URLSearchParams)
    return body.getAll(CSRF_FIELD).length === 1 ? (body.get(CSRF_FIELD) ?? undefined) : undefined;
  if (body && typeof body === 'object') {
    const value = (body as Record<string, unknown>)[CSRF_FIELD];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}
