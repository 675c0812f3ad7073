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

/** The token carries at least one of `scopes` (the event APIs take any TPP's resource scope). */
export function anyScope(scopes: readonly ('accounts' | 'payments' | 'fundsconfirmations')[]): Check {
  return {
    name: `scope ${scopes.join(' or ')}`,
    run(state) {
      if (!scopes.some((item) => state.token?.scopes.has(item))) {
        throw ObError.single(
          403,
          'UK.OBIE.Resource.InvalidConsentStatus',
          `the access token has none of the scopes ${scopes.map((item) => `"${item}"`).join(', ')}`,
        );
      }
    },
  };
}
