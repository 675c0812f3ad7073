import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../database-unavailable.ts';
import { readCookie } from './cookies.ts';
import { CSRF_COOKIE, csrfVerified, useCsrfSecret } from './csrf.ts';
import { parseForm } from './forms.ts';
import { pageSecurityHeaders, type PageSecurityHeaderOptions } from './headers.ts';
import { STYLESHEET } from './stylesheet.ts';

/**
 * What went wrong before or inside a handler, for the app to answer in its own words and layout:
 * - `form-expired` (403): a write without a valid CSRF token — the handler never ran;
 * - `unavailable` (503, `Retry-After` already set): the database cannot answer;
 * - `bad-request` (4xx): the request could not be read (a fastify error, or the app's own, see `statusOf`);
 * - `failure` (500): anything else, already logged.
 */
export type PageProblem =
  | { kind: 'form-expired'; status: 403 }
  | { kind: 'unavailable'; status: 503; error: unknown }
  | { kind: 'bad-request'; status: number; error: unknown }
  | { kind: 'failure'; status: 500; error: unknown };

export interface PageKitOptions {
  /** For log lines, e.g. `consent app`. */
  name: string;
  /** The CSRF HMAC secret: the store setting `PAGE_SECURITY_SECRET_SETTING`, shared by every instance. */
  secret: string;
  /** Answers a problem (the reply's status is already set): usually `errorPage(site, …)` as HTML. */
  problem(
    request: FastifyRequest,
    reply: FastifyReply,
    problem: PageProblem,
  ): FastifyReply | Promise<FastifyReply>;
  headers?: PageSecurityHeaderOptions;
  /** Serves the one stylesheet (plus the app's `extra` rules) at `path`. */
  stylesheet?: { path: string; extra?: string };
  /** Largest form body accepted, in bytes; default 16 KiB. */
  formBodyLimit?: number;
  /** Routes that are not browser forms (a JSON API a browser cannot post cross-site without CORS). */
  exempt?(request: FastifyRequest): boolean;
  /** The HTTP status of the app's own error type (e.g. the directory's), when it has one. */
  statusOf?(error: unknown): number | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Installs the page kit in an (encapsulated) fastify scope — call it first in the app's plugin:
 * - form bodies (`application/x-www-form-urlencoded`) are parsed into a `Form` (forms.ts);
 * - every response carries `pageSecurityHeaders()` (set on the raw response, so answers written after
 *   `reply.hijack()` carry them too; a route may still override e.g. `cache-control` with `reply.header`);
 * - every POST (PUT, PATCH, DELETE) must carry the CSRF token (`csrfToken(reply)` in the form's `csrf` field)
 *   matching the `__Host-obkit-csrf` cookie, checked before the handler runs, so no write happens without it;
 * - every error becomes `options.problem(…)`: a page, never a stack trace.
 */
export function installPageKit(app: FastifyInstance, options: PageKitOptions): void {
  const headers = Object.entries(pageSecurityHeaders(options.headers));
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: options.formBodyLimit ?? 16_384 },
    (_request, body, done) => done(null, parseForm(body as string)),
  );
  app.addHook('onRequest', async (request, reply) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    useCsrfSecret(request, options.secret);
  });
  // An error thrown before this scope's onRequest ran (an outer hook: the database unavailable, say) is
  // still answered with a page of this scope: it gets the headers too.
  app.addHook('onError', async (_request, reply) => {
    for (const [name, value] of headers) if (!reply.raw.hasHeader(name)) reply.raw.setHeader(name, value);
  });
  app.addHook('preHandler', async (request, reply) => {
    if (SAFE_METHODS.has(request.method) || options.exempt?.(request)) return;
    if (csrfVerified(request, options.secret)) return;
    request.log.info(
      { hasCookie: readCookie(request.headers.cookie, CSRF_COOKIE) !== undefined },
      'form refused: missing or wrong CSRF token',
    );
    reply.code(403);
    return options.problem(request, reply, { kind: 'form-expired', status: 403 });
  });
  app.setErrorHandler(async (error: { statusCode?: number }, request, reply) => {
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'the database is unavailable');
      if (reply.sent || reply.raw.headersSent) return;
      reply.code(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      return options.problem(request, reply, { kind: 'unavailable', status: 503, error });
    }
    const status = options.statusOf?.(error) ?? error.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      if (reply.sent || reply.raw.headersSent) return;
      return options.problem(request, reply.code(status), { kind: 'bad-request', status, error });
    }
    request.log.error({ err: error }, `${options.name} failure`);
    if (reply.sent || reply.raw.headersSent) return;
    return options.problem(request, reply.code(500), { kind: 'failure', status: 500, error });
  });
  if (options.stylesheet) {
    const css = STYLESHEET + (options.stylesheet.extra ?? '');
    app.get(options.stylesheet.path, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css),
    );
  }
}

/** Sends an HTML page with `status`. */
export function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page);
}
