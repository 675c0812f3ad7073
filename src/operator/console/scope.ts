import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RevocationNotifier } from '../../consent/index.ts';
import {
  csrfToken,
  installPageKit,
  PAGE_SECURITY_SECRET_SETTING,
  readCookie,
  html,
} from '../../shared/page-kit/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { ParticipantStatusChange } from '../../shared/participant-status.ts';
import { loadOrCreateSecret, type Queryable } from '../../store/index.ts';
import type { Operator } from '../accounts.ts';
import { appendAudit } from '../audit.ts';
import { operatorOfSession } from '../sessions.ts';
import { CONSOLE_BASE, consoleLayout } from './pages.ts';

export interface ConsoleDependencies {
  db: Queryable;
  clock: Clock;
  /** The consent revocation fan-out the customer's dashboard uses: tokens die on every instance. */
  notifyRevoked: RevocationNotifier;
  /** Announces a participant status change to every instance (caches and tokens of its clients dropped). */
  announceParticipantStatus(change: ParticipantStatusChange): Promise<void>;
}

export const OPERATOR_COOKIE = '__Host-obkit-operator';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** On the console: the role a route needs (`admin` to act); absent, any signed-in operator. */
    operatorRole?: 'admin';
    /** On the console: served without a session (the login page, the stylesheet). */
    operatorPublic?: boolean;
  }
}

const operators = new WeakMap<FastifyRequest, Operator>();

/** The signed-in operator of a console request (every route but the public ones has one). */
export function operatorOf(request: FastifyRequest): Operator {
  const operator = operators.get(request);
  if (!operator) throw new Error('operatorOf: not a signed-in console route');
  return operator;
}

/**
 * What every console route works with: the database and clock, and the answers they share — a console page,
 * a redirect, a refusal, an audit line in the operator's name.
 */
export type ConsoleScope = Awaited<ReturnType<typeof consoleScope>>;

/**
 * Installs the page kit in the console's scope (every problem is a console page) and the session and role
 * check that runs before every handler, and returns the shared steps of the routes.
 */
export async function consoleScope(app: FastifyInstance, deps: ConsoleDependencies) {
  const { db, clock } = deps;
  const page = (reply: FastifyReply, status: number, title: string, body: ReturnType<typeof html>) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(consoleLayout(operators.get(reply.request), csrfToken(reply), title, body));
  const redirect = (reply: FastifyReply, to: string) => reply.code(303).header('location', to).send();
  const refused = (reply: FastifyReply, message: string) =>
    page(reply, 403, 'Not allowed', html`<p class="error" role="alert">${message}</p>`);
  const audit = (
    request: FastifyRequest,
    record: Omit<Parameters<typeof appendAudit>[2], 'actor' | 'address'>,
  ) =>
    appendAudit(db, clock, { actor: `operator:${operatorOf(request).name}`, address: request.ip, ...record });

  // Every problem (CSRF refusal, database down, unreadable request, failure) is a console page.
  installPageKit(app, {
    name: 'operator console',
    secret: await loadOrCreateSecret(db, PAGE_SECURITY_SECRET_SETTING),
    problem: (_request, reply, problem) => {
      switch (problem.kind) {
        case 'form-expired':
          return refused(
            reply,
            'This form has expired or did not come from the console. Go back, reload the page and try again.',
          );
        case 'unavailable':
          return page(
            reply,
            503,
            'Unavailable',
            html`<p class="error" role="alert">The database cannot be reached. Try again in a moment.</p>`,
          );
        case 'bad-request':
          return page(
            reply,
            problem.status,
            'Bad request',
            html`<p class="error" role="alert">The request could not be read.</p>`,
          );
        default:
          return page(
            reply,
            500,
            'Something went wrong',
            html`<p class="error" role="alert">The console failed to answer; the log has the details.</p>`,
          );
      }
    },
  });

  // Who is asking, before anything else: without a session, pages send to the login and forms are refused.
  app.addHook('preHandler', async (request, reply) => {
    const config = request.routeOptions.config;
    if (config.operatorPublic) return;
    const operator = await operatorOfSession(db, clock, readCookie(request.headers.cookie, OPERATOR_COOKIE));
    if (!operator) {
      if (request.method === 'GET' || request.method === 'HEAD')
        return redirect(reply, `${CONSOLE_BASE}/login`);
      return refused(reply, 'Your session has ended. Log in again.');
    }
    operators.set(request, operator);
    if (config.operatorRole === 'admin' && operator.role !== 'admin') {
      request.log.info(
        { operator: operator.name, path: request.url },
        'console action refused: not an admin',
      );
      await audit(request, {
        action: 'operator.refused',
        subject: request.url.split('?')[0] ?? '',
        detail: { method: request.method, role: operator.role },
      });
      return refused(reply, `Your role (${operator.role}) may read but not act.`);
    }
  });

  const isAdmin = (request: FastifyRequest) => operatorOf(request).role === 'admin';
  return { db, clock, deps, page, redirect, refused, audit, isAdmin };
}
