import type { IntentKind } from '../../../consent/index.ts';
import { ObError } from '../../errors.ts';
import { resourceNotFound } from '../../http/owned-resources.ts';
import { thenOrNow } from '../../../shared/maybe-promise.ts';
import type { Check } from '../types.ts';

/**
 * The intent the token rests on: it exists, is of a kind this endpoint serves, belongs to the token's
 * client, was authorised by the token's PSU, is still `Authorised`, its access not withdrawn at the bank, and
 * has not expired. `allowConsumed`: a payment submission may also find its consent Consumed (then its expiry
 * no longer matters) — a retry of a submission that went through must reach the idempotency store and get the
 * same answer; whether a *new* submission may use the consent is decided by the atomic consume transition.
 */
export function consentAuthorised(
  kinds: readonly IntentKind[],
  { allowConsumed = false }: { allowConsumed?: boolean } = {},
): Check {
  return {
    name: allowConsumed ? 'consent authorised (or consumed, for a retry)' : 'consent authorised',
    run(state, { intents, clock }) {
      const token = state.token;
      const intentId = token?.intentId;
      if (!token || !intentId) {
        throw ObError.single(
          403,
          'UK.OBIE.Resource.InvalidConsentStatus',
          'the access token rests on no consent',
        );
      }
      return thenOrNow(intents.find(intentId), (intent) => {
        if (!intent || intent.clientId !== token.clientId || !kinds.includes(intent.kind)) {
          throw ObError.single(
            403,
            'UK.OBIE.Resource.InvalidConsentStatus',
            'the access token rests on no consent for this API',
          );
        }
        if (intent.status !== 'Authorised' && !(allowConsumed && intent.status === 'Consumed')) {
          throw ObError.single(
            403,
            'UK.OBIE.Resource.InvalidConsentStatus',
            `the consent is ${intent.status}`,
          );
        }
        // Its tokens die with the withdrawal (after the commit, through the notifier): refused here meanwhile.
        if (intent.accessWithdrawnAt !== undefined) {
          throw ObError.single(
            403,
            'UK.OBIE.Resource.InvalidConsentStatus',
            'the PSU withdrew access at the bank',
          );
        }
        if (
          intent.customerId !== undefined &&
          token.customerId !== undefined &&
          intent.customerId !== token.customerId
        ) {
          throw ObError.single(
            403,
            'UK.OBIE.Resource.InvalidConsentStatus',
            'the consent was authorised by another customer',
          );
        }
        if (
          intent.status === 'Authorised' &&
          intent.expiresAt &&
          intent.expiresAt.getTime() <= clock.epochMs()
        ) {
          throw ObError.single(403, 'UK.OBIE.Resource.InvalidConsentStatus', 'the consent has expired');
        }
        state.intent = intent;
      });
    },
  };
}

/** Account information: the consent must carry at least one of the permissions an endpoint answers with. */
export function consentPermits(anyOf: readonly string[]): Check {
  return {
    name: `permission ${anyOf.join(' | ')}`,
    run(state) {
      const granted = state.intent?.permissions ?? [];
      if (!anyOf.some((permission) => granted.includes(permission))) {
        throw ObError.single(
          403,
          'UK.OBIE.Resource.InvalidConsentStatus',
          `the consent does not grant ${anyOf.join(' or ')}`,
        );
      }
    },
  };
}

/** An `:AccountId` in the path must be one of the accounts the PSU selected for this consent. */
export const accountInConsent: Check = {
  name: 'account selected by the PSU',
  run(state) {
    const params = state.request.params as { AccountId?: string } | undefined;
    const accountId = params?.AccountId;
    if (accountId === undefined) return;
    if (!state.intent?.accountIds.includes(accountId)) {
      // 400 NotFound, not the 403 the profile's "403 (Forbidden)" paragraph allows for an account the PSU
      // did not select: whether the account exists at all is not the TPP's business (resourceNotFound).
      throw resourceNotFound(`no account ${accountId} under this consent`);
    }
  },
};
