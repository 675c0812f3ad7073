import { randomUUID } from 'node:crypto';
import { runConsentJourney, type ConsentJourneyOptions } from './consent-journey.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure } from './http.ts';
import { callApi, type ReadWriteVersion } from './open-banking.ts';
import type { AuthorisedBy } from './psu-authorisation.ts';
import { parsePayee, structuredReference } from './payment-kinds.ts';
import { FAILS_CONTROL_PARAMETERS, isRejected } from './payment-versions.ts';
import { rejectionReasonOf, signedPost, stagePaymentConsent } from './pay.ts';

/**
 * The domestic VRP journey of a PISP (VRP API v4.0 by default, or v3.1.11): stage a VRP consent with the
 * control parameters given, have the PSU authorise it once, then make each payment under it, signed, and
 * say what of each periodic limit is left. Sweeping VRP on either version; commercial VRP (the cVRP
 * profile's CVRP1, CVRP2, CVRP3) on v4.0, with the Risk a merchant's payment carries.
 */

/** OBPeriodType1 of the VRP spec. */
const PERIOD_TYPES = ['Day', 'Week', 'Fortnight', 'Month', 'Half-year', 'Year'] as const;
type PeriodType = (typeof PERIOD_TYPES)[number];
const ALIGNMENTS = ['Calendar', 'Consent'] as const;
/** OBActiveCurrencyAndAmount_SimpleType, and the two decimals of GBP (the only currency here). */
const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;
const REFERENCE_MAX = 35;

/** `--type`: sweeping, or a commercial VRP type of the cVRP profile (v4.0 only). */
export const VRP_TYPES = ['sweeping', 'CVRP1', 'CVRP2', 'CVRP3'] as const;
export type VrpType = (typeof VRP_TYPES)[number];

/** OBRisk1's PaymentContextCode (v4.0; v3.1.11 accepts these too). */
const PAYMENT_CONTEXTS = [
  'BillingGoodsAndServicesInAdvance',
  'BillingGoodsAndServicesInArrears',
  'EcommerceMerchantInitiatedPayment',
  'FaceToFacePointOfSale',
  'TransferToSelf',
  'TransferToThirdParty',
] as const;
/** The payment contexts the cVRP profile allows a commercial VRP (its PaymentContextCode description). */
const CVRP_PAYMENT_CONTEXTS = [
  'TransferToSelf',
  'EcommerceMerchantInitiatedPayment',
  'FaceToFacePointOfSale',
  'TransferToThirdParty',
] as const;
/** The OBInternalExtendedAccountType1Code values the cVRP profile names valid for a commercial VRP payee. */
const CVRP_ACCOUNT_TYPES = ['Personal', 'Business', 'Charity', 'Government', 'ISA'] as const;
/** ISO 20022 ExternalPurpose1Code / ExternalCategoryPurpose1Code: four capitals (the bank checks the list). */
const PURPOSE = /^[A-Z]{4}$/;

export interface VrpRequest {
  maxIndividual: string;
  periods: string[];
  type: string;
  pays: string[];
  to?: string | undefined;
  reference?: string | undefined;
  /** Default 4.0. */
  apiVersion?: ReadWriteVersion | undefined;
  /** Risk.PaymentContextCode; default TransferToSelf (sweeping) or EcommerceMerchantInitiatedPayment (cVRP). */
  context?: string | undefined;
  /** cVRP: the merchant's ISO 18245 category code (Risk.MerchantCategoryCode). */
  merchantCategoryCode?: string | undefined;
  /** cVRP: the PSU's identifier at the merchant (Risk.MerchantCustomerIdentification). */
  merchantCustomerId?: string | undefined;
  /** cVRP: the payee's account type (Risk.BeneficiaryAccountType); default Business. */
  payeeAccountType?: string | undefined;
  /** cVRP: Risk.PaymentPurposeCode (ISO 20022 ExternalPurpose1Code); default OTHR. */
  purpose?: string | undefined;
  /** cVRP: Risk.CategoryPurposeCode (ISO 20022 ExternalCategoryPurpose1Code); default OTHR. */
  categoryPurpose?: string | undefined;
}

export interface PeriodicLimit {
  PeriodType: PeriodType;
  PeriodAlignment: (typeof ALIGNMENTS)[number];
  Amount: string;
  Currency: string;
}

