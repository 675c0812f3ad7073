import { z } from 'zod';
import { describeRejection, type PaymentRecord } from '../../../bank/index.ts';
import { ADDRESS_TYPES } from '../../ais/v4.0/mapping.ts';
import {
  accountSchema,
  consentAuthorisationFields,
  creditorAccountSchema,
  dateTime,
  instructedAmountSchema,
} from '../validation.ts';

/**
 * Payment Initiation v4.0 on the wire (specs/ob-read-write/v4.0/payment-initiation-openapi.json): its
 * request bodies (strict where the file says `additionalProperties: false`) and its ISO 20022 statuses.
 */
export const text = (max: number) => z.string().min(1).max(max);
const countryCode = z.string().regex(/^[A-Z]{2}$/);

export const postalAddress = z.strictObject({
  AddressType: z.string().optional(),
  Department: text(70).optional(),
  SubDepartment: text(70).optional(),
  StreetName: text(70).optional(),
  BuildingNumber: text(16).optional(),
  BuildingName: text(140).optional(),
  Floor: text(70).optional(),
  UnitNumber: text(16).optional(),
  Room: text(70).optional(),
  PostBox: text(16).optional(),
  TownLocationName: text(140).optional(),
  DistrictName: text(140).optional(),
  CareOf: text(140).optional(),
  PostCode: text(16).optional(),
  TownName: text(140).optional(),
  CountrySubDivision: text(35).optional(),
  Country: countryCode.optional(),
  AddressLine: z.array(text(70)).max(7).optional(),
});

/** OBUltimateCreditor1 / OBUltimateDebtor1. */
export const ultimateParty = z.strictObject({
  SchemeName: z.string().optional(),
  Identification: text(256).optional(),
  Name: text(140).optional(),
  // LEI of the file: four digits, "00", twelve characters, two check digits (20 in all).
  LEI: z
    .string()
    .regex(/^[0-9]{4}0{2}[A-Z0-9]{12}[0-9]{2}$/)
    .optional(),
  PostalAddress: postalAddress.optional(),
});

/**
 * OBRemittanceInformation2: structured and unstructured lines (v3.1.11 had one Reference and one line),
 * each field typed as the file types it. The file leaves these objects open; they are closed here so that
 * a v3.1.11 `Reference` is refused rather than kept unread.
 */
export const remittance = z.strictObject({
  Structured: z
    .array(
      z.strictObject({
        ReferredDocumentInformation: z
          .array(
            z.strictObject({
              Code: z
                .enum([
                  'CINV',
                  'CNFA',
                  'CONT',
                  'CREN',
                  'DEBN',
                  'DISP',
                  'DNFA',
                  'HIRI',
                  'INVS',
                  'MSIN',
                  'PROF',
                  'PUOR',
                  'QUOT',
                  'SBIN',
                  'SPRR',
                  'TISH',
                ])
                .optional(),
              Issuer: text(35).optional(),
              Number: text(35).optional(),
              RelatedDate: dateTime.optional(),
              LineDetails: z.array(z.string()).optional(),
            }),
          )
          .optional(),
        ReferredDocumentAmount: z.number().int().min(-2147483648).max(2147483647).optional(),
        CreditorReferenceInformation: z
          .looseObject({
            Code: z.enum(['DISP', 'FXDR', 'PUOR', 'RPIN', 'RADM', 'SCOR']).optional(),
            Issuer: text(35).optional(),
            Reference: text(35).optional(),
          })
          .optional(),
        Invoicer: text(256).optional(),
        Invoicee: text(256).optional(),
        TaxRemittance: text(140).optional(),
        AdditionalRemittanceInformation: z.array(text(140)).max(3).optional(),
      }),
    )
    .optional(),
  Unstructured: z.array(text(140)).optional(),
});

/** OBRisk1 of v4.0: the payment context codes v4.0 keeps, and CategoryPurposeCode. */
export const riskSchema = z.strictObject({
  PaymentContextCode: z
    .enum([
      'BillingGoodsAndServicesInAdvance',
      'BillingGoodsAndServicesInArrears',
      'EcommerceMerchantInitiatedPayment',
      'FaceToFacePointOfSale',
      'TransferToSelf',
      'TransferToThirdParty',
    ])
    .optional(),
  MerchantCategoryCode: z.string().min(3).max(4).optional(),
  MerchantCustomerIdentification: text(70).optional(),
  ContractPresentIndicator: z.boolean().optional(),
  BeneficiaryPrepopulatedIndicator: z.boolean().optional(),
  PaymentPurposeCode: z.string().min(3).max(4).optional(),
  CategoryPurposeCode: z.string().min(3).max(4).optional(),
  BeneficiaryAccountType: z.string().optional(),
  DeliveryAddress: postalAddress.optional(),
});

export const domesticInitiationSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  LocalInstrument: z.string().optional(),
  InstructedAmount: instructedAmountSchema,
  DebtorAccount: accountSchema.optional(),
  CreditorAgent: z
    .strictObject({
      SchemeName: z.string().optional(),
      Identification: text(35).optional(),
      Name: text(140).optional(),
      LEI: ultimateParty.shape.LEI,
      PostalAddress: postalAddress.optional(),
    })
    .optional(),
  CreditorAccount: creditorAccountSchema,
  CreditorPostalAddress: postalAddress.optional(),
  UltimateCreditor: ultimateParty.optional(),
  UltimateDebtor: ultimateParty.optional(),
  // OBRegulatoryReporting1 is an open object in the file; its one closed field is checked.
  RegulatoryReporting: z
    .array(
      z.looseObject({
        DebitCreditReportingIndicator: z.enum(['CRED', 'DEBT', 'BOTH']).optional(),
        Authority: z.record(z.string(), z.unknown()).optional(),
        Details: z.array(z.record(z.string(), z.unknown())).optional(),
      }),
    )
    .max(10)
    .optional(),
  RemittanceInformation: remittance.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});

