import { z } from 'zod';
import {
  accountSchema,
  creditorAccountSchema,
  currencySchema,
  dateTime,
  instructedAmountSchema,
} from '../validation.ts';
import {
  addressOnV4,
  domesticConsentRequestSchema,
  domesticInitiationSchema,
  postalAddress,
  remittance,
  riskSchema,
  text,
  ultimateParty,
} from './mapping.ts';
import { futureDatedConsentRequestSchema, structuredReference, submissionRequestSchema } from './requests.ts';
import { exchangeRateInformationSchema } from '../international-terms.ts';
import { mandateSchedule, mandateSchema, standingOrderInitiationOnV4 } from './standing-order.ts';

/**
 * International payments of Payment Initiation v4.0 on the wire (specs/ob-read-write/v4.0/
 * payment-initiation-openapi.json): OBWriteInternationalConsent5, OBWriteInternationalScheduledConsent5,
 * OBWriteInternationalStandingOrderConsent6 and their submissions, and how a v3.1.11 Initiation reads on v4.0.
 */

const consentData = domesticConsentRequestSchema.shape.Data.shape;

const internationalFields = {
  ExtendedPurpose: text(140).optional(),
  ChargeBearer: z.enum(['BorneByCreditor', 'BorneByDebtor', 'FollowingServiceLevel', 'Shared']).optional(),
  CurrencyOfTransfer: currencySchema,
  DestinationCountryCode: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  InstructedAmount: instructedAmountSchema,
  DebtorAccount: accountSchema.optional(),
  Creditor: z
    .strictObject({
      Name: text(350).optional(),
      LEI: ultimateParty.shape.LEI,
      PostalAddress: postalAddress.optional(),
    })
    .optional(),
  CreditorAgent: domesticInitiationSchema.shape.CreditorAgent,
  CreditorAccount: creditorAccountSchema,
  UltimateCreditor: ultimateParty.optional(),
  UltimateDebtor: ultimateParty.optional(),
  RegulatoryReporting: domesticInitiationSchema.shape.RegulatoryReporting,
  RemittanceInformation: remittance.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
};

export const internationalInitiationSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  LocalInstrument: z.string().optional(),
  InstructionPriority: z.enum(['Normal', 'Urgent']).optional(),
  ...internationalFields,
  ExchangeRateInformation: exchangeRateInformationSchema.optional(),
});

export const internationalScheduledInitiationSchema = internationalInitiationSchema.extend({
  EndToEndIdentification: text(35).optional(),
  RequestedExecutionDateTime: dateTime,
});

export const internationalStandingOrderInitiationSchema = z.strictObject({
  NumberOfPayments: text(35).optional(),
  ...internationalFields,
  MandateRelatedInformation: mandateSchema,
});

/** OBWriteInternationalConsent5: a single payment's consent has no Permission. */
export const consentRequestSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: consentData.ReadRefundAccount,
    Initiation: internationalInitiationSchema,
    Authorisation: consentData.Authorisation,
    SCASupportData: consentData.SCASupportData,
  }),
  Risk: riskSchema,
});
export const paymentRequestSchema = submissionRequestSchema(internationalInitiationSchema);
export const scheduledConsentRequestSchema = futureDatedConsentRequestSchema(
  internationalScheduledInitiationSchema,
);
export const scheduledPaymentRequestSchema = submissionRequestSchema(internationalScheduledInitiationSchema);
export const standingOrderConsentRequestSchema = futureDatedConsentRequestSchema(
  internationalStandingOrderInitiationSchema,
);
export const standingOrderRequestSchema = submissionRequestSchema(internationalStandingOrderInitiationSchema);

/**
 * A v4.0 international standing order's schedule in the bank's terms (mandateSchedule, as for domestic
 * ones) and its reference: the first structured creditor reference, else the mandate's identification.
 */
export function standingOrderSchedule(
  initiation: z.infer<typeof internationalStandingOrderInitiationSchema>,
  now: Date,
) {
  const reference =
    structuredReference(initiation.RemittanceInformation) ??
    initiation.MandateRelatedInformation.MandateIdentification;
  return { ...mandateSchedule(initiation, now, 'Data.Initiation'), reference };
}

/**
 * An international scheduled payment's Status: OBWriteInternationalScheduledResponse6 has no CANC (the
 * domestic one has), so one cancelled before it was due is RJCT with ISO 20022 DS02 (order cancelled).
 */
export function internationalScheduledStatus(status: Record<string, unknown>): Record<string, unknown> {
  if (status.Status !== 'CANC') return status;
  return {
    Status: 'RJCT',
    StatusReason: [{ StatusReasonCode: 'DS02', StatusReasonDescription: 'Cancelled before it was due' }],
  };
}

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A party (Creditor, CreditorAgent) whose postal address v3.1.11 wrote. */
function partyOnV4(party: unknown): unknown {
  if (!isJson(party) || party.PostalAddress === undefined) return party;
  return { ...party, PostalAddress: addressOnV4(party.PostalAddress) };
}

/**
 * What v4.0 writes differently of an international Initiation staged on v3.1.11 (PIS release management:
 * an older consent or payment-order is readable on the newer version): no `Purpose` code (v4.0 keeps
 * ExtendedPurpose only), postal address types as codes, and a standing order's schedule under
 * MandateRelatedInformation (`standingOrderInitiationOnV4`, as for domestic ones). The remittance itself
 * is mapped by `initiationOnV4` (mapping.ts); a v4.0 Initiation passes unchanged.
 */
export function internationalInitiationOnV4(initiation: unknown): unknown {
  if (!isJson(initiation)) return initiation;
  const wire: Json = { ...initiation };
  delete wire.Purpose;
  if (wire.Creditor !== undefined) wire.Creditor = partyOnV4(wire.Creditor);
  if (wire.CreditorAgent !== undefined) wire.CreditorAgent = partyOnV4(wire.CreditorAgent);
  return standingOrderInitiationOnV4(wire);
}