export interface VrpPlan {
  apiVersion: ReadWriteVersion;
  /** OBVRPConsentType of the consent and of each payment. */
  vrpType: string;
  risk: Record<string, unknown>;
  controlParameters: {
    MaximumIndividualAmount: { Amount: string; Currency: string };
    PeriodicLimits: PeriodicLimit[];
    VRPType: string[];
    PSUAuthenticationMethods: string[];
    PSUInteractionTypes: string[];
  };
  initiation: {
    CreditorAccount: { SchemeName: string; Identification: string; Name: string };
    RemittanceInformation: Record<string, unknown>;
  };
  pays: string[];
}

function amountOf(flag: string, text: string): string {
  if (!AMOUNT.test(text) || Number(text) <= 0)
    throw new TppUsageError(
      `${flag} must be a positive amount in GBP with at most 2 decimals, such as 12.34; got ${JSON.stringify(text)}`,
    );
  return text;
}

const toMinor = (amount: string) => Math.round(Number(amount) * 100);
const fromMinor = (minor: number) => (minor / 100).toFixed(2);

/** `--period Month:500` or `Week:100:Consent`: a periodic limit (aligned to the calendar unless said). */
export function parsePeriod(text: string): PeriodicLimit {
  const [type, amount, alignment = 'Calendar', ...rest] = text.split(':');
  if (
    rest.length > 0 ||
    !(PERIOD_TYPES as readonly string[]).includes(type ?? '') ||
    !(ALIGNMENTS as readonly string[]).includes(alignment)
  )
    throw new TppUsageError(
      `--period must be TYPE:AMOUNT[:ALIGNMENT] with TYPE one of ${PERIOD_TYPES.join(', ')} and ALIGNMENT ` +
        `Calendar or Consent, such as Month:500; got ${JSON.stringify(text)}`,
    );
  return {
    PeriodType: type as PeriodType,
    PeriodAlignment: alignment as PeriodicLimit['PeriodAlignment'],
    Amount: amountOf('--period amount', amount ?? ''),
    Currency: 'GBP',
  };
}

