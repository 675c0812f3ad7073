import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsentContext } from '../intents.ts';
import { expiredCookie, field, readCookie, sessionCookie, type Form } from './http.ts';
import { errorPage, lockedMessage, type PageFrame } from './pages.ts';
import { csrfMatches, loadSession, type ConsentSession } from './sessions.ts';

/**
 * The plumbing of a PSU app with its own cookie session under its own path (the dashboard, the bank
 * app): HTML answers, redirects, the session cookie, CSRF-checked forms and the error pages. Installs
 * the app's error handler, so a framework error is a page, never a stack trace.
 */
export interface CookieSessionApp {
  page(reply: FastifyReply, status: number, body: string): FastifyReply;
  redirect(reply: FastifyReply, to: string): FastifyReply;
  setCookie(reply: FastifyReply, token: string): void;
  clearCookie(reply: FastifyReply): void;
  currentSession(request: FastifyRequest): Promise<ConsentSession | undefined>;
  /** The posted form when its CSRF token matches the session; a 403 page (and undefined) otherwise. */
  posted(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ session: ConsentSession; form: Form } | undefined>;
  lockedPage(reply: FastifyReply, lockedUntil: Date): FastifyReply;
}

export function cookieSessionApp(
  app: FastifyInstance,
  options: {
    ctx: ConsentContext;
    frame: PageFrame;
    /** The app's mount path: the cookie's path and where "log in again" points. */
    base: string;
    cookieName: string;
    /** The pseudo interaction id its sessions are stored under in the consent session table. */
    sessionKey: string;
    ttlSeconds: number;
    /** For the log line of a server error, e.g. `dashboard`. */
    name: string;
  },
): CookieSessionApp {
  const { ctx, frame, base, cookieName } = options;

  const page = (reply: FastifyReply, status: number, body: string): FastifyReply =>
    reply.code(status).type('text/html; charset=utf-8').send(body);

  app.setErrorHandler(async (error: { statusCode?: number }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, `${options.name} failure`);
    if (reply.sent) return;
    return page(
      reply,
      status,
      errorPage(frame, {
        title: status >= 500 ? 'Something went wrong' : 'We could not read that',
        message:
          status >= 500 ? 'Please try again in a moment.' : 'Your browser sent something we did not expect.',
      }),
    );
  });

  const currentSession = (request: FastifyRequest) =>
    loadSession(ctx, readCookie(request, cookieName), options.sessionKey);

  return {
    page,
    redirect: (reply, to) => reply.code(303).header('location', to).send(),
    setCookie(reply, token) {
      reply.raw.setHeader('set-cookie', sessionCookie(cookieName, base, token, options.ttlSeconds));
    },
    clearCookie(reply) {
      reply.raw.setHeader('set-cookie', expiredCookie(cookieName, base));
    },
    currentSession,
    async posted(request, reply) {
      const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Form;
      const session = await currentSession(request);
      if (!session || !csrfMatches(session, field(form, 'csrf'))) {
        page(
          reply,
          403,
          errorPage(frame, {
            title: 'Your session has expired',
            message: 'For your security this form can no longer be sent. Log in again.',
            details: [`Go to ${base} to log in.`],
          }),
        );
        return undefined;
      }
      return { session, form };
    },
    lockedPage(reply, lockedUntil) {
      return page(
        reply,
        403,
        errorPage(frame, {
          title: 'Your login is locked',
          message: 'There were too many wrong attempts to log in, so we have locked your login for a while.',
          details: lockedMessage(lockedUntil),
        }),
      );
    },
  };
}
