import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../../shared/clock.ts';
import { DATABASE_UNAVAILABLE } from '../../../shared/database-unavailable.ts';
import { hijackKeepingHeaders } from '../../../shared/hijack.ts';
import {
  appendSetCookie,
  csrfToken,
  expiredCookie,
  formOf,
  installPageKit,
  PAGE_SECURITY_SECRET_SETTING,
  readCookie,
  sendPage,
  sessionCookie,
  type Form,
  type PageProblem,
} from '../../../shared/page-kit/index.ts';
import { loadOrCreateSecret, type Queryable } from '../../../store/index.ts';
import { checkIntentAuthorisable } from '../../authorisable.ts';
import { DEFAULT_CREDENTIAL_POLICY, type CredentialPolicy } from '../../credentials.ts';
import type { CustomerDirectory } from '../../customers.ts';
import { getIntent, type ConsentContext, type Intent } from '../../intents.ts';
import type { InteractionBridge, InteractionDetails } from '../../interaction-bridge.ts';
import {
  DEFAULT_BANK_NAME,
  errorPage,
  lockedMessage,
  UNAVAILABLE_PAGE,
  type ErrorPage,
  type PageFrame,
  type Tpp,
} from '../pages.ts';
import { createSession, endSession, loadSession, type ConsentSession } from '../sessions.ts';
import { FORM_EXPIRED, INTENT_REFUSALS, NOT_FOUND } from './texts.ts';

export interface ConsentAppOptions {
  db: Queryable;
  clock?: Clock;
  bridge: InteractionBridge;
  customers: CustomerDirectory;
  /** Sandbox only: enables `POST /:uid/sandbox-approve`. Off by default. */
  headlessApproval?: boolean;
  credentialPolicy?: CredentialPolicy;
  /** Lifetime of a consent-app session; default 30 minutes. */
  sessionTtlSeconds?: number;
  bankName?: string;
  /** Sandbox only: the login pages say how to log in as a sandbox customer. */
  sandbox?: boolean;
  /** Default `/interaction`, which is where the authorization server sends the browser. */
  mountPath?: string;
}

export const SESSION_COOKIE = 'obkit_consent';

export const UID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * What every route of the consent app works with: its settings, and the steps each route shares — find the
 * interaction and its session, check the intent, and answer with a page (an error page already sent is
 * `undefined` to the caller, which then returns the reply).
 */
export type InteractionScope = Awaited<ReturnType<typeof interactionScope>>;

