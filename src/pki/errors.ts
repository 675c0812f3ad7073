/**
 * Typed errors of the PKI library. `code` is stable and machine-readable; `message` says exactly what
 * failed, in words a TPP can act on (the directory turns `PkiInputError` into a 400).
 */
export type PkiInputErrorCode =
  | 'csr.malformed'
  | 'csr.signature'
  | 'csr.key'
  | 'csr.algorithm'
  | 'certificate.malformed'
  | 'profile.invalid'
  | 'ocsp.malformed'
  | 'dn.malformed';

/** The caller's input is wrong: a malformed or weak CSR, an unknown role, a bad certificate. */
export class PkiInputError extends Error {
  readonly code: PkiInputErrorCode;
  constructor(code: PkiInputErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiInputError';
    this.code = code;
  }
}

/** The CA material on disk is unusable (missing pieces, a key that does not match its certificate…). */
export class CaStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CaStoreError';
  }
}

/** A short description of an unknown thrown value, for error messages. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
