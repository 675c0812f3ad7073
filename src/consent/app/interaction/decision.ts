import type { FastifyReply, FastifyRequest } from 'fastify';
import { field, sendPage } from '../../../shared/page-kit/index.ts';
import type { NotAuthorisableReason } from '../../authorisable.ts';
import {
  authorise,
  getIntent,
  IntentTransitionError,
  reauthenticate,
  reject,
  type Intent,
} from '../../intents.ts';
import type { InteractionDetails } from '../../interaction-bridge.ts';
import { chosenAccounts, consentChoice, renderConsent } from './account-selection.ts';
import type { InteractionScope } from './scope.ts';
import { INTENT_REFUSALS } from './texts.ts';

/**
 * `POST /:uid/consent`: approve (with the chosen accounts) or reject; the intent changes first, then the
 * bridge finishes the consent prompt or aborts with access_denied, and the session ends. On a
 * re-authentication (the intent is already Authorised) approving keeps its accounts and records the
 * re-authentication; declining changes nothing: the consent stays Authorised, as the profiles keep a
 * consent's status through re-authentication, and the TPP gets access_denied.
 */
export function decisionPosted(scope: InteractionScope) {
  const { ctx, bridge } = scope;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const posted = await scope.posted(request, reply);
    if (!posted) return reply;
    const { uid, session, form, details } = posted;
    if (details.prompt !== 'consent') return scope.redirectToPage(reply, uid);
    const intent = await scope.authorisableIntent(reply, details, session);
    if (!intent) return reply;
    const choice = await consentChoice(scope, reply, details, intent);
    if (!choice) return reply;
    const decision = field(form, 'decision');
    const reauthentication = intent.status === 'Authorised';
    if (reauthentication !== (field(form, 'reauthentication') === 'yes')) {
      // The page answered was for a first authorisation and the intent was authorised meanwhile (another
      // tab, another channel), or the other way round: the PSU decided on something that no longer is.
      return sendPage(
        reply,
        409,
        scope.errorPageOf(reply, {
          ...INTENT_REFUSALS.not_awaiting_authorisation,
          cancel: scope.cancelOf(reply, details),
        }),
      );
    }
    if (decision === 'reject') {
      if (!reauthentication) {
        const rejected = await decide(scope, reply, details, () =>
          reject(ctx, intent.id, { actor: 'psu', detail: `rejected by customer ${choice.customer.id}` }),
        );
        if (!rejected) return reply;
      }
      await scope.endSession(reply, uid, session);
      return scope.finishOrFail(request, reply, () =>
        bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer rejected the request'),
      );
    }
    if (decision !== 'approve') {
      return renderConsent(scope, reply, 400, details, intent, choice, {
        error: 'Choose Approve or Reject.',
      });
    }
    if (reauthentication) {
      const reauthenticated = await decide(scope, reply, details, () =>
        reauthenticate(ctx, intent.id, { customerId: choice.customer.id }),
      );
      if (!reauthenticated) return reply;
      await scope.endSession(reply, uid, session);
      return scope.finishOrFail(request, reply, () =>
        bridge.finishConsent(request.raw, reply.raw, {
          intentId: intent.id,
          scopes: details.scopes,
          authorised: reauthenticated,
        }),
      );
    }
    const chosen = chosenAccounts(form, intent, choice);
    if (!chosen.ok) {
      return renderConsent(scope, reply, 400, details, intent, choice, {
        error: chosen.error,
        selected: chosen.selected,
      });
    }
    const authorised = await decide(scope, reply, details, () =>
      authorise(ctx, intent.id, { customerId: choice.customer.id, accountIds: chosen.accountIds }),
    );
    if (!authorised) return reply;
    await scope.endSession(reply, uid, session);
    return scope.finishOrFail(request, reply, () =>
      bridge.finishConsent(request.raw, reply.raw, {
        intentId: intent.id,
        scopes: details.scopes,
        authorised,
      }),
    );
  };
}

/**
 * `POST /:uid/cancel`: back to the TPP with access_denied; a waiting intent is rejected (an Authorised one
 * being re-authenticated stays as it is).
 */
export function cancelPosted(scope: InteractionScope) {
  const { ctx, bridge } = scope;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const posted = await scope.posted(request, reply);
    if (!posted) return reply;
    const { uid, session, details } = posted;
    const intent = await getIntent(ctx.db, details.intentId);
    if (intent && intent.clientId === details.clientId && intent.status === 'AwaitingAuthorisation') {
      try {
        await reject(ctx, intent.id, { actor: 'psu', detail: 'cancelled by the customer' });
      } catch (error) {
        if (!(error instanceof IntentTransitionError)) throw error;
      }
    }
    await scope.endSession(reply, uid, session);
    return scope.finishOrFail(request, reply, () =>
      bridge.abort(request.raw, reply.raw, 'access_denied', 'The customer cancelled the request'),
    );
  };
}

/** Runs a lifecycle change; a refused one (lost race, expired meanwhile) becomes an error page. */
async function decide(
  scope: InteractionScope,
  reply: FastifyReply,
  details: InteractionDetails,
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
      scope.errorPageOf(reply, { ...INTENT_REFUSALS[reason], cancel: scope.cancelOf(reply, details) }),
    );
    return undefined;
  }
}
