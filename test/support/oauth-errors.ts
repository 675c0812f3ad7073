import assert from 'node:assert/strict';

/**
 * RFC 6749 §5.2 error responses, checked as the RFC writes them: a JSON object (`application/json`) whose
 * `error` is one of the codes of the endpoint's specification, an optional `error_description` of
 * NQSCHAR (%x20-21 / %x23-5B / %x5D-7E), an optional `error_uri`, and nothing that is not a parameter
 * (RFC 7009, RFC 7662, RFC 9126 and CIBA reuse §5.2 and add the codes listed here).
 */
export const RFC6749_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  // RFC 7009 §2.2.1
  'unsupported_token_type',
  // OpenID CIBA §13
  'expired_login_hint_token',
  'unknown_user_id',
  'invalid_binding_message',
  'access_denied',
  // RFC 9101 / RFC 9126
  'invalid_request_object',
] as const;

const NQSCHAR = /^[\x20-\x21\x23-\x5B\x5D-\x7E]*$/;

export interface OAuthErrorResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Asserts an RFC 6749 §5.2 error response with this status and code; returns the parsed body. */
export function assertOAuthError(
  response: OAuthErrorResponse,
  status: number,
  error: (typeof RFC6749_ERROR_CODES)[number],
): { error: string; error_description?: string } {
  assert.equal(response.status, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json\b/);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.equal(typeof body, 'object');
  assert.ok(body !== null && !Array.isArray(body), 'the body is a JSON object');
  assert.equal(body['error'], error, response.body);
  for (const key of Object.keys(body)) {
    assert.ok(['error', 'error_description', 'error_uri'].includes(key), `unexpected member ${key}`);
  }
  if (body['error_description'] !== undefined) {
    assert.equal(typeof body['error_description'], 'string');
    assert.match(body['error_description'] as string, NQSCHAR, 'error_description is NQSCHAR only');
  }
  assert.doesNotMatch(response.body, /\bat .+:\d+:\d+/, 'no stack trace');
  return body as { error: string; error_description?: string };
}
