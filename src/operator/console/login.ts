import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  appendSetCookie,
  csrfToken,
  expiredCookie,
  field,
  readCookie,
  sessionCookie,
  type Form,
} from '../../shared/page-kit/index.ts';
import { checkOperatorLogin } from '../accounts.ts';
import { endOperatorSession, OPERATOR_SESSION_SECONDS, startOperatorSession } from '../sessions.ts';
import { CONSOLE_BASE, loginBody, when } from './pages.ts';
import { OPERATOR_COOKIE, type ConsoleScope } from './scope.ts';

/**
 * The operator's session cookie is SameSite=Strict: no page outside the console links into it with a session
 * (unlike the consent app's, which must ride the TPP's redirect back, hence page-kit's Lax default).
 */
const STRICT = { sameSite: 'Strict' } as const;

/** `GET /console/login`: the login form. */
export function loginPage(scope: ConsoleScope) {
  const { page } = scope;
  return async (_request: FastifyRequest, reply: FastifyReply) => {
    return page(reply, 200, 'Log in', loginBody({ csrf: csrfToken(reply) }));
  };
}

/** `POST /console/login`: name, password and TOTP code; on success a session and the TPP list. */
export function loginPosted(scope: ConsoleScope) {
  const { db, clock, page, redirect } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const form = request.body as Form;
    const name = (field(form, 'name') ?? '').trim().toLowerCase();
    const result = await checkOperatorLogin(db, clock, {
      name,
      password: field(form, 'password') ?? '',
      code: field(form, 'code') ?? '',
      address: request.ip,
    });
    if (!result.ok) {
      const error =
        result.reason === 'locked'
          ? `Too many failed logins: this account is locked until ${when(result.lockedUntil)}.`
          : 'The name, password or code is not right.';
      return page(
        reply,
        result.reason === 'locked' ? 423 : 401,
        'Log in',
        loginBody({ csrf: csrfToken(reply), error, name }),
      );
    }
    const token = await startOperatorSession(db, clock, result.operator);
    appendSetCookie(reply.raw, sessionCookie(OPERATOR_COOKIE, '/', token, OPERATOR_SESSION_SECONDS, STRICT));
    return redirect(reply, `${CONSOLE_BASE}/tpps`);
  };
}

/** `POST /console/logout`: ends the session. */
export function logoutPosted(scope: ConsoleScope) {
  const { db, audit, redirect } = scope;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    await endOperatorSession(db, readCookie(request.headers.cookie, OPERATOR_COOKIE));
    await audit(request, { action: 'operator.logout' });
    appendSetCookie(reply.raw, expiredCookie(OPERATOR_COOKIE, '/', STRICT));
    return redirect(reply, `${CONSOLE_BASE}/login`);
  };
}
