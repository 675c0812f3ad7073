import { randomUUID } from 'node:crypto';
import { connectToBank } from './bank.ts';
import { updateBundleSummary, type Bundle } from './bundle.ts';
import { clientCredentialsToken } from './authorization.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure } from './http.ts';
import { apiBaseOf, callApi } from './open-banking.ts';
import { findRegistration } from './accounts.ts';
import { authoriseIntent, type AuthorisedBy } from './psu-authorisation.ts';
import { parsePayee } from './payment-kinds.ts';
import { rejectionReasonOf, signedPost } from './pay.ts';

/**
 * The domestic VRP journey of a PISP (VRP API v3.1.11): stage a sweeping VRP consent with the control
 * parameters given, have the PSU authorise it once, then make each payment under it, signed, and say
 * what of each periodic limit is left. Commercial VRP (`UK.OBIE.VRPType.Other`) is not served yet.
 */

/** OBPeriodType1 of the VRP spec. */
const PERIOD_TYPES = ['Day', 'Week', 'Fortnight', 'Month', 'Half-year', 'Year'] as const;
type PeriodType = (typeof PERIOD_TYPES)[number];
const ALIGNMENTS = ['Calendar', 'Consent'] as const;
/** OBActiveCurrencyAndAmount_SimpleType, and the two decimals of GBP (the only currency here). */
const AMOUNT = /^\d{1,13}(\.\d{1,2})?$/;
const REFERENCE_MAX = 35;

export interface VrpRequest {
  maxIndividual: string;
  periods: string[];
  type: string;
  pays: string[];
  to?: string | undefined;
  reference?: string | undefined;
}

export interface PeriodicLimit {
  PeriodType: PeriodType;
  PeriodAlignment: (typeof ALIGNMENTS)[number];
  Amount: string;
  Currency: string;
}

