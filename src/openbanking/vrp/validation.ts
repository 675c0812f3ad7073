import { z } from 'zod';
import { PERIOD_TYPES } from '../../bank/index.ts';
import {
  accountSchema,
  amountSchema,
  creditorAccountSchema,
  currencySchema,
  instructedAmountSchema,
  remittanceSchema,
  riskSchema,
} from '../pis/validation.ts';
import { COMMERCIAL_VRP_TYPES } from './rules/regimes.ts';

/** Request bodies of the domestic VRP API (vrp-openapi.json, v3.1.11). */
const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/, {
  message: 'must be an ISO 8601 date-time with a zone',
});
export const VRP_TYPES = ['UK.OBIE.VRPType.Sweeping', 'UK.OBIE.VRPType.Other'] as const;
/** v4.0 serves the commercial VRP profile (specs/ob-cvrp/v4.0): its VRP types add CVRP1, CVRP2 and CVRP3. */
export const VRP_TYPES_V4 = [...VRP_TYPES, ...COMMERCIAL_VRP_TYPES] as const;
export const AUTH_METHODS = ['UK.OBIE.SCA', 'UK.OBIE.SCANotRequired'] as const;
export const INTERACTION_TYPES = ['InSession', 'OffSession'] as const;

const namedAccount = accountSchema.extend({ Name: z.string().min(1).max(350) });

export const vrpInitiationSchema = z.strictObject({
  DebtorAccount: namedAccount.optional(),
  CreditorAccount: creditorAccountSchema.optional(),
  CreditorPostalAddress: z.record(z.string(), z.unknown()).optional(),
  RemittanceInformation: remittanceSchema.optional(),
});

export const controlParametersSchema = z.strictObject({
  ValidFromDateTime: dateTime.optional(),
  ValidToDateTime: dateTime.optional(),
  MaximumIndividualAmount: instructedAmountSchema,
  PeriodicLimits: z
    .array(
      z.strictObject({
        PeriodType: z.enum(PERIOD_TYPES),
        PeriodAlignment: z.enum(['Consent', 'Calendar']),
        Amount: amountSchema,
        Currency: currencySchema,
      }),
    )
    .min(1),
  VRPType: z.array(z.enum(VRP_TYPES)).min(1),
  PSUAuthenticationMethods: z.array(z.enum(AUTH_METHODS)).min(1),
  PSUInteractionTypes: z.array(z.enum(INTERACTION_TYPES)).optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});
/** v4.0's: the same object, with the commercial VRP types. */
export const controlParametersSchemaV4 = controlParametersSchema.extend({
  VRPType: z.array(z.enum(VRP_TYPES_V4)).min(1),
});
export type ControlParameters = z.infer<typeof controlParametersSchemaV4>;

export const vrpConsentRequestSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: z.enum(['Yes', 'No']).optional(),
    ControlParameters: controlParametersSchema,
    Initiation: vrpInitiationSchema,
  }),
  Risk: riskSchema,
});

export const vrpInstructionSchema = z.strictObject({
  InstructionIdentification: z.string().min(1).max(35),
  EndToEndIdentification: z.string().min(1).max(35),
  RemittanceInformation: remittanceSchema.optional(),
  LocalInstrument: z.string().optional(),
  InstructedAmount: instructedAmountSchema,
  CreditorPostalAddress: z.record(z.string(), z.unknown()).optional(),
  CreditorAccount: creditorAccountSchema,
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});

export const vrpRequestSchema = z.strictObject({
  Data: z.strictObject({
    ConsentId: z.string().min(1).max(128),
    PSUAuthenticationMethod: z.enum(AUTH_METHODS),
    PSUInteractionType: z.enum(INTERACTION_TYPES).optional(),
    VRPType: z.enum(VRP_TYPES),
    Initiation: vrpInitiationSchema,
    Instruction: vrpInstructionSchema,
  }),
  Risk: riskSchema,
});

export const vrpFundsConfirmationSchema = z.strictObject({
  Data: z.strictObject({
    ConsentId: z.string().min(1).max(128),
    Reference: z.string().min(1).max(35).optional(),
    InstructedAmount: instructedAmountSchema,
  }),
});
