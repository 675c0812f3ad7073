import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

const ALGORITHM_FIELDS = [
  'id_token_signed_response_alg',
  'request_object_signing_alg',
  'token_endpoint_auth_signing_alg',
  'authorization_signed_response_alg',
  'userinfo_signed_response_alg',
] as const;

/** Every signing algorithm is PS256; ID token and request object ones are named; nothing is encrypted. */
export const signingAlgorithms: DcrCheck = (context) => {
  const request = need(context, 'request');
  for (const field of ALGORITHM_FIELDS) {
    const value = request[field];
    if (value !== undefined && value !== 'PS256') {
      throw new DcrError('invalid_client_metadata', `${field} must be PS256`);
    }
  }
  for (const field of ['id_token_signed_response_alg', 'request_object_signing_alg'] as const) {
    if (request[field] === undefined)
      throw new DcrError('invalid_client_metadata', `${field} is required (PS256)`);
  }
  if (
    request['id_token_encrypted_response_alg'] !== undefined ||
    request['request_object_encryption_alg'] !== undefined
  ) {
    throw new DcrError(
      'invalid_client_metadata',
      'encrypted ID tokens and request objects are not supported',
    );
  }
};
