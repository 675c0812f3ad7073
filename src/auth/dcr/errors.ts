/**
 * How a DCR refusal is told. Every refusal of a registration names one of the DCR specification's four
 * errors (RFC 7591 body, 400):
 *
 * - `invalid_software_statement`: the SSA is malformed, its signature does not verify, or it is stale;
 * - `unapproved_software_statement`: the SSA comes from a directory we do not trust, or the transport
 *   certificate is untrusted, revoked, was not issued to the SSA's software, or grants it no role;
 * - `invalid_redirect_uri`: a redirect URI outside the SSA's, or not https;
 * - `invalid_client_metadata`: anything else about the request (its signature, `iss`, `aud`, `exp`/`iat`,
 *   a replayed `jti`, auth method, algorithms, response types, grant types, scopes beyond the roles).
 */
export type DcrErrorCode =
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement';

export class DcrError extends Error {
  override name = 'DcrError';
  readonly error: DcrErrorCode;
  constructor(error: DcrErrorCode, description: string) {
    super(description.slice(0, 500));
    this.error = error;
  }
}

/**
 * GET, PUT and DELETE of a registration refused before the registration is looked at: 401 without a
 * valid access token of a registered client (RFC 6750 `invalid_token`), 403 for another client's.
 */
export class DcrAccessError extends Error {
  override name = 'DcrAccessError';
  readonly status: 401 | 403;
  constructor(status: 401 | 403, description: string) {
    super(description);
    this.status = status;
  }
}
