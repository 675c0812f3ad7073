import type { VrpRule } from './rule.ts';
import type { VrpConsentView, VrpPaymentView, VrpRiskView } from './views.ts';

/**
 * Commercial VRP (cVRP): the rules the cVRP profile of v4.0 VRP adds (OpenBankingUK/Commercial-VRP-API-Spec,
 * CHANGELOG): the PSU interaction type is mandatory, in the consent (`PSUInteractionTypes`) and in each
 * payment (`PSUInteractionType`); the transaction risk indicators below are mandatory in `Risk`
 * (`DeliveryAddress` stays conditional); and two of them take only the values the cVRP scheme accepts.
 */
export const CVRP_MANDATORY_RISK_FIELDS = [
  'PaymentContextCode',
  'MerchantCategoryCode',
  'MerchantCustomerIdentification',
  'ContractPresentIndicator',
  'BeneficiaryPrepopulatedIndicator',
  'PaymentPurposeCode',
  'CategoryPurposeCode',
  'BeneficiaryAccountType',
] as const satisfies readonly (keyof VrpRiskView)[];

/** "Only the following values are valid for cVRP" (the cVRP file's PaymentContextCode description). */
export const CVRP_PAYMENT_CONTEXTS = [
  'TransferToSelf',
  'EcommerceMerchantInitiatedPayment',
  'FaceToFacePointOfSale',
  'TransferToThirdParty',
] as const;

/** The values of OBInternalExtendedAccountType1Code the cVRP file names valid for cVRP. */
export const CVRP_BENEFICIARY_ACCOUNT_TYPES = [
  'Personal',
  'Business',
  'Charity',
  'Government',
  'ISA',
] as const;

type RiskRule = VrpRule<{ Risk: VrpRiskView }>;

/** One rule per mandatory risk indicator: absent is `UK.OBIE.Field.Missing` (U004) at `Risk.<field>`. */
const mandatoryRiskRules: RiskRule[] = CVRP_MANDATORY_RISK_FIELDS.map((field) => ({
  name: `cVRP: Risk.${field} is mandatory`,
  check: ({ Risk }) =>
    Risk[field] === undefined
      ? {
          code: 'UK.OBIE.Field.Missing',
          path: `Risk.${field}`,
          message: `Risk.${field} is mandatory for commercial VRP`,
        }
      : undefined,
}));

const riskValueRules: RiskRule[] = [
  {
    name: 'cVRP: Risk.PaymentContextCode is a cVRP payment context',
    check: ({ Risk: { PaymentContextCode: context } }) =>
      context !== undefined && !(CVRP_PAYMENT_CONTEXTS as readonly string[]).includes(context)
        ? {
            code: 'UK.OBIE.Field.Invalid',
            path: 'Risk.PaymentContextCode',
            message: `${context} is not a payment context of commercial VRP (${CVRP_PAYMENT_CONTEXTS.join(', ')})`,
          }
        : undefined,
  },
  {
    name: 'cVRP: Risk.BeneficiaryAccountType is a cVRP account type',
    check: ({ Risk: { BeneficiaryAccountType: accountType } }) =>
      accountType !== undefined &&
      !(CVRP_BENEFICIARY_ACCOUNT_TYPES as readonly string[]).includes(accountType)
        ? {
            code: 'UK.OBIE.Field.Invalid',
            path: 'Risk.BeneficiaryAccountType',
            message:
              `${accountType} is not a beneficiary account type of commercial VRP ` +
              `(${CVRP_BENEFICIARY_ACCOUNT_TYPES.join(', ')})`,
          }
        : undefined,
  },
];

export const COMMERCIAL_CONSENT_RULES: readonly VrpRule<VrpConsentView>[] = [
  {
    name: 'cVRP: ControlParameters.PSUInteractionTypes is mandatory',
    check: ({ Data: { ControlParameters: control } }) =>
      control.PSUInteractionTypes === undefined || control.PSUInteractionTypes.length === 0
        ? {
            code: 'UK.OBIE.Field.Missing',
            path: 'Data.ControlParameters.PSUInteractionTypes',
            message: 'PSUInteractionTypes (InSession, OffSession or both) is mandatory for commercial VRP',
          }
        : undefined,
  },
  ...mandatoryRiskRules,
  ...riskValueRules,
];

export const COMMERCIAL_PAYMENT_RULES: readonly VrpRule<VrpPaymentView>[] = [
  {
    name: 'cVRP: PSUInteractionType is mandatory in a payment',
    check: ({ Data }) =>
      Data.PSUInteractionType === undefined
        ? {
            code: 'UK.OBIE.Field.Missing',
            path: 'Data.PSUInteractionType',
            message: 'PSUInteractionType (InSession or OffSession) is mandatory for a commercial VRP payment',
          }
        : undefined,
  },
  ...mandatoryRiskRules,
  ...riskValueRules,
];
