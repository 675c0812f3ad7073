import type { z } from 'zod';
import type { PaymentRecord } from '../../bank/index.ts';
import type { ApiVersion } from '../versions.ts';
import type { Intent } from '../../consent/index.ts';
import { paymentStatusDetail } from './common.ts';
import * as v3 from './validation.ts';
import * as v4 from './v4.0/mapping.ts';
import * as v3International from './international-terms.ts';
import * as v4International from './v4.0/international.ts';
import { structuredReference } from './v4.0/requests.ts';

type DomesticInitiationOn =
  z.infer<typeof v3.domesticInitiationSchema> | z.infer<typeof v4.domesticInitiationSchema>;

/**
 * What a version of Payment Initiation supplies to the one set of handlers (domestic.ts): its request
 * schemas, the reference a payment carries to the ledger, and its payment statuses and rejection reasons.
 */
export interface PisWireMapping {
  domesticConsentRequest: z.ZodType<{
    Data: { Initiation: DomesticInitiationOn } & Record<string, unknown>;
    Risk: Record<string, unknown>;
  }>;
  domesticPaymentRequest: z.ZodType<{
    Data: { ConsentId: string; Initiation: DomesticInitiationOn };
    Risk: Record<string, unknown>;
  }>;
  paymentReference(initiation: DomesticInitiationOn): string;
  /** A payment resource's Status and, when rejected, what the version says of why. */
  paymentStatus(payment: PaymentRecord): Record<string, unknown>;
  /** A payment's OBWritePaymentDetailsResponse1 Data.PaymentStatus entry, its status as of `at`. */
  paymentStatusDetail(payment: PaymentRecord, at: string): Record<string, unknown>;
  /** A payment consent's Status. */
  consentStatus(intent: Intent): string;
  /** A consent as this version writes it (one staged on an older version included). */
  consentOn(intent: Intent): Intent;
  /** A stored Initiation as this version writes it. */
  initiation(initiation: unknown): unknown;

  // ── International payments: single, scheduled, standing orders ──
  international: InternationalWire;
}

// ── International payments (international.ts; future-dated.ts for scheduled and standing orders) ──

/** An international Initiation as a version writes it: the fields the one set of handlers reads. */
type InternationalOn =
  | z.infer<typeof v3International.internationalInitiationSchema>
  | z.infer<typeof v4International.internationalInitiationSchema>;
export type InternationalScheduledOn =
  | z.infer<typeof v3International.internationalScheduledInitiationSchema>
  | z.infer<typeof v4International.internationalScheduledInitiationSchema>;
export type InternationalStandingOrderOn =
  | z.infer<typeof v3International.internationalStandingOrderInitiationSchema>
  | z.infer<typeof v4International.internationalStandingOrderInitiationSchema>;

type ConsentRequest<I> = z.ZodType<{
  Data: { Initiation: I } & Record<string, unknown>;
  Risk: Record<string, unknown>;
}>;
type PaymentRequest<I> = z.ZodType<{
  Data: { ConsentId: string; Initiation: I };
  Risk: Record<string, unknown>;
}>;

export interface InternationalWire {
  consentRequest: ConsentRequest<InternationalOn>;
  paymentRequest: PaymentRequest<InternationalOn>;
  scheduledConsentRequest: ConsentRequest<InternationalScheduledOn>;
  scheduledPaymentRequest: PaymentRequest<InternationalScheduledOn>;
  standingOrderConsentRequest: ConsentRequest<InternationalStandingOrderOn>;
  standingOrderRequest: PaymentRequest<InternationalStandingOrderOn>;
  /** The reference a single or scheduled payment's Initiation gives the ledger, if it gives one. */
  reference(initiation: InternationalOn | InternationalScheduledOn): string | undefined;
  /** A standing order's schedule (checked as of `now`), the bank's frequency pattern and its reference. */
  standingOrderSchedule(
    initiation: InternationalStandingOrderOn,
    now: Date,
  ): v3.StandingOrderSchedule & { frequency: string; reference: string | undefined };
}

