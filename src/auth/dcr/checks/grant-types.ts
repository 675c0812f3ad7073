import { CIBA_GRANT_TYPE } from '../../ciba.ts';
import { stringArray } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

const GRANT_TYPES = new Set(['authorization_code', 'client_credentials', 'refresh_token', CIBA_GRANT_TYPE]);

/** Grant types are named and drawn from those the bank supports. */
export const grantTypes: DcrCheck = (context) => {
  const grants = stringArray(need(context, 'request')['grant_types']);
  if (!grants || grants.length === 0 || grants.some((grant) => !GRANT_TYPES.has(grant))) {
    throw new DcrError(
      'invalid_client_metadata',
      `grant_types must be drawn from authorization_code, client_credentials, refresh_token, ${CIBA_GRANT_TYPE}`,
    );
  }
  context.client.grantTypes = grants;
};
