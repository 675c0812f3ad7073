import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsentContext } from '../intents.ts';
import {
  appendSetCookie,
  csrfToken,
  ERROR_TEXTS,
  expiredCookie,
  formOf,
  installPageKit,
  readCookie,
  sendPage,
  sessionCookie,
  type Form,
  type PageSecurityHeaderOptions,
} from '../../shared/page-kit/index.ts';
import { passwordStep, type LoginDependencies } from './login-steps.ts';
import { errorPage, lockedMessage, type PageFrame } from './pages.ts';
import { endSession, loadSession, type ConsentSession } from './sessions.ts';

/**
 * The plumbing of a PSU app with its own cookie session under its own path (the dashboard, the bank
 * app): HTML answers, redirects, the session cookie, forms of a logged-in session, the error pages, and the
 * login and logout routes. Installs the page kit (src/shared/page-kit) in the app's scope: the CSRF token is
 * checked before any handler (a refusal is `refuseForm`'s page), and an error is a page, never a stack trace.
 */
export interface CookieSessionApp {
  page(reply: FastifyReply, status: number, body: string): FastifyReply;
  redirect(reply: FastifyReply, to: string): FastifyReply;
  setCookie(reply: FastifyReply, token: string): void;
  clearCookie(reply: FastifyReply): void;
  currentSession(request: FastifyRequest): Promise<ConsentSession | undefined>;
  /** The posted form and its session; a 403 page (and undefined) when the session is gone. */
  posted(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ session: ConsentSession; form: Form } | undefined>;
  lockedPage(reply: FastifyReply, lockedUntil: Date): FastifyReply;
  /** The 403 page of a form that can no longer be sent (no session, or no valid CSRF token). */
  refuseForm(reply: FastifyReply): FastifyReply;
  /**
   * `POST <base>/login` (the password step; on success back to `<base>`) and `POST <base>/logout`, the
   * same in every cookie-session app; `loginPage` renders the form again with the error.
   */
  mountLoginAndLogout(
    login: LoginDependencies,
    loginPage: (form: { csrf: string; error: string; username?: string }) => string,
  ): void;
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
    /** The CSRF secret (the store setting PAGE_SECURITY_SECRET_SETTING). */
    secret: string;
    headers?: PageSecurityHeaderOptions;
    /** The app's own rules after the kit's stylesheet, served at `<base>/assets/consent.css`. */
    extraStyles?: string;
  },
): CookieSessionApp {
  const { ctx, frame, base, cookieName } = options;

  const page = sendPage;
  const redirect = (reply: FastifyReply, to: string): FastifyReply =>
    reply.code(303).header('location', to).send();
  const setCookie = (reply: FastifyReply, token: string): void => {
    appendSetCookie(reply.raw, sessionCookie(cookieName, base, token, options.ttlSeconds));
  };
  const clearCookie = (reply: FastifyReply): void => {
    appendSetCookie(reply.raw, expiredCookie(cookieName, base));
  };
  const currentSession = (request: FastifyRequest) =>
    loadSession(ctx, readCookie(request.headers.cookie, cookieName), options.sessionKey);

  installPageKit(app, {
    name: options.name,
    secret: options.secret,
    ...(options.headers ? { headers: options.headers } : {}),
    stylesheet: {
      path: `${base}/assets/consent.css`,
      ...(options.extraStyles ? { extra: options.extraStyles } : {}),
    },
    problem: (_request, reply, problem) => {
      if (problem.kind === 'form-expired') return refuseForm(reply);
      const text =
        problem.kind === 'unavailable'
          ? ERROR_TEXTS.unavailable
          : problem.kind === 'bad-request'
            ? ERROR_TEXTS.badRequest
            : ERROR_TEXTS.failure;
      return page(reply, problem.status, errorPage(frame, text));
    },
  });

  async function posted(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ session: ConsentSession; form: Form } | undefined> {
    const form = formOf(request.body);
    const session = await currentSession(request);
    if (!session) {
      refuseForm(reply);
      return undefined;
    }
    return { session, form };
  }

  function refuseForm(reply: FastifyReply): FastifyReply {
    return page(
      reply,
      403,
      errorPage(frame, {
        title: 'Your session has expired',
        message: 'For your security this form can no longer be sent. Log in again.',
        details: [`Go to ${base} to log in.`],
      }),
    );
  }

  function lockedPage(reply: FastifyReply, lockedUntil: Date): FastifyReply {
    return page(
      reply,
      403,
      errorPage(frame, {
        title: 'Your login is locked',
        message: 'There were too many wrong attempts to log in, so we have locked your login for a while.',
        details: lockedMessage(lockedUntil),
      }),
    );
  }

  return {
    page,
    redirect,
    setCookie,
    clearCookie,
    currentSession,
    posted,
    lockedPage,
    refuseForm,
    mountLoginAndLogout(login, loginPage) {
      app.post(`${base}/login`, { config: { throttle: 'login' } }, async (request, reply) => {
        const form = await posted(request, reply);
        if (!form) return reply;
        const { session } = form;
        const step = await passwordStep(login, session, form.form);
        if (step.outcome === 'locked') return lockedPage(reply, step.lockedUntil);
        if (step.outcome === 'retry')
          return page(
            reply,
            step.status,
            loginPage({
              csrf: csrfToken(reply),
              error: step.error,
              ...(step.username !== undefined ? { username: step.username } : {}),
            }),
          );
        if (step.token) setCookie(reply, step.token);
        return redirect(reply, base);
      });
      app.post(`${base}/logout`, async (request, reply) => {
        const form = await posted(request, reply);
        if (!form) return reply;
        await endSession(ctx, form.session);
        clearCookie(reply);
        return redirect(reply, base);
      });
    },
  };
}
