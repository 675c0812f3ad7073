import { str } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** PUT: a client stays with the software statement it was registered with. */
export const sameSoftware: DcrCheck = (context) => {
  const registered = need(context, 'registered').metadata['software_id'];
  if (str(need(context, 'ssa'), 'software_id') !== registered) {
    throw new DcrError('invalid_client_metadata', 'a client cannot move to another software statement');
  }
};
