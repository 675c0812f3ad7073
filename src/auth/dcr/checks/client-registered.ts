import { DcrAccessError } from '../errors.ts';
import { findRegistration } from '../store.ts';
import { need, type DcrCheck } from '../types.ts';

/** The client in the path was registered here (configured clients are not managed through DCR). */
export const clientRegistered: DcrCheck = async (context) => {
  const found = await findRegistration(context.options.server.store.db, need(context, 'clientId'));
  if (!found) throw new DcrAccessError(401, 'the client is not registered');
  context.registered = found;
};
