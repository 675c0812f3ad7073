import { z } from 'zod';
import {
  addressOnV4,
  domesticInitiationSchema as pisInitiation,
  initiationOnV4 as pisInitiationOnV4,
  postalAddress,
  remittance,
  riskOnV4,
  riskSchema,
  ultimateParty,
} from '../../pis/v4.0/mapping.ts';
import { instructedAmountSchema } from '../../pis/validation.ts';
import { AUTH_METHODS, controlParametersSchemaV4, INTERACTION_TYPES, VRP_TYPES_V4 } from '../validation.ts';

/**
 * Domestic VRP v4.0 on the wire (specs/ob-read-write/v4.0/vrp-openapi.json): its request bodies, and how a
 * consent or payment stored by v3.1.11 reads in v4.0's terms. The ControlParameters are the same object in
 * both files (v3.1.11's schema serves both); what changed is the Initiation and Instruction (ISO 20022
 * remittance, OBPostalAddress7 with short address-type codes, ultimate parties, regulatory reporting), the
 * accounts (OBProxy1, names of at most 70 characters) and Risk (OBRisk1 of v4.0).
 */
const text = (max: number) => z.string().min(1).max(max);

/** OBProxy1. */
const proxy = z.strictObject({
  Identification: text(2048),
  Code: z.enum([
    'TELE',
    'EMAL',
    'DNAM',
    'CINC',
    'COTX',
    'COID',
    'CUST',
    'DRLC',
    'EIDN',
    'EWAL',
    'PVTX',
    'LEIC',
    'MBNO',
    'NIDN',
    'CCPT',
    'SHID',
    'SOSE',
    'TOKN',
    'UBIL',
    'VIPN',
    'BIID',
  ]),
  Type: text(35).optional(),
});

/** OBCashAccountDebtorWithName and OBCashAccountCreditor3 (the same fields in v4.0). */
const namedAccount = z.strictObject({
  SchemeName: text(40),
  Identification: text(256),
  Name: text(70),
  SecondaryIdentification: text(34).optional(),
  Proxy: proxy.optional(),
});

/**
 * OBDomesticVRPControlParameters: the same object in the v3.1.11 and v4.0 files, with the VRP types of the
 * commercial VRP profile v4.0 serves (CVRP1-3; validation.ts).
 */
export const controlParametersSchema = controlParametersSchemaV4;

export const vrpInitiationSchema = z.strictObject({
  DebtorAccount: namedAccount.optional(),
  CreditorAccount: namedAccount.optional(),
  CreditorPostalAddress: postalAddress.optional(),
  UltimateCreditor: ultimateParty.optional(),
  UltimateDebtor: ultimateParty.optional(),
  RemittanceInformation: remittance.optional(),
  RegulatoryReporting: pisInitiation.shape.RegulatoryReporting,
});
export type VrpInitiationV4 = z.infer<typeof vrpInitiationSchema>;

export const vrpConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
    ControlParameters: controlParametersSchema,
    Initiation: vrpInitiationSchema,
  }),
  Risk: riskSchema,
});
export type VrpConsentRequestV4 = z.infer<typeof vrpConsentRequestSchema>;

export const vrpInstructionSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  RemittanceInformation: remittance.optional(),
  LocalInstrument: z.string().optional(),
  InstructedAmount: instructedAmountSchema,
  CreditorPostalAddress: postalAddress.optional(),
  CreditorAccount: namedAccount,
  UltimateCreditor: ultimateParty.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});

export const vrpRequestSchema = z.strictObject({
  Data: z.strictObject({
    ConsentId: text(128),
    PSUAuthenticationMethod: z.enum(AUTH_METHODS),
    PSUInteractionType: z.enum(INTERACTION_TYPES).optional(),
    VRPType: z.enum(VRP_TYPES_V4),
    Initiation: vrpInitiationSchema,
    Instruction: vrpInstructionSchema,
  }),
  Risk: riskSchema,
});

type Json = Record<string, unknown>;
const isJson = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A VRP Initiation or Instruction as v4.0 writes it. A consent or payment made on v3.1.11 read on v4.0 is
 * mapped to the v4.0 equivalents (OB knowledge base, "How should ASPSPs handle VRP payment consents
 * created in v3 when ASPSP is now on v4?": the ASPSP must map fields to their v4 equivalents): one
 * `Reference` and one `Unstructured` line become OBRemittanceInformation2 (pis/v4.0/mapping.ts), an
 * address type word its ISO code. A v4.0 object has neither shape and passes unchanged.
 */
export function vrpPartOnV4(part: unknown): unknown {
  const mapped = pisInitiationOnV4(part);
  if (!isJson(mapped) || mapped.CreditorPostalAddress === undefined) return mapped;
  return { ...mapped, CreditorPostalAddress: addressOnV4(mapped.CreditorPostalAddress) };
}

/** A consent's Risk as v4.0 writes it: v3.1.11's names and codes that changed, and the delivery address. */
export function vrpRiskOnV4(risk: Json): Json {
  const mapped = riskOnV4(risk);
  return mapped.DeliveryAddress === undefined
    ? mapped
    : { ...mapped, DeliveryAddress: addressOnV4(mapped.DeliveryAddress) };
}