export const domesticConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: z.enum(['No', 'Yes']).optional(),
    Initiation: domesticInitiationSchema,
    ...consentAuthorisationFields(z.string()),
  }),
  Risk: riskSchema,
});

export const domesticPaymentRequestSchema = z.strictObject({
  Data: z.strictObject({ ConsentId: text(128), Initiation: domesticInitiationSchema }),
  Risk: riskSchema,
});

/** The reference both statements show: the first structured creditor reference, else the end-to-end id. */
export function paymentReference(initiation: z.infer<typeof domesticInitiationSchema>): string {
  const structured = initiation.RemittanceInformation?.Structured ?? [];
  const reference = structured.find((entry) => entry.CreditorReferenceInformation?.Reference)
    ?.CreditorReferenceInformation?.Reference;
  return reference ?? initiation.EndToEndIdentification;
}

/** The bank's payment statuses → ExternalPaymentTransactionStatus1Code. */
const PAYMENT_STATUSES: Record<string, string> = {
  Pending: 'PDNG',
  AcceptedSettlementCompleted: 'ACSC',
  AcceptedCreditSettlementCompleted: 'ACCC',
  Rejected: 'RJCT',
  InitiationCompleted: 'ACTC',
};

export function paymentStatus(status: string): string {
  const code = PAYMENT_STATUSES[status];
  if (!code) throw new Error(`payment status ${status} has no v4.0 code`);
  return code;
}

/** The bank's rejection reasons → ExternalStatusReason1Code (ISO 20022). */
const REJECTION_CODES: Record<string, string> = {
  'insufficient-funds': 'AM04',
  'account-not-enabled': 'AC06',
  'currency-mismatch': 'AM03',
};

/** OBStatusReason of a rejected payment: the ISO reason code and the bank's wording. */
export function rejectionReason(payment: PaymentRecord): {
  StatusReasonCode: string;
  StatusReasonDescription: string;
} {
  return {
    StatusReasonCode: (payment.reason && REJECTION_CODES[payment.reason]) || 'NARR',
    StatusReasonDescription: describeRejection(payment.reason),
  };
}

/**
 * The stored consent statuses → the payment consent Status enum of v4.0 (AWAU, RJCT, AUTH, COND). A
 * consumed consent stays AUTH: v4.0 has no consumed status, and the payment resource tells what followed.
 */
const CONSENT_STATUSES: Record<string, string> = {
  AwaitingAuthorisation: 'AWAU',
  Authorised: 'AUTH',
  Consumed: 'AUTH',
  Rejected: 'RJCT',
};

export function consentStatus(status: string): string {
  const code = CONSENT_STATUSES[status];
  if (!code) throw new Error(`payment consent status ${status} has no v4.0 code`);
  return code;
}

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A v3.1.11 postal address (OBPostalAddress6) as v4.0's OBPostalAddress7: its type word as the ISO code. */
export function addressOnV4(address: unknown): unknown {
  if (!isJson(address) || typeof address.AddressType !== 'string') return address;
  return { ...address, AddressType: ADDRESS_TYPES[address.AddressType] ?? address.AddressType };
}

/**
 * An Initiation as v4.0 writes it. A consent or payment made on v3.1.11 may be read on v4.0 (the PIS
 * profile's release management: an older resource is accessible on a newer version), so v3.1.11's
 * RemittanceInformation (one `Reference`, one `Unstructured` line) becomes OBRemittanceInformation2; a
 * v4.0 Initiation has neither shape and passes unchanged.
 */
export function initiationOnV4(initiation: unknown): unknown {
  if (!isJson(initiation) || !isJson(initiation.RemittanceInformation)) return initiation;
  const { Reference, Unstructured, ...rest } = initiation.RemittanceInformation;
  if (typeof Reference !== 'string' && typeof Unstructured !== 'string') return initiation;
  return {
    ...initiation,
    RemittanceInformation: {
      ...rest,
      ...(typeof Reference === 'string'
        ? { Structured: [{ CreditorReferenceInformation: { Reference } }] }
        : {}),
      ...(typeof Unstructured === 'string' ? { Unstructured: [Unstructured] } : { Unstructured }),
    },
  };
}

const V4_PAYMENT_CONTEXTS: readonly string[] = riskSchema.shape.PaymentContextCode.unwrap().options;

/**
 * A consent's Risk as v4.0 writes it: v3.1.11's misspelt `ContractPresentInidicator` under its v4.0 name,
 * and a PaymentContextCode v4.0 dropped (PartyToParty, EcommerceGoods, …) left out, as v4.0 has no such value.
 */
export function riskOnV4(risk: Json): Json {
  const { ContractPresentInidicator, PaymentContextCode, ...rest } = risk;
  return {
    ...rest,
    ...(typeof PaymentContextCode === 'string' && V4_PAYMENT_CONTEXTS.includes(PaymentContextCode)
      ? { PaymentContextCode }
      : {}),
    ...(ContractPresentInidicator !== undefined
      ? { ContractPresentIndicator: ContractPresentInidicator }
      : {}),
  };
}
