/**
 * The Open Banking error body (OBErrorResponse1) and the codes we answer with. Every refusal a TPP sees
 * from our Read/Write APIs and our shared HTTP plumbing goes through here.
 */
export type ObErrorCode =
  | 'UK.OBIE.Field.Expected'
  | 'UK.OBIE.Field.Invalid'
  | 'UK.OBIE.Field.InvalidDate'
  | 'UK.OBIE.Field.Missing'
  | 'UK.OBIE.Field.Unexpected'
  | 'UK.OBIE.Header.Invalid'
  | 'UK.OBIE.Header.Missing'
  | 'UK.OBIE.Reauthenticate'
  | 'UK.OBIE.Resource.ConsentMismatch'
  | 'UK.OBIE.Resource.InvalidConsentStatus'
  | 'UK.OBIE.Resource.InvalidFormat'
  | 'UK.OBIE.Resource.NotFound'
  | 'UK.OBIE.Rules.AfterCutOffDateTime'
  | 'UK.OBIE.Rules.DuplicateReference'
  | 'UK.OBIE.Rules.FailsControlParameters'
  | 'UK.OBIE.Rules.ResourceAlreadyExists'
  | 'UK.OBIE.Signature.Invalid'
  | 'UK.OBIE.Signature.InvalidClaim'
  | 'UK.OBIE.Signature.Malformed'
  | 'UK.OBIE.Signature.Missing'
  | 'UK.OBIE.Signature.MissingClaim'
  | 'UK.OBIE.Signature.Unexpected'
  | 'UK.OBIE.UnexpectedError'
  | 'UK.OBIE.Unsupported.AccountIdentifier'
  | 'UK.OBIE.Unsupported.AccountSecondaryIdentifier'
  | 'UK.OBIE.Unsupported.Currency'
  | 'UK.OBIE.Unsupported.Frequency'
  | 'UK.OBIE.Unsupported.LocalInstrument'
  | 'UK.OBIE.Unsupported.Scheme';

export interface ObErrorDetail {
  ErrorCode: ObErrorCode;
  Message: string;
  Path?: string;
  Url?: string;
}

export interface ObErrorResponse {
  Code: string;
  Id?: string;
  Message: string;
  Errors: [ObErrorDetail, ...ObErrorDetail[]];
}

/** A refusal to send as an OB error body; throw it from a handler, the surface's error handler renders it. */
export class ObError extends Error {
  override name = 'ObError';
  readonly status: number;
  readonly errors: [ObErrorDetail, ...ObErrorDetail[]];
  constructor(status: number, message: string, errors: [ObErrorDetail, ...ObErrorDetail[]]) {
    super(message);
    this.status = status;
    this.errors = errors;
  }

  static single(status: number, code: ObErrorCode, message: string, path?: string): ObError {
    const detail: ObErrorDetail =
      path === undefined
        ? { ErrorCode: code, Message: message }
        : { ErrorCode: code, Message: message, Path: path };
    return new ObError(status, message, [detail]);
  }
}

export function obErrorBody(error: ObError, interactionId: string | undefined): ObErrorResponse {
  return {
    Code: String(error.status),
    ...(interactionId ? { Id: interactionId.slice(0, 40) } : {}),
    Message: error.message.slice(0, 500),
    Errors: error.errors.map((detail) => ({
      ...detail,
      Message: detail.Message.slice(0, 500),
    })) as ObErrorResponse['Errors'],
  };
}
