import { z } from 'zod';
import { domesticConsentRequestSchema, riskSchema } from './mapping.ts';

/**
 * The request envelopes Payment Initiation v4.0 shares between its payment kinds
 * (specs/ob-read-write/v4.0/payment-initiation-openapi.json): a future-dated consent (Permission Create,
 * its kind's Initiation, v4.0's Authorisation, SCASupportData and OBRisk1), and a submission.
 */
const consentData = domesticConsentRequestSchema.shape.Data.shape;

export function futureDatedConsentRequestSchema<I extends z.ZodType>(initiation: I) {
  return z.strictObject({
    Data: z.strictObject({
      Permission: z.enum(['Create']),
      ReadRefundAccount: consentData.ReadRefundAccount,
      Initiation: initiation,
      Authorisation: consentData.Authorisation,
      SCASupportData: consentData.SCASupportData,
    }),
    Risk: riskSchema,
  });
}

export function submissionRequestSchema<I extends z.ZodType>(initiation: I) {
  return z.strictObject({
    Data: z.strictObject({ ConsentId: z.string().min(1).max(128), Initiation: initiation }),
    Risk: riskSchema,
  });
}

/** The first structured creditor reference of an OBRemittanceInformation2, if any. */
export function structuredReference(
  remittance: { Structured?: { CreditorReferenceInformation?: { Reference?: string } }[] } | undefined,
): string | undefined {
  return remittance?.Structured?.find((entry) => entry.CreditorReferenceInformation?.Reference)
    ?.CreditorReferenceInformation?.Reference;
}
