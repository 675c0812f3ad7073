import { z } from 'zod';
import { checkDomesticInitiation, dateTime, futureDate } from '../validation.ts';
import { scheduledOnV4, type InstructionReport } from './instruction-status.ts';
import { domesticInitiationSchema } from './mapping.ts';
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
 * A domestic scheduled payment's statuses on v4.0: as an international one's (instruction-status.ts: ACTC
 * until due, then ACSC, or RJCT with why), except that a cancelled one is CANC, which the domestic
 * scheduled payment's Status enumeration has (payment-details still says RJCT with DS02, its set having
 * no cancelled code).
 */
export function domesticScheduledOnV4(report: InstructionReport): ReturnType<typeof scheduledOnV4> {
  const statuses = scheduledOnV4(report);
  return report.status === 'Cancelled' ? { ...statuses, resource: { Status: 'CANC' } } : statuses;
}
