import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** A `software_id` in the request is the SSA's. */
export const softwareIdMatches: DcrCheck = (context) => {
  const requested = need(context, 'request')['software_id'];
  if (requested !== undefined && requested !== str(need(context, 'ssa'), 'software_id')) {
    throw new DcrError('invalid_client_metadata', 'software_id differs from the software statement');
  }
};