const V3_INTERNATIONAL: InternationalWire = {
  consentRequest: v3International.internationalConsentRequestSchema,
  paymentRequest: v3.submissionRequestSchema(v3International.internationalInitiationSchema),
  scheduledConsentRequest: v3.futureDatedConsentRequestSchema(
    v3International.internationalScheduledInitiationSchema,
  ),
  scheduledPaymentRequest: v3.submissionRequestSchema(v3International.internationalScheduledInitiationSchema),
  standingOrderConsentRequest: v3.futureDatedConsentRequestSchema(
    v3International.internationalStandingOrderInitiationSchema,
  ),
  standingOrderRequest: v3.submissionRequestSchema(
    v3International.internationalStandingOrderInitiationSchema,
  ),
  reference: (initiation) =>
    (initiation as z.infer<typeof v3International.internationalInitiationSchema>).RemittanceInformation
      ?.Reference,
  standingOrderSchedule: (initiation, now) => {
    const v3Initiation = initiation as z.infer<
      typeof v3International.internationalStandingOrderInitiationSchema
    >;
    return {
      ...v3.checkStandingOrderSchedule(v3Initiation, now, 'Data.Initiation'),
      frequency: v3Initiation.Frequency,
      reference: v3Initiation.Reference,
    };
  },
};

const V4_INTERNATIONAL: InternationalWire = {
  consentRequest: v4International.consentRequestSchema,
  paymentRequest: v4International.paymentRequestSchema,
  scheduledConsentRequest: v4International.scheduledConsentRequestSchema,
  scheduledPaymentRequest: v4International.scheduledPaymentRequestSchema,
  standingOrderConsentRequest: v4International.standingOrderConsentRequestSchema,
  standingOrderRequest: v4International.standingOrderRequestSchema,
  reference: (initiation) =>
    structuredReference(
      (initiation as z.infer<typeof v4International.internationalInitiationSchema>).RemittanceInformation,
    ),
  standingOrderSchedule: (initiation, now) =>
    v4International.standingOrderSchedule(
      initiation as z.infer<typeof v4International.internationalStandingOrderInitiationSchema>,
      now,
    ),
};

const V3: PisWireMapping = {
  domesticConsentRequest: v3.domesticConsentRequestSchema,
  domesticPaymentRequest: v3.domesticPaymentRequestSchema,
  paymentReference: (initiation) => {
    const remittance = initiation.RemittanceInformation as { Reference?: string } | undefined;
    return remittance?.Reference ?? initiation.EndToEndIdentification;
  },
  paymentStatus: (payment) => ({ Status: payment.status }),
  paymentStatusDetail,
  consentStatus: (intent) => intent.status,
  consentOn: (intent) => intent,
  initiation: (initiation) => initiation,
  international: V3_INTERNATIONAL,
};

/** A stored Initiation (of any kind, staged on any version) as v4.0 writes it. */
const initiationOnV4 = (initiation: unknown) =>
  v4International.internationalInitiationOnV4(v4.initiationOnV4(initiation));

const V4: PisWireMapping = {
  domesticConsentRequest: v4.domesticConsentRequestSchema,
  domesticPaymentRequest: v4.domesticPaymentRequestSchema,
  paymentReference: (initiation) =>
    v4.paymentReference(initiation as z.infer<typeof v4.domesticInitiationSchema>),
  paymentStatus: (payment) => ({
    Status: v4.paymentStatus(payment.status),
    ...(payment.status === 'Rejected' ? { StatusReason: [v4.rejectionReason(payment)] } : {}),
  }),
  paymentStatusDetail: (payment, at) => {
    const status = v4.paymentStatus(payment.status);
    const entry = {
      PaymentTransactionId: payment.entryId ?? payment.id,
      Status: status,
      StatusUpdateDateTime: at,
    };
    if (payment.status !== 'Rejected') return entry;
    const reason = v4.rejectionReason(payment);
    return {
      ...entry,
      StatusDetail: {
        Status: status,
        StatusReason: reason.StatusReasonCode,
        StatusReasonDescription: reason.StatusReasonDescription,
      },
    };
  },
  consentStatus: (intent) => v4.consentStatus(intent.status),
  consentOn: (intent) => ({
    ...intent,
    data: { ...intent.data, Initiation: initiationOnV4(intent.data.Initiation) },
    risk: v4.riskOnV4(intent.risk),
  }),
  initiation: initiationOnV4,
  international: V4_INTERNATIONAL,
};

export const PIS_WIRE: Record<ApiVersion, PisWireMapping> = { 'v3.1.11': V3, 'v4.0': V4 };
