/**
 * JWKms refusals, in the same OAuth-style body as the directory it belongs to:
 * `{ "error": "<code>", "error_description": "<what is wrong>" }`.
 */
export type JwkmsErrorCode =
  'invalid_request' | 'invalid_key' | 'invalid_token' | 'no_managed_key' | 'decryption_failed';

export class JwkmsError extends Error {
  override name = 'JwkmsError';
  readonly status: number;
  readonly code: JwkmsErrorCode;
  constructor(status: number, code: JwkmsErrorCode, description: string) {
    super(description);
    this.status = status;
    this.code = code;
  }
}
