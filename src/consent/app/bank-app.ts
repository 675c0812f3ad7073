import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { csrfToken, field, fieldList, PAGE_SECURITY_SECRET_SETTING } from '../../shared/page-kit/index.ts';
import { loadOrCreateSecret, type Queryable } from '../../store/index.ts';
import { checkIntentAuthorisable } from '../authorisable.ts';
import { checkTotp, DEFAULT_CREDENTIAL_POLICY, type CredentialPolicy } from '../credentials.ts';
import { eligibleAccounts, type CustomerDirectory, type PsuCustomer } from '../customers.ts';
import { describeIntent } from '../describe.ts';
import {
  authorise,
  getIntent,
  IntentTransitionError,
  reject,
  revoke,
  type ConsentContext,
  type Intent,
  type RevocationNotifier,
} from '../intents.ts';
import { ACR_CA, ACR_SCA } from '../interaction-bridge.ts';
import { KIND_INFO } from '../kinds.ts';
import { DecoupledStateError, type DecoupledBridge, type DecoupledRequest } from './bank-app-bridge.ts';
import {
  BANK_APP_SCRIPT,
  BANK_APP_STYLES,
  bankAppHome,
  bankAppLogin,
  bankAppReview,
  pendingFragment,
} from './bank-app-pages.ts';
import { cookieSessionApp } from './cookie-session.ts';
import { errorPage, factorFailureMessage, type PageFrame } from './pages.ts';
import { createSession, endSession, type ConsentSession } from './sessions.ts';

/**
 * The "bank app" for decoupled (CIBA) authorisation, on the browser listener: the customer logs in with
 * their password (a separate login from the consent pages and the dashboard), sees the requests TPPs
 * have sent for them — the list refreshes by itself — and approves one with their security code (TOTP:
 * password + code is strong customer authentication for that approval) or denies it.
 *
 *   GET  /                     login, or the pending requests
 *   GET  /pending              the list as an HTML fragment (what the page's script polls)
 *   POST /login, /logout
 *   GET  /requests/:id         the request in plain words, the binding message, accounts, code
 *   POST /requests/:id         decision=approve (accounts, code) | deny
 */
export interface BankAppOptions {
  db: Queryable;
  clock?: Clock;
  customers: CustomerDirectory;
  decoupled: DecoupledBridge;
  /** The platform's revocation fan-out (an approval that could not be delivered is withdrawn). */
  notifyRevoked: RevocationNotifier;
  credentialPolicy?: CredentialPolicy;
  /** Default 15 minutes. */
  sessionTtlSeconds?: number;
  bankName?: string;
  /** Sandbox only: the login pages say how to log in as a sandbox customer. */
  sandbox?: boolean;
  /** Default `/bank-app`. */
  mountPath?: string;
}

export const BANK_APP_COOKIE = 'obkit_bank_app';
/** Bank-app sessions share the consent session table under this pseudo interaction id. */
const BANK_APP_SESSION = 'bank-app';
const REQUEST_ID = /^[A-Za-z0-9_-]{10,128}$/;

