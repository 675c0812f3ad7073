import { fromMinor, toMinor } from '../../bank/index.ts';
import type { Intent } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { assertSubmissionMatchesConsent } from '../pis/common.ts';
import { canonicalJson } from '../pis/validation.ts';
import type { ControlParameters } from './validation.ts';

/**
 * What a VRP payment request must satisfy against its consent before the bank takes it, as a table of
 * named checks run in order (the periodic limits, which need the ledger, are counted afterwards under the
 * consent's lock). A version lists the checks its specification asks for; a further rule set appends its
 * own checks to a version's list.
 */
export interface VrpSubmission {
  intent: Intent;
  control: ControlParameters;
  data: {
    ConsentId: string;
    PSUAuthenticationMethod: string;
    PSUInteractionType?: string | undefined;
    VRPType: string;
    Initiation: unknown;
    Instruction: {
      InstructedAmount: { Amount: string; Currency: string };
      CreditorAccount: unknown;
      RemittanceInformation?: unknown;
      SupplementaryData?: Record<string, unknown> | undefined;
    };
  };
  risk: Record<string, unknown>;
  amountMinor: bigint;
  now: Date;
}

export interface VrpPaymentCheck {
  name: string;
  run(submission: VrpSubmission): void;
}

/** UK.OBIE.Rules.FailsControlParameters (v4.0: U014) naming the control parameter at fault. */
export function failsControlParameters(message: string, path?: string): ObError {
  return ObError.single(400, 'UK.OBIE.Rules.FailsControlParameters', message, path);
}

function consentMismatch(message: string, path: string): ObError {
  return ObError.single(400, 'UK.OBIE.Resource.ConsentMismatch', message, path);
}

export const matchesConsent: VrpPaymentCheck = {
  name: 'the consent id, Initiation and Risk are those of the authorised consent',
  run({ intent, data, risk }) {
    assertSubmissionMatchesConsent(intent, { Data: data, Risk: risk });
  },
};

export const creditorOfConsent: VrpPaymentCheck = {
  name: "the creditor is the consent's, when the consent names one",
  run({ intent, data }) {
    const consentCreditor = (intent.data.Initiation as { CreditorAccount?: unknown }).CreditorAccount;
    if (
      consentCreditor !== undefined &&
      canonicalJson(consentCreditor) !== canonicalJson(data.Instruction.CreditorAccount)
    )
      throw consentMismatch(
        'Data.Instruction.CreditorAccount must be the creditor of the consent',
        'Data.Instruction.CreditorAccount',
      );
  },
};

export const allowedVrpType: VrpPaymentCheck = {
  name: 'the VRP type is one the consent allows',
  run({ control, data }) {
    if (!(control.VRPType as readonly string[]).includes(data.VRPType))
      throw failsControlParameters(
        `the consent allows VRP types ${control.VRPType.join(', ')}`,
        'Data.VRPType',
      );
  },
};

export const allowedAuthenticationMethod: VrpPaymentCheck = {
  name: 'the PSU authentication method is one the consent allows',
  run({ control, data }) {
    if (!(control.PSUAuthenticationMethods as readonly string[]).includes(data.PSUAuthenticationMethod))
      throw failsControlParameters(
        `the consent allows authentication methods ${control.PSUAuthenticationMethods.join(', ')}`,
        'Data.PSUAuthenticationMethod',
      );
  },
};

export const allowedInteractionType: VrpPaymentCheck = {
  name: 'the PSU interaction type is one the consent allows',
  run({ control, data }) {
    if (
      data.PSUInteractionType !== undefined &&
      control.PSUInteractionTypes !== undefined &&
      !(control.PSUInteractionTypes as readonly string[]).includes(data.PSUInteractionType)
    )
      throw failsControlParameters(
        'the consent does not allow this PSU interaction type',
        'Data.PSUInteractionType',
      );
  },
};

export const consentCurrency: VrpPaymentCheck = {
  name: "the amount is in the consent's currency",
  run({ control, data }) {
    const currency = control.MaximumIndividualAmount.Currency;
    if (data.Instruction.InstructedAmount.Currency !== currency)
      throw failsControlParameters(
        `the consent is for payments in ${currency}`,
        'Data.Instruction.InstructedAmount.Currency',
      );
  },
};

export const withinMaximumIndividualAmount: VrpPaymentCheck = {
  name: 'the amount is at most MaximumIndividualAmount',
  run({ control, amountMinor }) {
    const currency = control.MaximumIndividualAmount.Currency;
    const maximum = toMinor(control.MaximumIndividualAmount.Amount, currency);
    if (amountMinor > maximum)
      throw failsControlParameters(
        `the amount exceeds the maximum individual amount of ${fromMinor(maximum, currency)} ${currency}`,
        'Data.Instruction.InstructedAmount.Amount',
      );
  },
};

export const validFromReached: VrpPaymentCheck = {
  name: 'the consent is valid from now on (ValidFromDateTime)',
  run({ control, now }) {
    if (control.ValidFromDateTime && now.getTime() < Date.parse(control.ValidFromDateTime))
      throw failsControlParameters('the consent is not valid yet (ValidFromDateTime)', 'Data.ConsentId');
  },
};

/**
 * v4.0 domestic-vrp-consents: remittance information given at consent "MUST be provided by the PISP in the
 * Initiation and Instruction section of each VRP Payment".
 */
export const remittanceOfConsent: VrpPaymentCheck = {
  name: "the Instruction carries the consent's RemittanceInformation, when the consent has one",
  run({ intent, data }) {
    const consented = (intent.data.Initiation as { RemittanceInformation?: unknown }).RemittanceInformation;
    if (
      consented !== undefined &&
      canonicalJson(consented) !== canonicalJson(data.Instruction.RemittanceInformation ?? null)
    )
      throw consentMismatch(
        "Data.Instruction.RemittanceInformation must be the consent's RemittanceInformation",
        'Data.Instruction.RemittanceInformation',
      );
  },
};

/** v4.0 domestic-vrps: "The ASPSP must reject a payment that has Data.Instruction.SupplementaryData that it cannot process." */
export const noUnprocessableInstructionData: VrpPaymentCheck = {
  name: 'no Instruction.SupplementaryData (the bank processes none)',
  run({ data }) {
    const supplementary = data.Instruction.SupplementaryData;
    if (supplementary !== undefined && Object.keys(supplementary).length > 0)
      throw ObError.single(
        400,
        'UK.OBIE.Field.Unexpected',
        'this bank processes no Instruction.SupplementaryData',
        'Data.Instruction.SupplementaryData',
      );
  },
};

export const VRP_PAYMENT_CHECKS_V3: readonly VrpPaymentCheck[] = [
  matchesConsent,
  creditorOfConsent,
  allowedVrpType,
  allowedAuthenticationMethod,
  allowedInteractionType,
  consentCurrency,
  withinMaximumIndividualAmount,
  validFromReached,
];

export const VRP_PAYMENT_CHECKS_V4: readonly VrpPaymentCheck[] = [
  ...VRP_PAYMENT_CHECKS_V3,
  remittanceOfConsent,
  noUnprocessableInstructionData,
];

export function runPaymentChecks(checks: readonly VrpPaymentCheck[], submission: VrpSubmission): void {
  for (const check of checks) check.run(submission);
}
