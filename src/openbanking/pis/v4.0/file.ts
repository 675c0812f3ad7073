import { z } from 'zod';
import type { PaymentRecord } from '../../../bank/index.ts';
import { domesticPaymentsFile, fileDescriptionShape, type FileFormat } from '../payment-file.ts';
import { accountSchema, dateTime } from '../validation.ts';
import {
  consentStatus,
  domesticConsentRequestSchema,
  domesticInitiationSchema,
  paymentReference,
  rejectionReason,
} from './mapping.ts';

/**
 * File payments on Payment Initiation v4.0: OBWriteFileConsent3 and OBWriteFile2 (v4.0's CreditorAgent,
 * UltimateDebtor and structured RemittanceInformation; no Risk), the file type of v4.0, and the ISO
 * statuses of the consent (AWUP while it waits for its file) and of the file payment (INCO, INFA).
 */
const text = (max: number) => z.string().min(1).max(max);
const domestic = domesticInitiationSchema.shape;

export const fileInitiationSchema = z.strictObject({
  ...fileDescriptionShape,
  RequestedExecutionDateTime: dateTime.optional(),
  LocalInstrument: z.string().optional(),
  CreditorAgent: domestic.CreditorAgent,
  DebtorAccount: accountSchema.optional(),
  UltimateDebtor: domestic.UltimateDebtor,
  RemittanceInformation: domestic.RemittanceInformation,
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});

const consentData = domesticConsentRequestSchema.shape.Data.shape;
export const fileConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    Initiation: fileInitiationSchema,
    Authorisation: consentData.Authorisation,
    SCASupportData: consentData.SCASupportData,
  }),
});

export const filePaymentRequestSchema = z.strictObject({
  Data: z.strictObject({ ConsentId: text(128), Initiation: fileInitiationSchema }),
});

/**
 * The file type v4.0 names for a JSON file of its own domestic Initiations (`UK.OBIE.PaymentInitiation.4.0`):
 * `{ "Data": { "DomesticPayments": [ <OBWriteDomestic2 Data.Initiation of v4.0>, … ] } }`, uploaded as
 * `application/json`.
 */
export const FILE_TYPES_V4: Readonly<Record<string, FileFormat>> = {
  'UK.OBIE.PaymentInitiation.4.0': domesticPaymentsFile(domesticInitiationSchema, paymentReference),
};

/** A file consent's Status: AWUP until its file is uploaded, then as every v4.0 payment consent. */
export function fileConsentStatus(status: string): string {
  return status === 'AwaitingUpload' ? 'AWUP' : consentStatus(status);
}

/**
 * A file payment's Status: INCO once the bank has run the file, INFA when it refused every transaction,
 * with the ISO reason of each kind of refusal.
 */
export function filePaymentStatus(transactions: readonly PaymentRecord[]): Record<string, unknown> {
  const failed = transactions.length > 0 && transactions.every((t) => t.status === 'Rejected');
  if (!failed) return { Status: 'INCO' };
  const reasons = new Map<string, { StatusReasonCode: string; StatusReasonDescription: string }>();
  for (const transaction of transactions) {
    const reason = rejectionReason(transaction);
    reasons.set(reason.StatusReasonCode, reason);
  }
  return { Status: 'INFA', StatusReason: [...reasons.values()] };
}
