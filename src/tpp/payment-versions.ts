import { TppUsageError } from './errors.ts';
import type { HttpResponse } from './http.ts';
import type { ReadWriteVersion } from './open-banking.ts';

/**
 * How the payment APIs (PIS, VRP, file payments) differ between the versions a TPP calls, where the SDK
 * must know it: the status words of a payment resource (v3.1.11 spells them out, v4.0 writes ISO 20022
 * codes), and the answer of a bank that does not serve an API at a version.
 */
export interface PaymentStatusSet {
  /** A single payment's final statuses. */
  final: ReadonlySet<string>;
  /** A scheduled payment's or standing order's final statuses: set up (the bank pays when due) or not. */
  finalFutureDated: ReadonlySet<string>;
  /** The statuses of a future-dated payment the bank has set up. */
  setUp: ReadonlySet<string>;
  /** A payment the bank refused. */
  rejected: string;
  /** A file payment the bank could not initiate. */
  initiationFailed: string;
}

export const PAYMENT_STATUSES: Readonly<Record<ReadWriteVersion, PaymentStatusSet>> = {
  '3.1.11': {
    final: new Set(['AcceptedSettlementCompleted', 'AcceptedCreditSettlementCompleted', 'Rejected']),
    finalFutureDated: new Set(['InitiationCompleted', 'InitiationFailed', 'Cancelled', 'Rejected']),
    setUp: new Set(['InitiationCompleted']),
    rejected: 'Rejected',
    initiationFailed: 'InitiationFailed',
  },
  // ExternalPaymentTransactionStatus1Code: ACSC/ACCC settled, RJCT rejected; ACTC (accepted technical
  // validation) and INCO (initiation completed, standing orders) set up; INFA failed; CANC cancelled.
  '4.0': {
    final: new Set(['ACSC', 'ACCC', 'RJCT']),
    finalFutureDated: new Set(['ACTC', 'INCO', 'INFA', 'CANC', 'RJCT']),
    setUp: new Set(['ACTC', 'INCO']),
    rejected: 'RJCT',
    initiationFailed: 'INFA',
  },
};

/** A payment status of either version that means the bank refused the payment. */
export function isRejected(status: string | undefined): boolean {
  return status === PAYMENT_STATUSES['3.1.11'].rejected || status === PAYMENT_STATUSES['4.0'].rejected;
}

/**
 * A 404 on staging a consent: the bank serves no such endpoint at this version. Said in one line as a
 * usage error (what to do instead), not as the HTTP failure of a call that was never going to work.
 */
export function notServedAt(
  version: ReadWriteVersion,
  what: string,
  response: HttpResponse,
): TppUsageError | undefined {
  if (response.status !== 404) return undefined;
  const other = version === '4.0' ? '3.1.11' : '4.0';
  return new TppUsageError(
    `--api-version ${version}: the bank does not serve ${what} at v${version} (HTTP 404 at ${response.url}); try --api-version ${other}`,
  );
}

/**
 * The error code of a VRP beyond its consent's control parameters: v3.1.11's name, v4.0's
 * OBExternalStatusReason1Code (OB_Internal_CodeSet pairs them).
 */
export const FAILS_CONTROL_PARAMETERS: Readonly<Record<ReadWriteVersion, string>> = {
  '3.1.11': 'UK.OBIE.Rules.FailsControlParameters',
  '4.0': 'U014',
};