/** Installs the page kit in the consent app's scope and returns the shared steps of its routes. */
export async function interactionScope(app: FastifyInstance, options: ConsentAppOptions) {
  const clock = options.clock ?? systemClock;
  const ctx: ConsentContext = { db: options.db, clock };
  const ttl = options.sessionTtlSeconds ?? 30 * 60;
  const mount = (options.mountPath ?? '/interaction').replace(/\/+$/, '');
  const frame: PageFrame = {
    mountPath: mount,
    bankName: options.bankName ?? DEFAULT_BANK_NAME,
    sandbox: options.sandbox === true,
  };

  installPageKit(app, {
    name: 'consent app',
    secret: await loadOrCreateSecret(options.db, PAGE_SECURITY_SECRET_SETTING),
    // Approve, reject and cancel end in a redirect to the TPP's redirect_uri.
    headers: { formsRedirectAway: true },
    stylesheet: { path: `${mount}/assets/consent.css` },
    // A JSON API for a TPP's CI, not a form: a browser cannot post JSON cross-site without CORS.
    exempt: (request) => request.routeOptions.url === `${mount}/:uid/sandbox-approve`,
    problem: (request, reply, problem) =>
      request.url.endsWith('/sandbox-approve')
        ? reply.send(jsonProblem(problem))
        : sendPage(reply, problem.status, errorPageOf(reply, pageProblem(problem))),
  });

  /** An error page with the request's x-fapi-interaction-id, for the customer to quote. */
  function errorPageOf(reply: FastifyReply, page: ErrorPage): string {
    return errorPage(frame, { ...page, reference: reply.request.id });
  }

  function setSessionCookie(reply: FastifyReply, uid: string, token: string): void {
    appendSetCookie(reply.raw, sessionCookie(SESSION_COOKIE, `${mount}/${uid}`, token, ttl));
  }

  /** Ends the session (the interaction is answered) and removes its cookie. */
  async function endInteractionSession(
    reply: FastifyReply,
    uid: string,
    session: ConsentSession,
  ): Promise<void> {
    await endSession(ctx, session);
    appendSetCookie(reply.raw, expiredCookie(SESSION_COOKIE, `${mount}/${uid}`));
  }

  function tppOf(details: InteractionDetails): Tpp {
    return { name: details.clientName || details.clientId, logoUri: details.logoUri };
  }

  /** The "Cancel and return to the TPP" form of an error page. */
  function cancelOf(reply: FastifyReply, details: InteractionDetails) {
    return { base: `${mount}/${details.uid}`, csrf: csrfToken(reply), tppName: tppOf(details).name };
  }

  /** The interaction of this request, or an error page already sent. */
  async function interaction(request: FastifyRequest, reply: FastifyReply, uid: string) {
    try {
      const details = await options.bridge.details(request.raw, reply.raw);
      if (details.uid === uid) return details;
    } catch (error) {
      request.log.info({ err: error }, 'no live interaction');
    }
    sendPage(
      reply,
      400,
      errorPageOf(reply, {
        title: 'This page has expired',
        message:
          'Your login took too long, or it was already completed. Go back to the app that sent you here and start again.',
      }),
    );
    return undefined;
  }

  function uidOf(request: FastifyRequest, reply: FastifyReply): string | undefined {
    const uid = (request.params as { uid?: string }).uid;
    if (uid && UID.test(uid)) return uid;
    sendPage(reply, 404, errorPageOf(reply, NOT_FOUND));
    return undefined;
  }

  /** The session of this request's cookie; a new one (cookie set) when `create`. */
  async function sessionOf(
    request: FastifyRequest,
    reply: FastifyReply,
    uid: string,
    create: boolean,
  ): Promise<ConsentSession | undefined> {
    const existing = await loadSession(ctx, readCookie(request.headers.cookie, SESSION_COOKIE), uid);
    if (existing || !create) return existing;
    const { token, session } = await createSession(ctx, uid, ttl);
    setSessionCookie(reply, uid, token);
    return session;
  }

  /**
   * A form post's uid, session and interaction (its CSRF token was checked before the handler); an error
   * page sent otherwise.
   */
  async function posted(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ uid: string; session: ConsentSession; form: Form; details: InteractionDetails } | undefined> {
    const uid = uidOf(request, reply);
    if (!uid) return undefined;
    const session = await sessionOf(request, reply, uid, false);
    if (!session) {
      sendPage(reply, 403, errorPageOf(reply, FORM_EXPIRED));
      return undefined;
    }
    const details = await interaction(request, reply, uid);
    if (!details) return undefined;
    return { uid, session, form: formOf(request.body), details };
  }

  /**
   * The intent, checked as the authorization server checked it (an Authorised one is a re-authentication);
   * an error page sent otherwise.
   */
  async function authorisableIntent(
    reply: FastifyReply,
    details: InteractionDetails,
    session: ConsentSession | undefined,
  ): Promise<Intent | undefined> {
    const intent = await getIntent(ctx.db, details.intentId);
    const check = checkIntentAuthorisable(intent, details.clientId, details.scopes, clock.now(), {
      reauthentication: true,
    });
    if (check.ok) return check.intent;
    sendPage(
      reply,
      check.reason === 'not_awaiting_authorisation' ? 409 : 400,
      errorPageOf(reply, {
        ...INTENT_REFUSALS[check.reason],
        cancel: session ? cancelOf(reply, details) : undefined,
      }),
    );
    return undefined;
  }

  function lockedPage(reply: FastifyReply, details: InteractionDetails, until: Date): FastifyReply {
    return sendPage(
      reply,
      403,
      errorPageOf(reply, {
        title: 'Your login is locked',
        message: 'There were too many wrong attempts to log in, so we have locked your login for a while.',
        details: lockedMessage(until),
        cancel: cancelOf(reply, details),
      }),
    );
  }

  function redirectToPage(reply: FastifyReply, uid: string): FastifyReply {
    return reply.code(303).header('location', `${mount}/${uid}`).send();
  }

  /** Lets the bridge write its redirect; if it fails before writing, a plain error page is written instead. */
  async function finishOrFail(
    request: FastifyRequest,
    reply: FastifyReply,
    finish: () => Promise<void>,
  ): Promise<FastifyReply> {
    hijackKeepingHeaders(reply);
    try {
      await finish();
    } catch (error) {
      request.log.error({ err: error }, 'interaction bridge failed');
      const res = reply.raw;
      if (!res.headersSent) {
        res.statusCode = 502;
        res.removeHeader('set-cookie');
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(
          errorPageOf(reply, {
            title: 'We could not send you back to the app',
            message: 'Your answer was saved, but something went wrong. Go back to the app and check.',
          }),
        );
      } else if (!res.writableEnded) {
        res.end();
      }
    }
    return reply;
  }

  return {
    ctx,
    clock,
    mount,
    frame,
    bridge: options.bridge,
    customers: options.customers,
    policy: options.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY,
    headlessApproval: options.headlessApproval === true,
    errorPageOf,
    setSessionCookie,
    endSession: endInteractionSession,
    tppOf,
    cancelOf,
    interaction,
    uidOf,
    sessionOf,
    posted,
    authorisableIntent,
    lockedPage,
    redirectToPage,
    finishOrFail,
  };
}

/** A problem on a page: the consent app's words (it always points back to the app that sent the PSU). */
function pageProblem(problem: PageProblem): ErrorPage {
  switch (problem.kind) {
    case 'form-expired':
      return FORM_EXPIRED;
    case 'unavailable':
      return UNAVAILABLE_PAGE;
    case 'failure':
      return {
        title: 'Something went wrong',
        message: 'We could not complete this step. Go back to the app and try again.',
      };
    case 'bad-request':
      return {
        title: 'We could not read that',
        message:
          'Your browser sent something we did not expect. Go back to the app that sent you here and start again.',
      };
  }
}

/** A problem of the sandbox's JSON approval API: an OAuth-style error body. */
function jsonProblem(problem: PageProblem): { error: string; error_description: string } {
  if (problem.kind === 'unavailable')
    return { error: 'temporarily_unavailable', error_description: DATABASE_UNAVAILABLE };
  if (problem.kind === 'failure') return { error: 'server_error', error_description: 'unexpected failure' };
  return { error: 'invalid_request', error_description: 'the request could not be read' };
}
