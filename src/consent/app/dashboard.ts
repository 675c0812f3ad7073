import type { FastifyInstance, FastifyReply } from 'fastify';
import { systemClock, type Clock } from '../../shared/clock.ts';
import { csrfToken, PAGE_SECURITY_SECRET_SETTING } from '../../shared/page-kit/index.ts';
import { loadOrCreateSecret, type Queryable } from '../../store/index.ts';
import { DEFAULT_CREDENTIAL_POLICY, type CredentialPolicy } from '../credentials.ts';
import type { CustomerDirectory, PsuAccount, PsuCustomer, PsuPayment } from '../customers.ts';
import { describeIntent } from '../describe.ts';
import { KIND_INFO } from '../kinds.ts';
import {
  getIntent,
  IntentTransitionError,
  listAudit,
  listIntentsForCustomer,
  stopSharingAccount,
  withdrawAccess,
  type ConsentChangeNotifier,
  type ConsentContext,
  type Intent,
  type RevocationNotifier,
} from '../intents.ts';
import {
  accountName,
  canWithdraw,
  consentDetailsPage,
  consentState,
  dashboardPage,
  withdrawPage,
  type TppConsents,
} from './dashboard-pages.ts';
import { cookieSessionApp } from './cookie-session.ts';
import { totpStep } from './login-steps.ts';
import { errorPage, loginPage, totpPage, type PageFrame, type Tpp } from './pages.ts';
import { createSession, type ConsentSession } from './sessions.ts';

/**
 * The PSU's consent dashboard (the bank's own pages, no TPP involved): log in with password and TOTP, see
 * every consent granted, per TPP, with what it allows, when it was granted, last used and expiry, its
 * history; withdraw it after a confirmation. Withdrawal is `withdrawAccess` with actor `psu` (account access
 * and VRP stay Authorised, re-authenticatable, their access withdrawn; funds confirmation is revoked), so the
 * notifier fans it out and every token resting on the consent stops working at once.
 *
 *   GET  /                     login → TOTP → the list
 *   POST /login, /totp, /logout
 *   GET  /consents/:id         details and history
 *   GET  /consents/:id/revoke  confirmation
 *   POST /consents/:id/revoke  withdraw
 *   POST /consents/:id/stop-sharing  stop sharing one account (`account`), keep the others
 */
export interface TppDirectory {
  /** The TPP's display name and logo for an OAuth client id; undefined when unknown (deleted client). */
  describe(clientId: string): Promise<{ name: string; logoUri?: string } | undefined>;
}

export interface ConsentDashboardOptions {
  db: Queryable;
  clock?: Clock;
  customers: CustomerDirectory;
  notifyRevoked: RevocationNotifier;
  /**
   * Fans out an account the PSU stopped sharing (caches drop the consent, tokens stay). Without it the
   * dashboard offers withdrawal only.
   */
  notifyChanged?: ConsentChangeNotifier;
  tpps?: TppDirectory;
  credentialPolicy?: CredentialPolicy;
  /** Default 15 minutes. */
  sessionTtlSeconds?: number;
  bankName?: string;
  /** Sandbox only: the login pages say how to log in as a sandbox customer. */
  sandbox?: boolean;
  /** Default `/dashboard`. */
  mountPath?: string;
}

export const DASHBOARD_COOKIE = 'obkit_dashboard';
/** Dashboard sessions share the consent-app session table under this pseudo interaction id. */
const DASHBOARD_SESSION = 'dashboard';
const INTENT_ID = /^[a-z]{3,5}-[0-9a-f-]{36}$/;

