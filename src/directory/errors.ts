/**
 * The directory's refusals. Its API answers with an OAuth-style body
 * `{ "error": "<code>", "error_description": "<what is wrong>" }` (the directory is not a Read/Write API,
 * so it does not use the Open Banking error body).
 */
export type DirectoryErrorCode =
  | 'invalid_request'
  | 'invalid_csr'
  | 'invalid_client_certificate'
  | 'request_too_large'
  | 'unsupported_media_type'
  | 'access_denied'
  | 'not_found'
  | 'conflict';

export class DirectoryError extends Error {
  readonly status: number;
  readonly code: DirectoryErrorCode;
  constructor(status: number, code: DirectoryErrorCode, description: string) {
    super(description);
    this.name = 'DirectoryError';
    this.status = status;
    this.code = code;
  }

  static badRequest(description: string, code: DirectoryErrorCode = 'invalid_request'): DirectoryError {
    return new DirectoryError(400, code, description);
  }

  static notFound(description: string): DirectoryError {
    return new DirectoryError(404, 'not_found', description);
  }

  static forbidden(description: string): DirectoryError {
    return new DirectoryError(403, 'access_denied', description);
  }
}

export interface DirectoryErrorBody {
  error: DirectoryErrorCode;
  error_description: string;
}

export function errorBody(error: DirectoryError): DirectoryErrorBody {
  return { error: error.code, error_description: error.message };
}
