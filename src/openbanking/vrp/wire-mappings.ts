import type { z } from 'zod';
import type { AccountRecord, PaymentRecord } from '../../bank/index.ts';
import type { Intent } from '../../consent/index.ts';
import type { Tx } from '../http/idempotency.ts';
import { paymentStatusDetail, rejectionText } from '../pis/common.ts';
import { paymentReference as isoPaymentReference, riskOnV4 } from '../pis/v4.0/mapping.ts';
import { PIS_WIRE } from '../pis/wire-mappings.ts';
import { consentStatusOn, type ApiVersion } from '../versions.ts';
import { VRP_CONSENT_CHECKS_V3, VRP_CONSENT_CHECKS_V4, type VrpConsentCheck } from './consent-checks.ts';
import { VRP_PAYMENT_CHECKS_V3, VRP_PAYMENT_CHECKS_V4, type VrpPaymentCheck } from './payment-checks.ts';
import { vrpTypeConsentRules, vrpTypePaymentRules } from './rules/checks.ts';
import { checkSweepingPayment, regimeOfConsent } from './rules/index.ts';
import * as v3 from './validation.ts';
import * as v4 from './v4.0/mapping.ts';
import { consentDocument, migratedConsent } from './v4.0/migration.ts';

type VrpRequestOn = z.infer<typeof v3.vrpRequestSchema> | z.infer<typeof v4.vrpRequestSchema>;
type VrpConsentRequestOn =
  z.infer<typeof v3.vrpConsentRequestSchema> | z.infer<typeof v4.vrpConsentRequestSchema>;

/**
 * What a version of the domestic VRP API supplies to the one set of handlers (domestic-vrp.ts): its request
 * schemas, the checks its specification asks of consents and payments, the reference a payment carries to
 * the ledger, its statuses, and how a stored consent or payment (one made on another version included)
 * reads in its terms.
 */
export interface VrpWireMapping {
  consentRequest: z.ZodType<VrpConsentRequestOn>;
  paymentRequest: z.ZodType<VrpRequestOn>;
  consentChecks: readonly VrpConsentCheck[];
  paymentChecks: readonly VrpPaymentCheck[];
  /**
   * Rules of the consent's VRP regime that the ledger decides (sweeping: the creditor account is the PSU's
   * own), run in the payment's transaction with the debtor account the PSU authorised.
   */
  payeeRules?: (
    tx: Tx,
    intent: Intent,
    debtor: AccountRecord,
    creditor: { SchemeName: string; Identification: string; Name?: string | undefined },
    /** The customer account `creditor` names here, read with the debtor's (null: none): not looked up again. */
    creditorAccount: AccountRecord | null | undefined,
  ) => Promise<void>;
  /** The reference the ledger shows both parties. */
  paymentReference(instruction: VrpRequestOn['Data']['Instruction']): string;
  /** A consent's Status as of `now`; undefined when the version has no such consent (gone). */
  consentStatus(intent: Intent, now: Date): string | undefined;
  /** A stored Initiation or Instruction as this version writes it. */
  part(part: unknown): unknown;
  /** A stored Risk as this version writes it. */
  risk(risk: Record<string, unknown>): Record<string, unknown>;
  /** A payment resource's Status and, when rejected, what the version says of why. */
  paymentStatus(payment: PaymentRecord): Record<string, unknown>;
  /** A payment's OBDomesticVRPDetails Data.PaymentStatus entry, its status as of `at`. */
  paymentStatusDetail(payment: PaymentRecord, at: string): Record<string, unknown>;
  /** How a consent of an older version moves to this one (PUT/PATCH); absent where the version has none. */
  migration?: VrpMigration;
}

/** A version's consent migration (consent-migration.ts serves it). */
export interface VrpMigration {
  /** The body a PUT sends, and a PATCH must produce: the version's consent request. */
  request: z.ZodType<z.infer<typeof v4.vrpConsentRequestSchema>>;
  /** The consent as a request body in its stored form: what a PATCH applies to. */
  document(intent: Intent): Record<string, unknown>;
  /** Checks the requested body against the consent as authorised; the `Data` and `Risk` to store. */
  migrate(
    intent: Intent,
    requested: z.infer<typeof v4.vrpConsentRequestSchema>,
  ): { data: Record<string, unknown>; risk: Record<string, unknown> };
}

const V3: VrpWireMapping = {
  consentRequest: v3.vrpConsentRequestSchema,
  paymentRequest: v3.vrpRequestSchema,
  consentChecks: VRP_CONSENT_CHECKS_V3,
  paymentChecks: VRP_PAYMENT_CHECKS_V3,
  paymentReference: (instruction) => {
    const remittance = instruction.RemittanceInformation as { Reference?: string } | undefined;
    return remittance?.Reference ?? instruction.EndToEndIdentification;
  },
  // A deleted (revoked) VRP consent is gone: v3.1.11 has no Revoked status for it. The v3.1.11 profile:
  // after a DELETE the ASPSP "must … respond to subsequent GET requests with … 400".
  consentStatus: (intent) => (intent.status === 'Revoked' ? undefined : intent.status),
  part: (part) => part,
  risk: (risk) => risk,
  paymentStatus: (payment) => ({
    Status: payment.status,
    ...(payment.status === 'Rejected'
      ? { StatusReason: 'UK.OBIE.OtherReason', StatusReasonDescription: rejectionText(payment.reason) }
      : {}),
  }),
  paymentStatusDetail,
};

const V4: VrpWireMapping = {
  consentRequest: v4.vrpConsentRequestSchema,
  paymentRequest: v4.vrpRequestSchema,
  // v4.0 serves the commercial VRP profile: the regime rules come first, so a request missing a field the
  // regime makes mandatory is told so (U004) rather than that it differs from its consent.
  consentChecks: [vrpTypeConsentRules, ...VRP_CONSENT_CHECKS_V4],
  paymentChecks: [vrpTypePaymentRules, ...VRP_PAYMENT_CHECKS_V4],
  payeeRules: async (tx, intent, debtor, creditor, creditorAccount) => {
    const control = intent.data.ControlParameters as v3.ControlParameters;
    if (!intent.customerId) return;
    await checkSweepingPayment(
      tx,
      regimeOfConsent(control.VRPType),
      intent.customerId,
      debtor,
      creditor,
      creditorAccount,
    );
  },
  paymentReference: (instruction) =>
    isoPaymentReference(instruction as Parameters<typeof isoPaymentReference>[0]),
  // v4.0 keeps a cancelled consent readable as CANC (with its StatusReason), and names an expired one EXPD.
  consentStatus: (intent, now) => consentStatusOn('v4.0', intent, now),
  part: v4.vrpPartOnV4,
  risk: riskOnV4,
  // The payment statuses and reasons are ISO 20022's, as for the other v4.0 payments.
  paymentStatus: PIS_WIRE['v4.0'].paymentStatus,
  paymentStatusDetail: PIS_WIRE['v4.0'].paymentStatusDetail,
  migration: { request: v4.vrpConsentRequestSchema, document: consentDocument, migrate: migratedConsent },
};

export const VRP_WIRE: Record<ApiVersion, VrpWireMapping> = { 'v3.1.11': V3, 'v4.0': V4 };