export async function bankApp(app: FastifyInstance, options: BankAppOptions): Promise<void> {
  const clock = options.clock ?? systemClock;
  const ctx: ConsentContext = { db: options.db, clock };
  const policy = options.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY;
  const ttl = options.sessionTtlSeconds ?? 15 * 60;
  const base = (options.mountPath ?? '/bank-app').replace(/\/+$/, '');
  const frame: PageFrame = {
    mountPath: base,
    bankName: options.bankName ?? 'obkit bank',
    sandbox: options.sandbox === true,
  };
  const { customers, decoupled } = options;

  const { page, redirect, setCookie, clearCookie, currentSession, posted, lockedPage, mountLoginAndLogout } =
    cookieSessionApp(app, {
      ctx,
      frame,
      base,
      cookieName: BANK_APP_COOKIE,
      sessionKey: BANK_APP_SESSION,
      ttlSeconds: ttl,
      name: 'bank app',
      secret: await loadOrCreateSecret(options.db, PAGE_SECURITY_SECRET_SETTING),
      // The bank app runs one same-origin script (the live list) that fetches from its own origin only.
      headers: { sameOriginScripts: true },
      extraStyles: BANK_APP_STYLES,
    });

  /** Logged in to the bank app: the password stage (each approval then asks for the code). */
  async function customerOf(session: ConsentSession | undefined): Promise<PsuCustomer | undefined> {
    if (!session || session.stage !== 'password' || !session.customerId) return undefined;
    return customers.getCustomer(session.customerId);
  }

  function goneRequest(reply: FastifyReply): FastifyReply {
    return page(
      reply,
      404,
      errorPage(frame, {
        title: 'This request is no longer waiting',
        message: 'It was answered, it expired, or it was not sent to you. Go back to your requests.',
        details: [`Your requests: ${base}`],
      }),
    );
  }

  interface Review {
    request: DecoupledRequest;
    intent: Intent;
    customer: PsuCustomer;
  }

  /** The logged-in customer's waiting request and its intent, or a page already sent. */
  async function reviewOf(request: FastifyRequest, reply: FastifyReply, session: ConsentSession | undefined) {
    const customer = await customerOf(session);
    if (!customer) {
      redirect(reply, base);
      return undefined;
    }
    const id = (request.params as { id?: string }).id ?? '';
    if (!REQUEST_ID.test(id)) {
      goneRequest(reply);
      return undefined;
    }
    const found = (await decoupled.pending(customer.id)).find((item) => item.id === id);
    if (!found) {
      goneRequest(reply);
      return undefined;
    }
    const intent = await getIntent(ctx.db, found.intentId);
    const check = checkIntentAuthorisable(intent, found.clientId, found.scopes, clock.now());
    if (!check.ok) {
      page(
        reply,
        409,
        errorPage(frame, {
          title: 'This request cannot be approved',
          message: `${check.message}. Deny it, or ask ${found.clientName} to start again.`,
        }),
      );
      return undefined;
    }
    return { request: found, intent: check.intent, customer } satisfies Review;
  }

  async function renderReview(
    reply: FastifyReply,
    status: number,
    session: ConsentSession,
    review: Review,
    extra: { error?: string; selected?: string[] } = {},
  ): Promise<FastifyReply> {
    const { eligible } = eligibleAccounts(
      review.intent,
      await customers.listCustomerAccounts(review.customer.id),
    );
    return page(
      reply,
      status,
      bankAppReview(frame, {
        base,
        csrf: csrfToken(reply),
        request: review.request,
        description: describeIntent(review.intent, review.request.clientName),
        accounts: eligible,
        select: KIND_INFO[review.intent.kind].accounts,
        ...extra,
      }),
    );
  }

  app.get(`${base}/assets/live.js`, async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=3600')
      .send(BANK_APP_SCRIPT),
  );

  app.get(base, async (request, reply) => {
    let session = await currentSession(request);
    if (!session) {
      const created = await createSession(ctx, BANK_APP_SESSION, ttl);
      setCookie(reply, created.token);
      session = created.session;
    }
    const customer = await customerOf(session);
    if (!customer) return page(reply, 200, bankAppLogin(frame, { base, csrf: csrfToken(reply) }));
    const done = (request.query as { done?: unknown }).done;
    return page(
      reply,
      200,
      bankAppHome(frame, {
        base,
        csrf: csrfToken(reply),
        customerName: customer.displayName,
        requests: await decoupled.pending(customer.id),
        notice:
          done === 'approved'
            ? 'Approved. The app can now go ahead.'
            : done === 'denied'
              ? 'Denied. The app has been told.'
              : undefined,
      }),
    );
  });

  app.get(`${base}/pending`, async (request, reply) => {
    const customer = await customerOf(await currentSession(request));
    if (!customer) return reply.code(401).type('text/plain; charset=utf-8').send('log in again');
    return page(reply, 200, pendingFragment(base, await decoupled.pending(customer.id)));
  });

  mountLoginAndLogout({ ctx, customers, policy }, (form) => bankAppLogin(frame, { base, ...form }));

  app.get(`${base}/requests/:id`, async (request, reply) => {
    const session = await currentSession(request);
    const review = await reviewOf(request, reply, session);
    if (!review || !session) return reply;
    return renderReview(reply, 200, session, review);
  });

  app.post(`${base}/requests/:id`, async (request, reply) => {
    const form = await posted(request, reply);
    if (!form) return reply;
    const { session } = form;
    const review = await reviewOf(request, reply, session);
    if (!review) return reply;
    const { request: pending, intent, customer } = review;
    const decision = field(form.form, 'decision');

    if (decision === 'deny') {
      try {
        await reject(ctx, intent.id, {
          actor: 'psu',
          detail: `denied by customer ${customer.id} in the bank app`,
        });
      } catch (error) {
        if (!(error instanceof IntentTransitionError)) throw error;
      }
      try {
        await decoupled.deny(pending.id, customer.id, 'The customer denied the request');
      } catch (error) {
        if (error instanceof DecoupledStateError) return goneRequest(reply);
        throw error;
      }
      return redirect(reply, `${base}?done=denied`);
    }
    if (decision !== 'approve') {
      return renderReview(reply, 400, session, review, { error: 'Choose Approve or Deny.' });
    }

    const { eligible, debtorNotHeld } = eligibleAccounts(
      intent,
      await customers.listCustomerAccounts(customer.id),
    );
    const eligibleIds = new Set(eligible.map((account) => account.id));
    const selected = [...new Set(fieldList(form.form, 'accounts'))];
    const select = KIND_INFO[intent.kind].accounts;
    if (
      debtorNotHeld ||
      selected.length === 0 ||
      selected.some((id) => !eligibleIds.has(id)) ||
      (select === 'one' && selected.length !== 1)
    ) {
      return renderReview(reply, 400, session, review, {
        error: select === 'one' ? 'Choose the account to use.' : 'Choose at least one account.',
        selected: selected.filter((id) => eligibleIds.has(id)),
      });
    }

    const code = (field(form.form, 'code') ?? '').replace(/\s/g, '');
    const factor = await checkTotp(ctx, customer.id, code, policy);
    if (!factor.ok) {
      if (factor.reason === 'locked') {
        await endSession(ctx, session);
        clearCookie(reply);
        return lockedPage(reply, factor.lockedUntil);
      }
      return renderReview(reply, 401, session, review, {
        error: factorFailureMessage(factor, 'code'),
        selected,
      });
    }

    try {
      await authorise(ctx, intent.id, {
        customerId: customer.id,
        accountIds: selected,
        detail: `customer ${customer.id} in the bank app (decoupled); accounts ${selected.join(', ')}`,
      });
    } catch (error) {
      if (!(error instanceof IntentTransitionError)) throw error;
      return goneRequest(reply);
    }
    const acr = pending.acrValues.includes(ACR_SCA) || !pending.acrValues.includes(ACR_CA) ? ACR_SCA : ACR_CA;
    try {
      await decoupled.approve(pending.id, customer.id, {
        customerId: customer.id,
        acr,
        amr: ['pwd', 'otp', 'mfa'],
      });
    } catch (error) {
      if (!(error instanceof DecoupledStateError)) throw error;
      // The request expired or was answered elsewhere between the check and now: the intent was
      // authorised for nothing, so it is withdrawn (no token rests on it yet).
      await revoke({ ...ctx, notifyRevoked: options.notifyRevoked }, intent.id, {
        actor: 'system',
        detail: `the decoupled request could not be answered: ${error.message}`,
      }).catch(() => undefined);
      return goneRequest(reply);
    }
    return redirect(reply, `${base}?done=approved`);
  });
}
