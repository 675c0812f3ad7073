import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { systemClock, type Clock } from '../../shared/clock.ts';
import {
  appendSetCookie,
  csrfToken,
  expiredCookie,
  field,
  fieldList,
  formOf,
  installPageKit,
  PAGE_SECURITY_SECRET_SETTING,
  readCookie,
  sendPage,
  sessionCookie,
  type Form,
} from '../../shared/page-kit/index.ts';
import { DATABASE_UNAVAILABLE } from '../../shared/database-unavailable.ts';
import { loadOrCreateSecret, type Queryable } from '../../store/index.ts';
import { checkIntentAuthorisable, type NotAuthorisableReason } from '../authorisable.ts';
import { DEFAULT_CREDENTIAL_POLICY, type CredentialPolicy } from '../credentials.ts';
import { eligibleAccounts, type CustomerDirectory, type PsuAccount, type PsuCustomer } from '../customers.ts';
import { describeIntent } from '../describe.ts';
import {
  authorise,
  getIntent,
  IntentTransitionError,
  reject,
  type ConsentContext,
  type Intent,
} from '../intents.ts';
import { ACR_CA, ACR_SCA, type InteractionBridge, type InteractionDetails } from '../interaction-bridge.ts';
import { KIND_INFO } from '../kinds.ts';
import { passwordStep, totpStep } from './login-steps.ts';
import {
  consentPage,
  DEFAULT_BANK_NAME,
  errorPage,
  lockedMessage,
  loginPage,
  totpPage,
  type ErrorPage,
  type PageFrame,
  type Tpp,
  UNAVAILABLE_PAGE,
} from './pages.ts';
import { createSession, endSession, loadSession, type ConsentSession } from './sessions.ts';

/**
 * The consent app: a fastify plugin serving the PSU's side of an authorization, as Ory Hydra's login and
 * consent app does (the authorization server renders nothing). Pages under `<mountPath>/:uid`:
 *
 *   GET  /:uid                  login → TOTP → the intent in plain words with account selection
 *   POST /:uid/login            username + password
 *   POST /:uid/totp             the TOTP code; on success the bridge finishes the login prompt
 *   POST /:uid/consent          approve (with accounts) or reject; the bridge finishes or aborts
 *   POST /:uid/cancel           back to the TPP with access_denied
 *   POST /:uid/sandbox-approve  headless approval for a TPP's CI (404 unless `headlessApproval`)
 *
 * Every form carries the platform's CSRF token (src/shared/page-security), checked before any handler; the
 * session cookie is per interaction (`Path=<mountPath>/<uid>`), Secure, HttpOnly, SameSite=Lax.
 */
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

const UID = /^[A-Za-z0-9_-]{1,128}$/;

const HEADLESS_BODY = z.object({
  username: z.string().trim().min(1).max(128),
  decision: z.enum(['approve', 'reject']),
  accounts: z.array(z.string().min(1).max(128)).max(100).optional(),
});

/**
 * The `acr` to report after password + TOTP: strong customer authentication satisfies both OB values, so
 * report SCA when it was asked for, else the (weaker) value that was asked for, so an essential request holds.
 */
function acrFor(details: InteractionDetails): string {
  if (details.acrValues.length === 0 || details.acrValues.includes(ACR_SCA)) return ACR_SCA;
  return details.acrValues.includes(ACR_CA) ? ACR_CA : ACR_SCA;
}

const INTENT_REFUSALS: Record<NotAuthorisableReason, { title: string; message: string }> = {
  not_found: {
    title: 'We cannot find this request',
    message: 'The app sent a request we do not recognise. Go back to the app and try again.',
  },
  wrong_client: {
    title: 'We cannot find this request',
    message: 'The request does not belong to the app that sent you here. Go back to the app and try again.',
  },
  not_awaiting_authorisation: {
    title: 'This request has already been dealt with',
    message: 'It was approved, rejected or cancelled earlier. Go back to the app to start again.',
  },
  expired: {
    title: 'This request has expired',
    message: 'It is too late to approve it. Go back to the app to make a new request.',
  },
  scope_mismatch: {
    title: 'This request is not valid',
    message: 'The app asked for something that does not match its request. Go back to the app and try again.',
  },
};

