import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken, sendPage } from '../../../shared/page-kit/index.ts';
import { ACR_CA, ACR_SCA, type InteractionDetails } from '../../interaction-bridge.ts';
import { passwordStep, totpStep } from '../login-steps.ts';
import { loginPage, totpPage } from '../pages.ts';
import type { InteractionScope } from './scope.ts';

/**
 * The `acr` to report after password + TOTP: strong customer authentication satisfies both OB values, so
 * report SCA when it was asked for, else the (weaker) value that was asked for, so an essential request holds.
 */
export function acrFor(details: InteractionDetails): string {
  if (details.acrValues.length === 0 || details.acrValues.includes(ACR_SCA)) return ACR_SCA;
  return details.acrValues.includes(ACR_CA) ? ACR_CA : ACR_SCA;
}

/** `POST /:uid/login`: username and password; on success back to the page (now asking for the code). */
export function passwordPosted(scope: InteractionScope) {
  const { ctx, customers, policy } = scope;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const posted = await scope.posted(request, reply);
    if (!posted) return reply;
    const { uid, session, form, details } = posted;
    if (details.prompt !== 'login') return scope.redirectToPage(reply, uid);
    if (!(await scope.authorisableIntent(reply, details, session))) return reply;
    const step = await passwordStep({ ctx, customers, policy }, session, form);
    if (step.outcome === 'locked') return scope.lockedPage(reply, details, step.lockedUntil);
    if (step.outcome === 'retry')
      return sendPage(
        reply,
        step.status,
        loginPage(scope.frame, {
          base: `${scope.mount}/${uid}`,
          csrf: csrfToken(reply),
          tpp: scope.tppOf(details),
          error: step.error,
          ...(step.username !== undefined ? { username: step.username } : {}),
        }),
      );
    if (step.token) scope.setSessionCookie(reply, uid, step.token);
    return scope.redirectToPage(reply, uid);
  };
}

/** `POST /:uid/totp`: the code; on success the bridge finishes the login prompt. */
export function totpPosted(scope: InteractionScope) {
  const { ctx, policy, bridge } = scope;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const posted = await scope.posted(request, reply);
    if (!posted) return reply;
    const { uid, session, form, details } = posted;
    if (details.prompt !== 'login' || session.stage !== 'password' || !session.customerId) {
      return scope.redirectToPage(reply, uid);
    }
    if (!(await scope.authorisableIntent(reply, details, session))) return reply;
    const customerId = session.customerId;
    const step = await totpStep({ ctx, policy }, { ...session, customerId }, form);
    if (step.outcome === 'locked') {
      if (step.token) scope.setSessionCookie(reply, uid, step.token);
      return scope.lockedPage(reply, details, step.lockedUntil);
    }
    if (step.outcome === 'retry')
      return sendPage(
        reply,
        step.status,
        totpPage(scope.frame, {
          base: `${scope.mount}/${uid}`,
          csrf: csrfToken(reply),
          tpp: scope.tppOf(details),
          error: step.error,
        }),
      );
    const token = step.token;
    if (!token) return scope.redirectToPage(reply, uid);
    scope.setSessionCookie(reply, uid, token);
    return scope.finishOrFail(request, reply, () =>
      bridge.finishLogin(request.raw, reply.raw, {
        customerId,
        acr: acrFor(details),
        amr: ['pwd', 'otp', 'mfa'],
      }),
    );
  };
}