export async function consentDashboard(
  app: FastifyInstance,
  options: ConsentDashboardOptions,
): Promise<void> {
  const clock = options.clock ?? systemClock;
  const ctx: ConsentContext = { db: options.db, clock };
  const policy = options.credentialPolicy ?? DEFAULT_CREDENTIAL_POLICY;
  const ttl = options.sessionTtlSeconds ?? 15 * 60;
  const base = (options.mountPath ?? '/dashboard').replace(/\/+$/, '');
  const frame: PageFrame = {
    mountPath: base,
    bankName: options.bankName ?? 'obkit bank',
    sandbox: options.sandbox === true,
  };
  const { customers } = options;

  const { page, redirect, setCookie, currentSession, posted, lockedPage, mountLoginAndLogout } =
    cookieSessionApp(app, {
      ctx,
      frame,
      base,
      cookieName: DASHBOARD_COOKIE,
      sessionKey: DASHBOARD_SESSION,
      ttlSeconds: ttl,
      name: 'dashboard',
      secret: await loadOrCreateSecret(options.db, PAGE_SECURITY_SECRET_SETTING),
    });
  const login = { ctx, customers, policy };

  /** The logged-in customer, or undefined (the caller shows the login). */
  async function customerOf(session: ConsentSession | undefined): Promise<PsuCustomer | undefined> {
    if (!session || session.stage !== 'authenticated' || !session.customerId) return undefined;
    return customers.getCustomer(session.customerId);
  }

  async function tppOf(clientId: string): Promise<Tpp> {
    const known = await options.tpps?.describe(clientId);
    return { name: known?.name ?? clientId, logoUri: known?.logoUri };
  }

  /** What the bank did with the payments made under a payment consent (none for other kinds). */
  async function paymentsOf(intent: Intent): Promise<PsuPayment[]> {
    return KIND_INFO[intent.kind].scope === 'payments' ? customers.listConsentPayments(intent.id) : [];
  }

  /** The customer's own consent, or a 404 page (never tells whether someone else's exists). */
  async function ownConsent(
    reply: FastifyReply,
    customer: PsuCustomer,
    id: string,
  ): Promise<{ intent: Intent; accounts: PsuAccount[]; tpp: Tpp } | undefined> {
    const intent = INTENT_ID.test(id) ? await getIntent(ctx.db, id) : undefined;
    if (!intent || intent.customerId !== customer.id) {
      page(reply, 404, errorPage(frame, { title: 'Not found', message: 'We cannot find that consent.' }));
      return undefined;
    }
    return {
      intent,
      accounts: await customers.listCustomerAccounts(customer.id),
      tpp: await tppOf(intent.clientId),
    };
  }

  app.get(base, async (request, reply) => {
    let session = await currentSession(request);
    if (!session) {
      const created = await createSession(ctx, DASHBOARD_SESSION, ttl);
      setCookie(reply, created.token);
      session = created.session;
    }
    if (session.stage === 'password') {
      return page(reply, 200, totpPage(frame, { base, csrf: csrfToken(reply) }));
    }
    const customer = await customerOf(session);
    if (!customer) return page(reply, 200, loginPage(frame, { base, csrf: csrfToken(reply) }));
    const intents = await listIntentsForCustomer(ctx.db, customer.id);
    const accounts = await customers.listCustomerAccounts(customer.id);
    const now = clock.now();
    const groups = new Map<string, TppConsents>();
    for (const intent of intents) {
      let group = groups.get(intent.clientId);
      if (!group) {
        group = { clientId: intent.clientId, tpp: await tppOf(intent.clientId), consents: [] };
        groups.set(intent.clientId, group);
      }
      const payments = await paymentsOf(intent);
      group.consents.push({ intent, state: consentState(intent, now, payments), accounts, payments });
    }
    const query = request.query as { revoked?: unknown };
    const revoked =
      typeof query.revoked === 'string' ? intents.find((i) => i.id === query.revoked) : undefined;
    return page(
      reply,
      200,
      dashboardPage(frame, {
        base,
        csrf: csrfToken(reply),
        customerName: customer.displayName,
        groups: [...groups.values()],
        notice:
          revoked?.status === 'Revoked' || revoked?.accessWithdrawnAt !== undefined
            ? `You have withdrawn ${(await tppOf(revoked.clientId)).name}’s access.`
            : undefined,
      }),
    );
  });

  mountLoginAndLogout(login, (form) => loginPage(frame, { base, ...form }));

  app.post(`${base}/totp`, { config: { throttle: 'login' } }, async (request, reply) => {
    const form = await posted(request, reply);
    if (!form) return reply;
    const { session } = form;
    const customerId = session.customerId;
    if (session.stage !== 'password' || !customerId) return redirect(reply, base);
    const step = await totpStep(login, { ...session, customerId }, form.form);
    if (step.outcome !== 'retry' && step.token) setCookie(reply, step.token);
    if (step.outcome === 'locked') return lockedPage(reply, step.lockedUntil);
    if (step.outcome === 'retry')
      return page(reply, step.status, totpPage(frame, { base, csrf: csrfToken(reply), error: step.error }));
    return redirect(reply, base);
  });

  app.get(`${base}/consents/:id`, async (request, reply) => {
    const customer = await customerOf(await currentSession(request));
    if (!customer) return redirect(reply, base);
    const own = await ownConsent(reply, customer, (request.params as { id: string }).id);
    if (!own) return reply;
    const now = clock.now();
    const payments = await paymentsOf(own.intent);
    return page(
      reply,
      200,
      consentDetailsPage(frame, {
        base,
        tpp: own.tpp,
        card: {
          intent: own.intent,
          state: consentState(own.intent, now, payments),
          accounts: own.accounts,
          payments,
        },
        description: describeIntent(own.intent, own.tpp.name),
        history: await listAudit(ctx.db, own.intent.id),
        withdrawable: canWithdraw(own.intent, now),
        ...(options.notifyChanged ? { stopSharingCsrf: csrfToken(reply) } : {}),
      }),
    );
  });

  app.post(`${base}/consents/:id/stop-sharing`, async (request, reply) => {
    const form = await posted(request, reply);
    if (!form) return reply;
    const customer = await customerOf(form.session);
    const notifyChanged = options.notifyChanged;
    if (!customer || !notifyChanged) return redirect(reply, base);
    const own = await ownConsent(reply, customer, (request.params as { id: string }).id);
    if (!own) return reply;
    const accountId = typeof form.form.account === 'string' ? form.form.account : '';
    try {
      await stopSharingAccount({ ...ctx, notifyChanged }, own.intent.id, accountId, {
        actor: 'psu',
        detail: accountName(own.accounts, accountId),
      });
    } catch (error) {
      if (!(error instanceof IntentTransitionError)) throw error;
      // Not shared (any more), its only account, or the consent changed meanwhile: the page shows what it is.
    }
    return redirect(reply, `${base}/consents/${own.intent.id}`);
  });

  app.get(`${base}/consents/:id/revoke`, async (request, reply) => {
    const session = await currentSession(request);
    const customer = await customerOf(session);
    if (!session || !customer) return redirect(reply, base);
    const own = await ownConsent(reply, customer, (request.params as { id: string }).id);
    if (!own) return reply;
    if (!canWithdraw(own.intent, clock.now())) return redirect(reply, `${base}/consents/${own.intent.id}`);
    return page(
      reply,
      200,
      withdrawPage(frame, { base, csrf: csrfToken(reply), tpp: own.tpp, intent: own.intent }),
    );
  });

  app.post(`${base}/consents/:id/revoke`, async (request, reply) => {
    const form = await posted(request, reply);
    if (!form) return reply;
    const customer = await customerOf(form.session);
    if (!customer) return redirect(reply, base);
    const own = await ownConsent(reply, customer, (request.params as { id: string }).id);
    if (!own) return reply;
    // Already withdrawn: withdrawing again only repeats the notification (a retry after it failed).
    const again =
      own.intent.status === 'Revoked' ||
      (own.intent.status === 'Authorised' && own.intent.accessWithdrawnAt !== undefined);
    if (!again && !canWithdraw(own.intent, clock.now()))
      return redirect(reply, `${base}/consents/${own.intent.id}`);
    try {
      await withdrawAccess({ ...ctx, notifyRevoked: options.notifyRevoked }, own.intent.id, {
        actor: 'psu',
        detail: `withdrawn by customer ${customer.id} in the dashboard`,
      });
    } catch (error) {
      if (!(error instanceof IntentTransitionError)) throw error;
      // Changed meanwhile (the TPP deleted it, or it was consumed): the details page shows what it is now.
      return redirect(reply, `${base}/consents/${own.intent.id}`);
    }
    return redirect(reply, `${base}?revoked=${encodeURIComponent(own.intent.id)}`);
  });
}
