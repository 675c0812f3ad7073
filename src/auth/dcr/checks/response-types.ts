import { stringArray } from '../claims.ts';
import { DcrError } from '../errors.ts';
import { need, type DcrCheck } from '../types.ts';

const RESPONSE_TYPES = new Set(['code', 'code id_token']);

/** Response types (default `code id_token`) are those FAPI allows: `code id_token`, or `code` with JARM. */
export const responseTypes: DcrCheck = (context) => {
  const requested = need(context, 'request')['response_types'];
  const types = requested === undefined ? ['code id_token'] : stringArray(requested);
  if (!types || types.length === 0 || types.some((type) => !RESPONSE_TYPES.has(type))) {
    throw new DcrError(
      'invalid_client_metadata',
      'response_types must be drawn from "code id_token" and "code" (with JARM)',
    );
  }
  context.client.responseTypes = types;
};
