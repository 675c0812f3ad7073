import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The request's `iss` is the SSA's software. */
export const requestIssuedBySoftware: DcrCheck = (context) => {
  const softwareId = str(need(context, 'ssa'), 'software_id');
  if (need(context, 'request')['iss'] !== softwareId) {
    throw new DcrError(
      'invalid_client_metadata',
      `the registration request must be issued by the software (iss = ${softwareId})`,
    );
  }
};