const FORM_EXPIRED: ErrorPage = {
  title: 'Your session has expired',
  message: 'For your security this form can no longer be sent. Go back to the app and start again.',
};

const NOT_FOUND: ErrorPage = {
  title: 'Page not found',
  message: 'There is no such page.',
  details: ['Go back to the app that sent you here and start again.'],
};

export async function consentApp(app: FastifyInstance, options: ConsentAppOptions): Promise<void> {
  const clock = options.clock ?? systemClock;
  const ctx: ConsentContext = { db: options.db, clock };
  const policy = options.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY;
  const ttl = options.sessionTtlSeconds ?? 30 * 60;
  const mount = (options.mountPath ?? '/interaction').replace(/\/+$/, '');
  const frame: PageFrame = {
    mountPath: mount,
    bankName: options.bankName ?? DEFAULT_BANK_NAME,
    sandbox: options.sandbox === true,
  };
  const { bridge, customers } = options;

  installPageKit(app, {
    name: 'consent app',
    secret: await loadOrCreateSecret(options.db, PAGE_SECURITY_SECRET_SETTING),
    // Approve, reject and cancel end in a redirect to the TPP's redirect_uri.
    headers: { formsRedirectAway: true },
    stylesheet: { path: `${mount}/assets/consent.css` },
    // A JSON API for a TPP's CI, not a form: a browser cannot post JSON cross-site without CORS.
    exempt: (request) => request.routeOptions.url === `${mount}/:uid/sandbox-approve`,
    problem: (request, reply, problem) => {
      if (request.url.endsWith('/sandbox-approve')) {
        return reply.send({
          error:
            problem.kind === 'unavailable'
              ? 'temporarily_unavailable'
              : problem.kind === 'failure'
                ? 'server_error'
                : 'invalid_request',
          error_description:
            problem.kind === 'unavailable'
              ? DATABASE_UNAVAILABLE
              : problem.kind === 'failure'
                ? 'unexpected failure'
                : 'the request could not be read',
        });
      }
      const text =
        problem.kind === 'form-expired'
          ? FORM_EXPIRED
          : problem.kind === 'unavailable'
            ? UNAVAILABLE_PAGE
            : problem.kind === 'failure'
              ? {
                  title: 'Something went wrong',
                  message: 'We could not complete this step. Go back to the app and try again.',
                }
              : {
                  title: 'We could not read that',
                  message:
                    'Your browser sent something we did not expect. Go back to the app that sent you here and start again.',
                };
      return sendPage(reply, problem.status, errorPageOf(reply, text));
    },
  });

  /** An error page with the request's x-fapi-interaction-id, for the customer to quote. */
  function errorPageOf(reply: FastifyReply, page: ErrorPage): string {
    return errorPage(frame, { ...page, reference: reply.request.id });
  }

  function setSessionCookie(reply: FastifyReply, uid: string, token: string): void {
    appendSetCookie(reply.raw, sessionCookie(SESSION_COOKIE, `${mount}/${uid}`, token, ttl));
  }

  function clearSessionCookie(reply: FastifyReply, uid: string): void {
    appendSetCookie(reply.raw, expiredCookie(SESSION_COOKIE, `${mount}/${uid}`));
  }

  function tppOf(details: InteractionDetails): Tpp {
    return { name: details.clientName || details.clientId, logoUri: details.logoUri };
  }

  /** The interaction of this request, or an error page already sent. */
  async function interaction(request: FastifyRequest, reply: FastifyReply, uid: string) {
    try {
      const details = await bridge.details(request.raw, reply.raw);
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

  /** The session of a form post (its CSRF token was checked before); a 403 page sent otherwise. */
  async function postedSession(
    request: FastifyRequest,
    reply: FastifyReply,
    uid: string,
  ): Promise<{ session: ConsentSession; form: Form } | undefined> {
    const form = formOf(request.body);
    const session = await sessionOf(request, reply, uid, false);
    if (!session) {
      sendPage(reply, 403, errorPageOf(reply, FORM_EXPIRED));
      return undefined;
    }
    return { session, form };
  }

  /** The intent, checked as the authorization server checked it; an error page sent otherwise. */
  async function authorisableIntent(
    reply: FastifyReply,
    details: InteractionDetails,
    session: ConsentSession | undefined,
  ): Promise<Intent | undefined> {
    const intent = await getIntent(ctx.db, details.intentId);
    const check = checkIntentAuthorisable(intent, details.clientId, details.scopes, clock.now());
    if (check.ok) return check.intent;
    const text = INTENT_REFUSALS[check.reason];
    sendPage(
      reply,
      check.reason === 'not_awaiting_authorisation' ? 409 : 400,
      errorPageOf(reply, {
        ...text,
        cancel: session
          ? { base: `${mount}/${details.uid}`, csrf: csrfToken(reply), tppName: tppOf(details).name }
          : undefined,
      }),
    );
    return undefined;
  }

  interface ConsentChoice {
    customer: PsuCustomer;
    eligible: PsuAccount[];
  }

  /** The logged-in customer and the accounts they may choose for this intent; an error page otherwise. */
  async function consentChoice(
    reply: FastifyReply,
    details: InteractionDetails,
    intent: Intent,
  ): Promise<ConsentChoice | undefined> {
    const cancel = { base: `${mount}/${details.uid}`, csrf: csrfToken(reply), tppName: tppOf(details).name };
    const customer = details.customerId ? await customers.getCustomer(details.customerId) : undefined;
    if (!customer) {
      sendPage(
        reply,
        400,
        errorPageOf(reply, {
          title: 'Please log in again',
          message: 'We could not tell who you are.',
          cancel,
        }),
      );
      return undefined;
    }
    const { eligible, debtorNotHeld } = eligibleAccounts(
      intent,
      await customers.listCustomerAccounts(customer.id),
    );
    if (debtorNotHeld) {
      sendPage(
        reply,
        403,
        errorPageOf(reply, {
          title: 'This request is for someone else’s account',
          message: `The app asked to use an account that ${customer.displayName} does not hold. If you have another login with us, go back to the app and log in with that one.`,
          cancel,
        }),
      );
      return undefined;
    }
    if (eligible.length === 0) {
      sendPage(
        reply,
        409,
        errorPageOf(reply, {
          title: 'You have no account that can be used',
          message: 'None of your accounts can be used for this request.',
          cancel,
        }),
      );
      return undefined;
    }
    return { customer, eligible };
  }

  function renderConsent(
    reply: FastifyReply,
    status: number,
    details: InteractionDetails,
    intent: Intent,
    session: ConsentSession,
    choice: ConsentChoice,
    extra: { error?: string; selected?: string[] } = {},
  ): FastifyReply {
    const tpp = tppOf(details);
    return sendPage(
      reply,
      status,
      consentPage(frame, {
        uid: details.uid,
        csrf: csrfToken(reply),
        tpp,
        customerName: choice.customer.displayName,
        description: describeIntent(intent, tpp.name),
        accounts: choice.eligible,
        select: KIND_INFO[intent.kind].accounts,
        ...extra,
      }),
    );
  }

  function lockedPage(
    reply: FastifyReply,
    details: InteractionDetails,
    session: ConsentSession,
    until: Date,
  ) {
    return sendPage(
      reply,
      403,
      errorPageOf(reply, {
        title: 'Your login is locked',
        message: 'There were too many wrong attempts to log in, so we have locked your login for a while.',
        details: lockedMessage(until),
        cancel: { base: `${mount}/${details.uid}`, csrf: csrfToken(reply), tppName: tppOf(details).name },
      }),
    );
  }

  function redirectToPage(reply: FastifyReply, uid: string): FastifyReply {
    return reply.code(303).header('location', `${mount}/${uid}`).send();
  }

  // Anything else under the mount is a page a person followed a bad link to: a page, not the API's JSON 404.
  app.all(`${mount}/*`, async (_request, reply) => sendPage(reply, 404, errorPageOf(reply, NOT_FOUND)));

  app.get(`${mount}/:uid`, async (request, reply) => {
    const uid = uidOf(request, reply);
    if (!uid) return reply;
    const details = await interaction(request, reply, uid);
    if (!details) return reply;
    const session = (await sessionOf(request, reply, uid, true))!;
    const intent = await authorisableIntent(reply, details, session);
    if (!intent) return reply;
    const tpp = tppOf(details);
    if (details.prompt === 'login') {
      if (session.stage === 'password')
        return sendPage(
          reply,
          200,
          totpPage(frame, { base: `${mount}/${uid}`, csrf: csrfToken(reply), tpp }),
        );
      return sendPage(reply, 200, loginPage(frame, { base: `${mount}/${uid}`, csrf: csrfToken(reply), tpp }));
    }
    const choice = await consentChoice(reply, details, intent);
    if (!choice) return reply;
    return renderConsent(reply, 200, details, intent, session, choice);
  });

  app.post(`${mount}/:uid/login`, { config: { throttle: 'login' } }, async (request, reply) => {
    const uid = uidOf(request, reply);
    if (!uid) return reply;
    const posted = await postedSession(request, reply, uid);
    if (!posted) return reply;
    const { session, form } = posted;
    const details = await interaction(request, reply, uid);
    if (!details) return reply;
    if (details.prompt !== 'login') return redirectToPage(reply, uid);
    if (!(await authorisableIntent(reply, details, session))) return reply;
    const step = await passwordStep({ ctx, customers, policy }, session, form);
    if (step.outcome === 'locked') return lockedPage(reply, details, session, step.lockedUntil);
    if (step.outcome === 'retry')
      return sendPage(
        reply,
        step.status,
        loginPage(frame, {
          base: `${mount}/${uid}`,
          csrf: csrfToken(reply),
          tpp: tppOf(details),
          error: step.error,
          ...(step.username !== undefined ? { username: step.username } : {}),
        }),
      );
    if (step.token) setSessionCookie(reply, uid, step.token);
    return redirectToPage(reply, uid);
  });

  app.post(`${mount}/:uid/totp`, { config: { throttle: 'login' } }, async (request, reply) => {
    const uid = uidOf(request, reply);
    if (!uid) return reply;
    const posted = await postedSession(request, reply, uid);
    if (!posted) return reply;
    const { session, form } = posted;
    const details = await interaction(request, reply, uid);
    if (!details) return reply;
    if (details.prompt !== 'login' || session.stage !== 'password' || !session.customerId) {
      return redirectToPage(reply, uid);
    }
    if (!(await authorisableIntent(reply, details, session))) return reply;
    const customerId = session.customerId;
    const step = await totpStep({ ctx, policy }, { ...session, customerId }, form);
    if (step.outcome === 'locked') {
      if (step.token) setSessionCookie(reply, uid, step.token);
      return lockedPage(reply, details, session, step.lockedUntil);
    }
    if (step.outcome === 'retry')
      return sendPage(
        reply,
        step.status,
        totpPage(frame, {
          base: `${mount}/${uid}`,
          csrf: csrfToken(reply),
          tpp: tppOf(details),
          error: step.error,
        }),
      );
    const token = step.token;
    if (!token) return redirectToPage(reply, uid);
    setSessionCookie(reply, uid, token);
    reply.hijack();
    await finishOrFail(request, reply, () =>
      bridge.finishLogin(request.raw, reply.raw, {
        customerId,
        acr: acrFor(details),
        amr: ['pwd', 'otp', 'mfa'],
      }),
    );
    return reply;
  });

  app.post(`${mount}/:uid/consent`, async (request, reply) => {
    const uid = uidOf(request, reply);
    if (!uid) return reply;
    const posted = await postedSession(request, reply, uid);
    if (!posted) return reply;
    const { session, form } = posted;
    const details = await interaction(request, reply, uid);
    if (!details) return reply;
    if (details.prompt !== 'consent') return redirectToPage(reply, uid);
    const intent = await authorisableIntent(reply, details, session);
    if (!intent) return reply;
    const choice = await consentChoice(reply, details, intent);
    if (!choice) return reply;
    const decision = field(form, 'decision');
    if (decision === 'reject') {
      const rejected = await decide(reply, details, session, () =>
        reject(ctx, intent.id, { actor: 'psu', detail: `rejected by customer ${choice.customer.id}` }),
      );
      if (!rejected) return reply;
      await endSession(ctx, session);
      clearSessionCookie(reply, uid);
      reply.hijack();
      await finishOrFail(request, reply, () =>
        bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer rejected the request'),
      );
      return reply;
    }
    if (decision !== 'approve') {
      return renderConsent(reply, 400, details, intent, session, choice, {
        error: 'Choose Approve or Reject.',
      });
    }
    const eligibleIds = new Set(choice.eligible.map((account) => account.id));
    const selected = [...new Set(fieldList(form, 'accounts'))];
    const select = KIND_INFO[intent.kind].accounts;
    const valid =
      selected.length > 0 &&
      selected.every((id) => eligibleIds.has(id)) &&
      (select === 'many' || selected.length === 1);
    if (!valid) {
      return renderConsent(reply, 400, details, intent, session, choice, {
        error: select === 'one' ? 'Choose the account to use.' : 'Choose at least one account.',
        selected: selected.filter((id) => eligibleIds.has(id)),
      });
    }
    const authorised = await decide(reply, details, session, () =>
      authorise(ctx, intent.id, { customerId: choice.customer.id, accountIds: selected }),
    );
    if (!authorised) return reply;
    await endSession(ctx, session);
    clearSessionCookie(reply, uid);
    reply.hijack();
    await finishOrFail(request, reply, () =>
      bridge.finishConsent(request.raw, reply.raw, { intentId: intent.id, scopes: details.scopes }),
    );
    return reply;
  });

  app.post(`${mount}/:uid/cancel`, async (request, reply) => {
    const uid = uidOf(request, reply);
    if (!uid) return reply;
    const posted = await postedSession(request, reply, uid);
    if (!posted) return reply;
    const details = await interaction(request, reply, uid);
    if (!details) return reply;
    const intent = await getIntent(ctx.db, details.intentId);
    if (intent && intent.clientId === details.clientId && intent.status === 'AwaitingAuthorisation') {
      try {
        await reject(ctx, intent.id, { actor: 'psu', detail: 'cancelled by the customer' });
      } catch (error) {
        if (!(error instanceof IntentTransitionError)) throw error;
      }
    }
    await endSession(ctx, posted.session);
    clearSessionCookie(reply, uid);
    reply.hijack();
    await finishOrFail(request, reply, () =>
      bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer cancelled the request'),
    );
    return reply;
  });

  const headlessGate = async (_request: FastifyRequest, reply: FastifyReply) => {
    // Before the body is read: a disabled sandbox feature answers 404 to anything.
    if (!options.headlessApproval) {
      await reply.code(404).send({ error: 'not_found', error_description: 'headless approval is disabled' });
    }
  };

  app.post(`${mount}/:uid/sandbox-approve`, { onRequest: headlessGate }, async (request, reply) => {
    const uid = (request.params as { uid?: string }).uid;
    const body = HEADLESS_BODY.safeParse(request.body);
    if (!uid || !UID.test(uid) || !body.success) {
      return reply.code(400).send({
        error: 'invalid_request',
        error_description:
          'expected JSON { "username": string, "decision": "approve"|"reject", "accounts"?: string[] }',
      });
    }
    let details: InteractionDetails;
    try {
      details = await bridge.details(request.raw, reply.raw);
      if (details.uid !== uid) throw new Error('interaction uid mismatch');
    } catch {
      return reply
        .code(400)
        .send({ error: 'invalid_request', error_description: 'no live interaction (send its cookies)' });
    }
    const intent = await getIntent(ctx.db, details.intentId);
    const check = checkIntentAuthorisable(intent, details.clientId, details.scopes, clock.now());
    if (!check.ok) return reply.code(409).send({ error: check.reason, error_description: check.message });
    const customer = await customers.findCustomerByUsername(body.data.username);
    if (!customer)
      return reply.code(400).send({ error: 'unknown_user', error_description: 'no such customer' });
    if (details.prompt === 'consent' && details.customerId !== customer.id) {
      return reply
        .code(409)
        .send({ error: 'wrong_user', error_description: 'the interaction is logged in as another customer' });
    }
    const login = { customerId: customer.id, acr: acrFor(details), amr: ['pwd', 'otp', 'mfa'] };
    if (body.data.decision === 'reject') {
      try {
        await reject(ctx, check.intent.id, {
          actor: 'psu',
          detail: `rejected by ${customer.id} (sandbox headless)`,
        });
      } catch (error) {
        if (error instanceof IntentTransitionError) {
          return reply.code(409).send({ error: error.reason, error_description: error.message });
        }
        throw error;
      }
      reply.hijack();
      await finishOrFail(request, reply, () =>
        bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer rejected the request'),
      );
      return reply;
    }
    const { eligible, debtorNotHeld } = eligibleAccounts(
      check.intent,
      await customers.listCustomerAccounts(customer.id),
    );
    const eligibleIds = eligible.map((account) => account.id);
    const select = KIND_INFO[check.intent.kind].accounts;
    const requested = body.data.accounts ?? (select === 'one' ? eligibleIds.slice(0, 1) : eligibleIds);
    if (debtorNotHeld || requested.length === 0 || requested.some((id) => !eligibleIds.includes(id))) {
      return reply.code(400).send({
        error: 'invalid_accounts',
        error_description: `choose from the customer's eligible accounts: ${eligibleIds.join(', ') || '(none)'}`,
      });
    }
    if (select === 'one' && requested.length !== 1) {
      return reply
        .code(400)
        .send({ error: 'invalid_accounts', error_description: 'choose exactly one account' });
    }
    try {
      await authorise(ctx, check.intent.id, {
        customerId: customer.id,
        accountIds: requested,
        detail: `customer ${customer.id} (sandbox headless); accounts ${requested.join(', ')}`,
      });
    } catch (error) {
      if (error instanceof IntentTransitionError) {
        return reply.code(409).send({ error: error.reason, error_description: error.message });
      }
      throw error;
    }
    const consent = { intentId: check.intent.id, scopes: details.scopes };
    reply.hijack();
    await finishOrFail(request, reply, () =>
      details.prompt === 'login'
        ? bridge.finishLoginAndConsent(request.raw, reply.raw, login, consent)
        : bridge.finishConsent(request.raw, reply.raw, consent),
    );
    return reply;
  });

  /** Runs a lifecycle change; a refused one (lost race, expired meanwhile) becomes an error page. */
  async function decide(
    reply: FastifyReply,
    details: InteractionDetails,
    session: ConsentSession,
    change: () => Promise<Intent>,
  ): Promise<Intent | undefined> {
    try {
      return await change();
    } catch (error) {
      if (!(error instanceof IntentTransitionError)) throw error;
      const reason: NotAuthorisableReason =
        error.reason === 'expired' ? 'expired' : 'not_awaiting_authorisation';
      sendPage(
        reply,
        409,
        errorPageOf(reply, {
          ...INTENT_REFUSALS[reason],
          cancel: { base: `${mount}/${details.uid}`, csrf: csrfToken(reply), tppName: tppOf(details).name },
        }),
      );
      return undefined;
    }
  }

  /** Lets the bridge write its redirect; if it fails before writing, a plain error page is written instead. */
  async function finishOrFail(request: FastifyRequest, reply: FastifyReply, finish: () => Promise<void>) {
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
  }
}