export interface VrpPlan {
  controlParameters: {
    MaximumIndividualAmount: { Amount: string; Currency: string };
    PeriodicLimits: PeriodicLimit[];
    VRPType: string[];
    PSUAuthenticationMethods: string[];
    PSUInteractionTypes: string[];
  };
  initiation: {
    CreditorAccount: { SchemeName: string; Identification: string; Name: string };
    RemittanceInformation: { Reference: string };
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

/** Checks every value against the VRP spec before the bank is contacted. */
export function planVrp(request: VrpRequest): VrpPlan {
  if (request.type !== 'sweeping')
    throw new TppUsageError(
      `--type ${request.type}: only sweeping VRP is served; commercial VRP (UK.OBIE.VRPType.Other) is not served yet`,
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
  const reference = request.reference ?? 'obkit sweep';
  if (reference.length === 0 || reference.length > REFERENCE_MAX)
    throw new TppUsageError(
      `--reference must be 1 to ${REFERENCE_MAX} characters (the Open Banking limit); got ${reference.length}`,
    );
  const payee = parsePayee(request.to ?? '040004/00000001');
  return {
    controlParameters: {
      MaximumIndividualAmount: { Amount: maximum, Currency: 'GBP' },
      PeriodicLimits: limits,
      VRPType: ['UK.OBIE.VRPType.Sweeping'],
      PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
      PSUInteractionTypes: ['OffSession'],
    },
    initiation: {
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${payee.sortCode}${payee.accountNumber}`,
        Name: 'Payee',
      },
      RemittanceInformation: { Reference: reference },
    },
    pays,
  };
}

export interface VrpOptions extends VrpRequest {
  bundle: Bundle;
  bank?: string;
  trust: string[];
  psu?: string;
  manual?: boolean;
  askForRedirect(authorizationUrl: URL): Promise<string>;
  progress?: (line: string) => void;
}

export interface VrpPaymentOutcome {
  amount: string;
  /** The payment resource (OBDomesticVRPResponse `Data`), when the bank made it. */
  payment?: Record<string, unknown> & { Status: string; DomesticVRPId: string };
  /** Why the bank refused it: its OB error message(s), or the payment-details' reason of a rejection. */
  refusal?: string;
}

export interface VrpResult {
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
  const progress = options.progress ?? (() => undefined);
  const { bundle } = options;
  const plan = planVrp(options);
  const { registration } = findRegistration(bundle, options.bank);
  const redirectUri = bundle.summary.software.redirectUris[0];
  if (!redirectUri) throw new TppUsageError('the software statement has no redirect URI');

  const bank = await connectToBank(bundle, {
    discoveryUrl: registration.discoveryUrl,
    trust: options.trust,
    clientId: registration.clientId,
    authMethod: registration.tokenEndpointAuthMethod ?? 'private_key_jwt',
  });
  try {
    const pisp = `${apiBaseOf(bank)}/pisp`;
    const clientToken = await clientCredentialsToken(bank, 'payments');
    const risk = { PaymentContextCode: 'TransferToSelf' };
    const staged = await signedPost(bank, bundle, clientToken.access_token, `${pisp}/domestic-vrp-consents`, {
      Data: { ControlParameters: plan.controlParameters, Initiation: plan.initiation },
      Risk: risk,
    });
    if (staged.status !== 201) throw describeFailure('staging the VRP consent', staged);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    progress(`staged domestic-vrp consent ${consentId}`);
    updateBundleSummary(bundle.dir, (summary) => {
      summary.consents.push({
        consentId,
        kind: 'domestic-vrp',
        bank: bank.issuer,
        createdAt: new Date().toISOString(),
        status: 'AwaitingAuthorisation',
      });
    });

    const { tokens, authorisedBy } = await authoriseIntent(bank, {
      intentId: consentId,
      scope: 'payments',
      redirectUri,
      psu: options.psu ?? 'alice',
      manual: Boolean(options.manual),
      askForRedirect: options.askForRedirect,
      progress,
    });
    updateBundleSummary(bundle.dir, (summary) => {
      const record = summary.consents.find((c) => c.consentId === consentId);
      if (record) record.status = 'Authorised';
    });

    const payments: VrpPaymentOutcome[] = [];
    let paidMinor = 0;
    for (const amount of plan.pays) {
      const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}/domestic-vrps`, {
        Data: {
          ConsentId: consentId,
          PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
          PSUInteractionType: 'OffSession',
          VRPType: 'UK.OBIE.VRPType.Sweeping',
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
        const refusal =
          payment.Status === 'Rejected'
            ? await rejectionReasonOf(
                bank,
                clientToken.access_token,
                `${pisp}/domestic-vrps/${encodeURIComponent(payment.DomesticVRPId)}`,
              )
            : undefined;
        if (payment.Status !== 'Rejected') paidMinor += toMinor(amount);
        progress(`VRP ${payment.DomesticVRPId} of ${amount} GBP: ${payment.Status}`);
        payments.push({ amount, payment, ...(refusal ? { refusal } : {}) });
      } else {
        const failure = describeFailure(`the VRP of ${amount} GBP`, submitted);
        // Only a payment beyond the control parameters is a refusal of that payment; the others go on.
        // Anything else (a consent no longer authorised, a bad signature) ends the journey.
        if (!failure.errorCodes.includes('UK.OBIE.Rules.FailsControlParameters')) throw failure;
        const refusal = `${failure.message.replace(/^.*?failed with HTTP \d+: /, '')} [${failure.errorCodes.join(', ')}]`;
        progress(`VRP of ${amount} GBP refused: ${refusal}`);
        payments.push({ amount, refusal });
      }
    }

    const read = await callApi(
      bank,
      clientToken.access_token,
      `${pisp}/domestic-vrp-consents/${encodeURIComponent(consentId)}`,
    );
    if (read.status !== 200) throw describeFailure('reading the VRP consent', read);
    const consent = (read.json as { Data: Record<string, unknown> }).Data;
    return {
      consentId,
      authorisedBy,
      consent,
      payments,
      limitsLeft: plan.controlParameters.PeriodicLimits.map((limit) => ({
        ...limit,
        Left: fromMinor(Math.max(0, toMinor(limit.Amount) - paidMinor)),
      })),
    };
  } finally {
    await bank.close();
  }
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
