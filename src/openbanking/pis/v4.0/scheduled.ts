import { z } from 'zod';
import type { PaymentRecord } from '../../../bank/index.ts';
import { checkDomesticInitiation, dateTime, futureDate } from '../validation.ts';
import { domesticInitiationSchema, rejectionReason } from './mapping.ts';
import { futureDatedConsentRequestSchema, structuredReference, submissionRequestSchema } from './requests.ts';

/**
 * Domestic scheduled payments on Payment Initiation v4.0: OBWriteDomesticScheduledConsent4 and
 * OBWriteDomesticScheduled2 (a v4.0 domestic Initiation without CreditorAgent, with a
 * RequestedExecutionDateTime), and the ISO 20022 statuses of OBWriteDomesticScheduledResponse5.
 */
export const scheduledInitiationSchema = domesticInitiationSchema.omit({ CreditorAgent: true }).extend({
  EndToEndIdentification: z.string().min(1).max(35).optional(),
  RequestedExecutionDateTime: dateTime,
});
export type ScheduledInitiationV4 = z.infer<typeof scheduledInitiationSchema>;

export const scheduledConsentRequestSchema = futureDatedConsentRequestSchema(scheduledInitiationSchema);
export const scheduledPaymentRequestSchema = submissionRequestSchema(scheduledInitiationSchema);

/** What the bank schedules: the amount, when, and the reference both statements show. */
export function scheduledTerms(
  initiation: ScheduledInitiationV4,
  now: Date,
  path: string,
): { amountMinor: bigint; executeAt: Date; reference: string } {
  const amountMinor = checkDomesticInitiation(initiation, path);
  const executeAt = futureDate(
    initiation.RequestedExecutionDateTime,
    now,
    `${path}.RequestedExecutionDateTime`,
  );
  const reference =
    structuredReference(initiation.RemittanceInformation) ??
    initiation.EndToEndIdentification ??
    initiation.InstructionIdentification;
  return { amountMinor, executeAt, reference };
}

/**
 * The scheduled payment resource's Status from the bank's schedule: accepted and waiting for its date
 * (ACTC), paid from the debtor's account when due (ACSC), refused when due (RJCT, with the ISO reason of
 * the refusal), or cancelled before it was due (CANC).
 */
export function scheduledPaymentStatus(
  scheduled: string | undefined,
  execution: PaymentRecord | undefined,
): Record<string, unknown> {
  switch (scheduled) {
    case 'Executed':
      return { Status: 'ACSC' };
    case 'Cancelled':
      return { Status: 'CANC' };
    case 'Rejected':
      return {
        Status: 'RJCT',
        StatusReason: [
          execution
            ? rejectionReason(execution)
            : { StatusReasonCode: 'NARR', StatusReasonDescription: 'Rejected by the bank when due' },
        ],
      };
    default:
      return { Status: 'ACTC' };
  }
}
