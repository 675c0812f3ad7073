import { audiences } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The request's `aud` names this bank: its issuer, or one of its ids at the directory. */
export const requestAddressedToBank: DcrCheck = (context) => {
  const ours = new Set([context.options.server.issuer, ...context.options.audiences]);
  if (!audiences(need(context, 'request')).some((value) => ours.has(value))) {
    throw new DcrError(
      'invalid_client_metadata',
      'the registration request is addressed to another bank (aud)',
    );
  }
};
