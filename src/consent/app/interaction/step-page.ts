import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken, sendPage } from '../../../shared/page-kit/index.ts';
import { loginPage, totpPage } from '../pages.ts';
import { consentChoice, renderConsent } from './account-selection.ts';
import type { InteractionScope } from './scope.ts';
import { NOT_FOUND } from './texts.ts';

/**
 * `GET /:uid`: the page of the interaction's current step — the password, then the TOTP code (login
 * prompt), then the intent in plain words with the accounts to choose (consent prompt).
 */
export function stepPage(scope: InteractionScope) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const uid = scope.uidOf(request, reply);
    if (!uid) return reply;
    const details = await scope.interaction(request, reply, uid);
    if (!details) return reply;
    const session = (await scope.sessionOf(request, reply, uid, true))!;
    const intent = await scope.authorisableIntent(reply, details, session);
    if (!intent) return reply;
    if (details.prompt === 'login') {
      const page = { base: `${scope.mount}/${uid}`, csrf: csrfToken(reply), tpp: scope.tppOf(details) };
      return sendPage(
        reply,
        200,
        session.stage === 'password' ? totpPage(scope.frame, page) : loginPage(scope.frame, page),
      );
    }
    const choice = await consentChoice(scope, reply, details, intent);
    if (!choice) return reply;
    return renderConsent(scope, reply, 200, details, intent, choice);
  };
}

/** Anything else under the mount is a page a person followed a bad link to: a page, not the API's JSON 404. */
export function notFoundPage(scope: InteractionScope) {
  return async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> =>
    sendPage(reply, 404, scope.errorPageOf(reply, NOT_FOUND));
}