/** Checks every value against the VRP spec (and the cVRP profile) before the bank is contacted. */
export function planVrp(request: VrpRequest): VrpPlan {
  const apiVersion = request.apiVersion ?? '4.0';
  if (!(VRP_TYPES as readonly string[]).includes(request.type))
    throw new TppUsageError(
      `--type must be one of ${VRP_TYPES.join(', ')}; got ${JSON.stringify(request.type)}`,
    );
  const commercial = request.type !== 'sweeping';
  if (commercial && apiVersion !== '4.0')
    throw new TppUsageError(
      `--type ${request.type}: commercial VRP is a v4.0 profile (cVRP); use --api-version 4.0`,
    );
  const maximum = amountOf('--max-individual', request.maxIndividual);
  if (request.periods.length === 0)
    throw new TppUsageError('give at least one --period TYPE:AMOUNT, such as --period Month:500');
  const limits = request.periods.map(parsePeriod);
  const types = limits.map((limit) => `${limit.PeriodType}:${limit.PeriodAlignment}`);
  if (new Set(types).size !== types.length)
    throw new TppUsageError('give each --period type (and alignment) once');
  if (request.pays.length === 0) throw new TppUsageError('give at least one --pay AMOUNT');
  const pays = request.pays.map((amount) => amountOf('--pay', amount));
  const reference = request.reference ?? (commercial ? 'obkit cvrp' : 'obkit sweep');
  if (reference.length === 0 || reference.length > REFERENCE_MAX)
    throw new TppUsageError(
      `--reference must be 1 to ${REFERENCE_MAX} characters (the Open Banking limit); got ${reference.length}`,
    );
  const payee = parsePayee(request.to ?? '040004/00000001');
  const vrpType = commercial ? `UK.OBIE.VRPType.${request.type}` : 'UK.OBIE.VRPType.Sweeping';
  return {
    apiVersion,
    vrpType,
    risk: riskOf(request, commercial),
    controlParameters: {
      MaximumIndividualAmount: { Amount: maximum, Currency: 'GBP' },
      PeriodicLimits: limits,
      VRPType: [vrpType],
      PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
      PSUInteractionTypes: ['OffSession'],
    },
    initiation: {
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${payee.sortCode}${payee.accountNumber}`,
        Name: 'Payee',
      },
      RemittanceInformation: apiVersion === '4.0' ? structuredReference(reference) : { Reference: reference },
    },
    pays,
  };
}

/**
 * The consent's and each payment's Risk. A sweep is a transfer to the PSU's own account. A commercial
 * VRP is a merchant's payment: the cVRP profile makes its risk indicators mandatory — who the merchant is
 * (category code, the PSU's identifier there), that a contract stands behind the payments and that the
 * PISP set the payee, the payee's account type, and the payment's purpose and category purpose.
 */
function riskOf(request: VrpRequest, commercial: boolean): Record<string, unknown> {
  const merchantOnly = [
    ['--merchant-category-code', request.merchantCategoryCode],
    ['--merchant-customer-id', request.merchantCustomerId],
    ['--payee-account-type', request.payeeAccountType],
    ['--purpose', request.purpose],
    ['--category-purpose', request.categoryPurpose],
  ] as const;
  if (!commercial) {
    const context = request.context ?? 'TransferToSelf';
    if (!(PAYMENT_CONTEXTS as readonly string[]).includes(context))
      throw new TppUsageError(
        `--context must be one of ${PAYMENT_CONTEXTS.join(', ')}; got ${JSON.stringify(context)}`,
      );
    const given = merchantOnly.find(([, value]) => value !== undefined);
    if (given)
      throw new TppUsageError(`${given[0]} is for commercial VRP: give --type CVRP1, CVRP2 or CVRP3`);
    return { PaymentContextCode: context };
  }
  const context = request.context ?? 'EcommerceMerchantInitiatedPayment';
  if (!(CVRP_PAYMENT_CONTEXTS as readonly string[]).includes(context))
    throw new TppUsageError(
      `--context of a commercial VRP must be one of ${CVRP_PAYMENT_CONTEXTS.join(', ')}; got ${JSON.stringify(context)}`,
    );
  const mcc = request.merchantCategoryCode;
  if (mcc === undefined)
    throw new TppUsageError(`--type ${request.type} needs --merchant-category-code (ISO 18245, e.g. 4900)`);
  if (!/^\d{3,4}$/.test(mcc))
    throw new TppUsageError(
      `--merchant-category-code must be an ISO 18245 code of 3 or 4 digits such as 4900; got ${JSON.stringify(mcc)}`,
    );
  const customer = request.merchantCustomerId;
  if (customer === undefined)
    throw new TppUsageError(
      `--type ${request.type} needs --merchant-customer-id (the PSU's identifier at the merchant)`,
    );
  if (customer.length === 0 || customer.length > 70)
    throw new TppUsageError(`--merchant-customer-id must be 1 to 70 characters; got ${customer.length}`);
  const accountType = request.payeeAccountType ?? 'Business';
  if (!(CVRP_ACCOUNT_TYPES as readonly string[]).includes(accountType))
    throw new TppUsageError(
      `--payee-account-type must be one of ${CVRP_ACCOUNT_TYPES.join(', ')}; got ${JSON.stringify(accountType)}`,
    );
  const [purpose, categoryPurpose] = (
    [
      ['--purpose', request.purpose],
      ['--category-purpose', request.categoryPurpose],
    ] as const
  ).map(([flag, value = 'OTHR']) => {
    if (!PURPOSE.test(value))
      throw new TppUsageError(
        `${flag} must be an ISO 20022 code of four capitals such as OTHR; got ${JSON.stringify(value)}`,
      );
    return value;
  });
  return {
    PaymentContextCode: context,
    MerchantCategoryCode: mcc,
    MerchantCustomerIdentification: customer,
    ContractPresentIndicator: true,
    BeneficiaryPrepopulatedIndicator: true,
    PaymentPurposeCode: purpose,
    CategoryPurposeCode: categoryPurpose,
    BeneficiaryAccountType: accountType,
  };
}

export interface VrpOptions extends VrpRequest, ConsentJourneyOptions {}

export interface VrpPaymentOutcome {
  amount: string;
  /** The payment resource (OBDomesticVRPResponse `Data`), when the bank made it. */
  payment?: Record<string, unknown> & { Status: string; DomesticVRPId: string };
  /** Why the bank refused it: its OB error message(s), or the payment-details' reason of a rejection. */
  refusal?: string;
}

export interface VrpResult {
  apiVersion: ReadWriteVersion;
  consentId: string;
  authorisedBy: AuthorisedBy;
  /** The consent as the bank holds it after the payments (OBDomesticVRPConsentResponse `Data`). */
  consent: Record<string, unknown>;
  payments: VrpPaymentOutcome[];
  /** Each periodic limit less the payments made under this (new) consent in this run. */
  limitsLeft: {
    PeriodType: string;
    PeriodAlignment: string;
    Amount: string;
    Left: string;
    Currency: string;
  }[];
}

export async function runVrpJourney(options: VrpOptions): Promise<VrpResult> {
  const plan = planVrp(options);
  const { apiVersion, risk } = plan;
  return runConsentJourney(options, async ({ bank, progress, recordConsent, authorise }) => {
    const { bundle } = options;
    const {
      pisp,
      clientToken,
      consent: staged,
    } = await stagePaymentConsent(bank, bundle, {
      apiVersion,
      path: '/domestic-vrp-consents',
      body: {
        Data: { ControlParameters: plan.controlParameters, Initiation: plan.initiation },
        Risk: risk,
      },
      served: 'VRP',
      what: 'VRP',
    });
    const consentId = staged.ConsentId;
    progress(`staged domestic-vrp consent ${consentId} (${plan.vrpType}, v${apiVersion})`);
    recordConsent(consentId, 'domestic-vrp', 'AwaitingAuthorisation');
    const { tokens, authorisedBy } = await authorise(consentId, 'payments');

    const payments: VrpPaymentOutcome[] = [];
    let paidMinor = 0;
    for (const amount of plan.pays) {
      const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}/domestic-vrps`, {
        Data: {
          ConsentId: consentId,
          PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
          PSUInteractionType: 'OffSession',
          VRPType: plan.vrpType,
          Initiation: plan.initiation,
          Instruction: {
            InstructionIdentification: `obkit-${randomUUID().slice(0, 12)}`,
            EndToEndIdentification: `obkit-${randomUUID().slice(0, 12)}`,
            InstructedAmount: { Amount: amount, Currency: 'GBP' },
            CreditorAccount: plan.initiation.CreditorAccount,
            RemittanceInformation: plan.initiation.RemittanceInformation,
          },
        },
        Risk: risk,
      });
      if (submitted.status === 201) {
        const payment = (submitted.json as { Data: NonNullable<VrpPaymentOutcome['payment']> }).Data;
        const rejected = isRejected(payment.Status);
        const refusal = rejected
          ? await rejectionReasonOf(
              bank,
              clientToken,
              `${pisp}/domestic-vrps/${encodeURIComponent(payment.DomesticVRPId)}`,
            )
          : undefined;
        if (!rejected) paidMinor += toMinor(amount);
        progress(`VRP ${payment.DomesticVRPId} of ${amount} GBP: ${payment.Status}`);
        payments.push({ amount, payment, ...(refusal ? { refusal } : {}) });
      } else {
        const failure = describeFailure(`the VRP of ${amount} GBP`, submitted);
        // Only a payment beyond the control parameters is a refusal of that payment; the others go on.
        // Anything else (a consent no longer authorised, a bad signature) ends the journey.
        if (!failure.errorCodes.includes(FAILS_CONTROL_PARAMETERS[apiVersion])) throw failure;
        const refusal = `${failure.message.replace(/^.*?failed with HTTP \d+: /, '')} [${failure.errorCodes.join(', ')}]`;
        progress(`VRP of ${amount} GBP refused: ${refusal}`);
        payments.push({ amount, refusal });
      }
    }

    const read = await callApi(
      bank,
      clientToken,
      `${pisp}/domestic-vrp-consents/${encodeURIComponent(consentId)}`,
    );
    if (read.status !== 200) throw describeFailure('reading the VRP consent', read);
    const consent = (read.json as { Data: Record<string, unknown> }).Data;
    return {
      apiVersion,
      consentId,
      authorisedBy,
      consent,
      payments,
      limitsLeft: plan.controlParameters.PeriodicLimits.map((limit) => ({
        ...limit,
        Left: fromMinor(Math.max(0, toMinor(limit.Amount) - paidMinor)),
      })),
    };
  });
}

/** What a person reads: each payment's status (or the bank's reason for refusing it), and the limits left. */
export function formatVrp(result: VrpResult): string {
  const lines = result.payments.map((outcome) =>
    outcome.payment
      ? `vrp ${outcome.payment.DomesticVRPId}  ${outcome.amount} GBP  ${outcome.payment.Status}${outcome.refusal ? `: ${outcome.refusal}` : ''}`
      : `vrp of ${outcome.amount} GBP refused: ${outcome.refusal ?? 'the bank gave no reason'}`,
  );
  for (const limit of result.limitsLeft)
    lines.push(
      `limit ${limit.PeriodType} (${limit.PeriodAlignment})  ${limit.Left} of ${limit.Amount} ${limit.Currency} left`,
    );
  lines.push(`consent ${result.consentId}  ${String(result.consent['Status'])}`);
  return `${lines.join('\n')}\n`;
}
