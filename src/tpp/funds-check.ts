import { clientCredentialsToken } from './authorization.ts';
import { runConsentJourney, type ConsentJourneyOptions } from './consent-journey.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure } from './http.ts';
import { apiBaseOf, callApi, type ReadWriteVersion } from './open-banking.ts';
import { parsePayee } from './payment-kinds.ts';
import type { AuthorisedBy } from './psu-authorisation.ts';

/**
 * The Confirmation of Funds journey of a CBPII, over HTTP only: stage a funds-confirmation consent for
 * the PSU's account with the client's own token, have the PSU authorise it (headlessly as a sandbox PSU,
 * or in a browser), then ask whether the amount is available.
 */
export interface FundsCheckOptions extends ConsentJourneyOptions {
  /** The PSU's account the card draws on: SORTCODE/ACCOUNT such as 040004/12345678. */
  account: string;
  amount: string;
  currency: string;
  /** Default 4.0. */
  apiVersion?: ReadWriteVersion;
  reference?: string;
}

/** OBFundsConfirmationResponse1, as the bank answered it. */
export interface FundsConfirmationResponse {
  Data: {
    FundsConfirmationId: string;
    ConsentId: string;
    CreationDateTime: string;
    FundsAvailable: boolean;
    Reference: string;
    InstructedAmount: { Amount: string; Currency: string };
  };
  Links: { Self: string };
  Meta: Record<string, unknown>;
}

export interface FundsCheckResult {
  bank: string;
  apiVersion: ReadWriteVersion;
  consentId: string;
  authorisedBy: AuthorisedBy;
  confirmation: FundsConfirmationResponse;
}

const AMOUNT = /^\d{1,13}(\.\d{1,5})?$/;
const CURRENCY = /^[A-Z]{3}$/;

export async function runFundsCheck(options: FundsCheckOptions): Promise<FundsCheckResult> {
  if (!AMOUNT.test(options.amount)) throw new TppUsageError('--amount must be a decimal such as 12.34');
  if (!CURRENCY.test(options.currency))
    throw new TppUsageError('--currency must be an ISO 4217 code such as GBP');
  const { sortCode, accountNumber } = parsePayee(options.account, '--account');
  const apiVersion = options.apiVersion ?? '4.0';
  return runConsentJourney(options, async ({ bank, issuer, progress, recordConsent, authorise }) => {
    const cbpii = `${apiBaseOf(bank, undefined, apiVersion)}/cbpii`;
    const clientToken = (await clientCredentialsToken(bank, 'fundsconfirmations')).access_token;
    const staged = await callApi(bank, clientToken, `${cbpii}/funds-confirmation-consents`, {
      method: 'POST',
      body: {
        Data: {
          DebtorAccount: {
            SchemeName: 'UK.OBIE.SortCodeAccountNumber',
            Identification: `${sortCode}${accountNumber}`,
          },
        },
      },
    });
    if (staged.status !== 201) throw describeFailure('staging the funds-confirmation consent', staged);
    const consent = (staged.json as { Data: { ConsentId: string; Status: string } }).Data;
    progress(`staged funds-confirmation consent ${consent.ConsentId}`);
    recordConsent(consent.ConsentId, 'funds-confirmation', consent.Status);
    const { tokens, authorisedBy } = await authorise(consent.ConsentId, 'fundsconfirmations');
    const asked = await callApi(bank, tokens.access_token, `${cbpii}/funds-confirmations`, {
      method: 'POST',
      body: {
        Data: {
          ConsentId: consent.ConsentId,
          Reference: (options.reference ?? 'obkit funds check').slice(0, 35),
          InstructedAmount: { Amount: options.amount, Currency: options.currency },
        },
      },
    });
    if (asked.status !== 201) throw describeFailure('asking whether the funds are available', asked);
    const confirmation = asked.json as FundsConfirmationResponse;
    progress(`funds ${confirmation.Data.FundsAvailable ? 'available' : 'not available'}`);
    return { bank: issuer, apiVersion, consentId: consent.ConsentId, authorisedBy, confirmation };
  });
}

export function formatFundsCheck(result: FundsCheckResult): string {
  const { Data } = result.confirmation;
  const amount = `${Data.InstructedAmount.Amount} ${Data.InstructedAmount.Currency}`;
  return `${Data.FundsAvailable ? 'funds available' : 'funds NOT available'} for ${amount}  (consent ${result.consentId}, confirmation ${Data.FundsConfirmationId}, Read/Write ${result.apiVersion})\n`;
}
