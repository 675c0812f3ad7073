import { versionOfPath } from './versions.ts';

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

/**
 * A refusal to send as an OB error body; throw it from a handler, the surface's error handler renders it.
 * A 4xx is an answer to the client, not a fault of ours: it carries no stack trace, whose capture cost more
 * than the rest of a refusal (a guard refusing every request of a misbehaving client builds one each time).
 * A 5xx keeps its stack, for whoever looks into it.
 */
export class ObError extends Error {
  override name = 'ObError';
  readonly status: number;
  readonly errors: [ObErrorDetail, ...ObErrorDetail[]];
  constructor(status: number, message: string, errors: [ObErrorDetail, ...ObErrorDetail[]]) {
    const stackTraceLimit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
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

/**
 * v4.0's `ErrorCode` is a 4-character `OBExternalStatusReason1Code`: each v3.1.x `UK.OBIE.*` code has its
 * `U0xx` value in OB_Internal_CodeSet (OpenBankingUK/External_Internal_CodeSets, OB_Internal_Codeset.csv,
 * which gives the pair on each row).
 */
export const V4_ERROR_CODES: Record<ObErrorCode, string> = {
  'UK.OBIE.UnexpectedError': 'U000',
  'UK.OBIE.Field.Expected': 'U001',
  'UK.OBIE.Field.Invalid': 'U002',
  'UK.OBIE.Field.InvalidDate': 'U003',
  'UK.OBIE.Field.Missing': 'U004',
  'UK.OBIE.Field.Unexpected': 'U005',
  'UK.OBIE.Header.Invalid': 'U006',
  'UK.OBIE.Header.Missing': 'U007',
  'UK.OBIE.Resource.ConsentMismatch': 'U008',
  'UK.OBIE.Resource.InvalidConsentStatus': 'U009',
  'UK.OBIE.Resource.InvalidFormat': 'U010',
  'UK.OBIE.Resource.NotFound': 'U011',
  'UK.OBIE.Rules.AfterCutOffDateTime': 'U012',
  'UK.OBIE.Rules.DuplicateReference': 'U013',
  'UK.OBIE.Rules.FailsControlParameters': 'U014',
  'UK.OBIE.Signature.Invalid': 'U015',
  'UK.OBIE.Signature.InvalidClaim': 'U016',
  'UK.OBIE.Signature.MissingClaim': 'U017',
  'UK.OBIE.Signature.Malformed': 'U018',
  'UK.OBIE.Signature.Missing': 'U019',
  'UK.OBIE.Signature.Unexpected': 'U020',
  'UK.OBIE.Unsupported.AccountIdentifier': 'U021',
  'UK.OBIE.Unsupported.AccountSecondaryIdentifier': 'U022',
  'UK.OBIE.Unsupported.Currency': 'U023',
  'UK.OBIE.Unsupported.Frequency': 'U025',
  'UK.OBIE.Unsupported.LocalInstrument': 'U026',
  'UK.OBIE.Unsupported.Scheme': 'U027',
  'UK.OBIE.Reauthenticate': 'U028',
  'UK.OBIE.Rules.ResourceAlreadyExists': 'U029',
};

/** Where a v4.0 error's `Url` points: the standard's description of its error codes. */
export const V4_ERROR_CODES_URL =
  'https://openbankinguk.github.io/read-write-api-site3/v4.0/profiles/read-write-data-api-profile.html#errors';

export interface ObErrorResponseV4 {
  Id?: string;
  Errors: [ObErrorDetailV4, ...ObErrorDetailV4[]];
}

export interface ObErrorDetailV4 {
  ErrorCode: string;
  Message: string;
  Path?: string;
  Url: string;
}

/**
 * The v4.0 error body (OBErrorResponse1 of the v4.0 files): `Errors[]` with the `U0xx` code, the
 * message, the JSON path and a `Url`. The top-level `Code` and `Message` are deprecated in v4.0 and
 * optional, so they are left out: a v4.0 client reads `Errors`.
 */
export function obErrorBodyV4(error: ObError, interactionId: string | undefined): ObErrorResponseV4 {
  return {
    ...(interactionId ? { Id: interactionId.slice(0, 40) } : {}),
    Errors: error.errors.map((detail) => ({
      ErrorCode: V4_ERROR_CODES[detail.ErrorCode],
      Message: detail.Message.slice(0, 500),
      ...(detail.Path !== undefined ? { Path: detail.Path.slice(0, 500) } : {}),
      Url: detail.Url ?? V4_ERROR_CODES_URL,
    })) as ObErrorResponseV4['Errors'],
  };
}

/**
 * The error body in the shape of the API version the request addressed (by its path): v4.0 paths get
 * the v4.0 body, every other path (v3.1.x, and the shared plumbing outside the APIs) OBErrorResponse1
 * of v3.1.x. Every refusal rendered by the surface goes through this, so a new refusal anywhere (guard
 * checks, rate limits) is in the right shape on every version without knowing of versions.
 */
export function obErrorBodyFor(
  error: ObError,
  request: { url: string; id: string | undefined },
): ObErrorResponse | ObErrorResponseV4 {
  return versionOfPath(request.url) === 'v4.0'
    ? obErrorBodyV4(error, request.id)
    : obErrorBody(error, request.id);
}
