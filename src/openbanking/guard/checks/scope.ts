import { ObError } from '../../errors.ts';
import type { Check } from '../types.ts';

export function scope(required: 'accounts' | 'payments' | 'fundsconfirmations'): Check {
  return {
    name: `scope ${required}`,
    run(state) {
      if (!state.token?.scopes.has(required)) {
        throw ObError.single(
          403,
          'UK.OBIE.Resource.InvalidConsentStatus',
          `the access token lacks the "${required}" scope`,
        );
      }
    },
  };
}
