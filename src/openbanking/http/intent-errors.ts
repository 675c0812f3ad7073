import { IntentInputError, IntentTransitionError } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { resourceNotFound } from './owned-resources.ts';

/** The consent part's refusals, as the OB error a TPP reads. Anything else is rethrown. */
export function asObError(error: unknown): never {
  if (error instanceof IntentInputError) {
    const code = /DateTime$/.test(error.path) ? 'UK.OBIE.Field.InvalidDate' : 'UK.OBIE.Field.Invalid';
    throw ObError.single(400, code, error.message, error.path);
  }
  if (error instanceof IntentTransitionError) {
    if (error.reason === 'not_found') throw resourceNotFound(error.message);
    throw ObError.single(400, 'UK.OBIE.Resource.InvalidConsentStatus', error.message);
  }
  throw error;
}
