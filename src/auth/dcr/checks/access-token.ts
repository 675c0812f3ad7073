import { DcrAccessError } from '../errors.ts';
import type { DcrCheck } from '../types.ts';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,64}$/;

/**
 * GET, PUT and DELETE take a live client_credentials access token of the client in the path, bound to the
 * certificate the request comes with (DCR specification; RFC 8705): 401 without one, 403 for another
 * client's.
 */
export const accessToken: DcrCheck = async (context) => {
  const match = BEARER.exec(context.input.authorization ?? '');
  if (!match?.[1]) throw new DcrAccessError(401, 'a client_credentials access token is required');
  const token = await context.options.server.provider.ClientCredentials.find(match[1]);
  if (!token || !token.isValid || !token.clientId) {
    throw new DcrAccessError(401, 'the access token is not valid');
  }
  const bound = token['x5t#S256'];
  if (bound !== undefined && bound !== context.input.certificate?.thumbprintS256) {
    throw new DcrAccessError(401, 'the access token is bound to another certificate');
  }
  const clientId = context.input.clientId ?? '';
  if (!CLIENT_ID.test(clientId) || token.clientId !== clientId) {
    throw new DcrAccessError(403, "the access token is another client's");
  }
  context.clientId = clientId;
};
