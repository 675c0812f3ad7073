import { ObError } from '../../errors.ts';
import { thenOrNow } from '../../../shared/maybe-promise.ts';
import type { Check } from '../types.ts';

/**
 * The token's client belongs to a participant that is Active at the directory (organisation and software
 * statement). 403, not 401: the token and certificate are good, and authenticating again would not help —
 * the participant is not allowed to act while it is Suspended or Revoked.
 */
export const participantActive: Check = {
  name: 'participant active',
  run(state, { participants }) {
    const clientId = state.token?.clientId;
    if (clientId === undefined) throw new Error('the participant check runs after the access token check');
    return thenOrNow(participants.checkClient(clientId), (verdict) => {
      if (!verdict.active) {
        throw ObError.single(403, 'UK.OBIE.Resource.InvalidConsentStatus', `refused: ${verdict.detail}`);
      }
    });
  },
};
