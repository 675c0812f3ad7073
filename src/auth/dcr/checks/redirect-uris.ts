import { isHttps, stringArray } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** At least one redirect URI; each https and one of the SSA's. */
export const redirectUris: DcrCheck = (context) => {
  const allowed = new Set(stringArray(need(context, 'ssa')['software_redirect_uris']) ?? []);
  const uris = stringArray(need(context, 'request')['redirect_uris']);
  if (!uris || uris.length === 0) {
    throw new DcrError('invalid_redirect_uri', 'redirect_uris must list at least one URI');
  }
  for (const uri of uris) {
    if (!isHttps(uri)) throw new DcrError('invalid_redirect_uri', `redirect URI ${uri} is not https`);
    if (!allowed.has(uri)) {
      throw new DcrError(
        'invalid_redirect_uri',
        `redirect URI ${uri} is not one of the software statement's`,
      );
    }
  }
  context.client.redirectUris = uris;
};
