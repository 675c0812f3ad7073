import type { z } from 'zod';
import type { PaymentRecord } from '../../bank/index.ts';
import type { ApiVersion } from '../versions.ts';
import type { Intent } from '../../consent/index.ts';
import { paymentStatusDetail } from './common.ts';
import * as v3 from './validation.ts';
import * as v4 from './v4.0/mapping.ts';

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
}

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
};

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
    data: { ...intent.data, Initiation: v4.initiationOnV4(intent.data.Initiation) },
    risk: v4.riskOnV4(intent.risk),
  }),
  initiation: v4.initiationOnV4,
};

export const PIS_WIRE: Record<ApiVersion, PisWireMapping> = { 'v3.1.11': V3, 'v4.0': V4 };
