import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

/** The client authenticates at the token endpoint as FAPI allows: private_key_jwt or tls_client_auth. */
export const authMethod: DcrCheck = (context) => {
  const method = need(context, 'request')['token_endpoint_auth_method'];
  if (method !== 'private_key_jwt' && method !== 'tls_client_auth') {
    throw new DcrError(
      'invalid_client_metadata',
      'token_endpoint_auth_method must be private_key_jwt or tls_client_auth',
    );
  }
  context.client.method = method;
};
