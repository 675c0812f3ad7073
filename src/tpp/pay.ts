import { randomUUID } from 'node:crypto';
import { connectToBank, type BankConnection } from './bank.ts';
import { updateBundleSummary, type Bundle } from './bundle.ts';
import { clientCredentialsToken } from './authorization.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure, type HttpResponse } from './http.ts';
import { signRequestBody } from './message-signing.ts';
import { apiBaseOf, callApi } from './open-banking.ts';
import { findRegistration } from './accounts.ts';
import { authoriseIntent, type AuthorisedBy } from './psu-authorisation.ts';

/**
 * The whole domestic payment journey of a PISP, over HTTP only: stage a signed domestic-payment consent,
 * have the PSU authorise it, submit the signed payment with an idempotency key, and poll it until its
 * status is final.
 */
export interface PayOptions {
  bundle: Bundle;
  bank?: string;
  trust: string[];
  amount: string;
  currency: string;
  /** `SORTCODE/ACCOUNT` (e.g. `040004/12345678`) of the payee; default: the sandbox's own collection account. */
  to?: string;
  payeeName?: string;
  reference?: string;
  psu?: string;
  manual?: boolean;
  redirectUri?: string;
  askForRedirect(authorizationUrl: URL): Promise<string>;
  progress?: (line: string) => void;
  /** How long to poll for a final status. Default 30 s. */
  pollSeconds?: number;
}

export interface PayResult {
  consentId: string;
  authorisedBy: AuthorisedBy;
  payment: Record<string, unknown> & { DomesticPaymentId: string; Status: string };
}

const FINAL = new Set(['AcceptedSettlementCompleted', 'AcceptedCreditSettlementCompleted', 'Rejected']);
const AMOUNT = /^\d{1,13}(\.\d{1,5})?$/;
const CURRENCY = /^[A-Z]{3}$/;
const PAYEE = /^(\d{6})\/?(\d{8})$/;

export function parsePayee(text: string): { sortCode: string; accountNumber: string } {
  const match = PAYEE.exec(text.replace(/-/g, ''));
  if (!match?.[1] || !match[2])
    throw new TppUsageError(
      `--to must be SORTCODE/ACCOUNT such as 040004/12345678; got ${JSON.stringify(text)}`,
    );
  return { sortCode: match[1], accountNumber: match[2] };
}

async function signedPost(
  bank: BankConnection,
  bundle: Bundle,
  token: string,
  url: string,
  body: unknown,
): Promise<HttpResponse> {
  const text = JSON.stringify(body);
  return callApi(bank, token, url, {
    method: 'POST',
    body: text,
    headers: {
      'x-idempotency-key': randomUUID(),
      'x-jws-signature': await signRequestBody(bank, bundle, text),
    },
  });
}

export async function runPayJourney(options: PayOptions): Promise<PayResult> {
  const progress = options.progress ?? (() => undefined);
  const { bundle } = options;
  if (!AMOUNT.test(options.amount) || Number(options.amount) <= 0) {
    throw new TppUsageError(
      `--amount must be a positive decimal such as 12.34; got ${JSON.stringify(options.amount)}`,
    );
  }
  if (!CURRENCY.test(options.currency))
    throw new TppUsageError(
      `--currency must be an ISO 4217 code such as GBP; got ${JSON.stringify(options.currency)}`,
    );
  const payee = parsePayee(options.to ?? '040004/00000001');
  const { registration } = findRegistration(bundle, options.bank);
  const redirectUri = options.redirectUri ?? bundle.summary.software.redirectUris[0];
  if (!redirectUri)
    throw new TppUsageError('the software statement has no redirect URI; give --redirect-uri');

  const bank = await connectToBank(bundle, {
    discoveryUrl: registration.discoveryUrl,
    trust: options.trust,
    clientId: registration.clientId,
    authMethod: registration.tokenEndpointAuthMethod ?? 'private_key_jwt',
  });
  try {
    const pisp = `${apiBaseOf(bank)}/pisp`;
    const initiation = {
      InstructionIdentification: `obkit-${randomUUID().slice(0, 12)}`,
      EndToEndIdentification: `obkit-${randomUUID().slice(0, 12)}`,
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: options.amount, Currency: options.currency },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${payee.sortCode}${payee.accountNumber}`,
        Name: options.payeeName ?? 'Payee',
      },
      RemittanceInformation: { Reference: (options.reference ?? 'obkit payment').slice(0, 35) },
    };
    const risk = { PaymentContextCode: 'PartyToParty' };

    const clientToken = await clientCredentialsToken(bank, 'payments');
    const staged = await signedPost(
      bank,
      bundle,
      clientToken.access_token,
      `${pisp}/domestic-payment-consents`,
      {
        Data: { Initiation: initiation },
        Risk: risk,
      },
    );
    if (staged.status !== 201) throw describeFailure('staging the payment consent', staged);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;
    progress(`staged domestic-payment consent ${consentId}`);
    updateBundleSummary(bundle.dir, (summary) => {
      summary.consents.push({
        consentId,
        kind: 'domestic-payment',
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

    const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}/domestic-payments`, {
      Data: { ConsentId: consentId, Initiation: initiation },
      Risk: risk,
    });
    if (submitted.status !== 201) throw describeFailure('submitting the payment', submitted);
    let payment = (submitted.json as { Data: PayResult['payment'] }).Data;
    progress(`submitted payment ${payment.DomesticPaymentId}: ${payment.Status}`);

    const deadline = Date.now() + (options.pollSeconds ?? 30) * 1000;
    while (!FINAL.has(payment.Status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const polled = await callApi(
        bank,
        clientToken.access_token,
        `${pisp}/domestic-payments/${encodeURIComponent(payment.DomesticPaymentId)}`,
      );
      if (polled.status !== 200) throw describeFailure('reading the payment status', polled);
      payment = (polled.json as { Data: PayResult['payment'] }).Data;
      progress(`payment ${payment.DomesticPaymentId}: ${payment.Status}`);
    }
    updateBundleSummary(bundle.dir, (summary) => {
      const record = summary.consents.find((c) => c.consentId === consentId);
      if (record) record.status = 'Consumed';
    });
    return { consentId, authorisedBy, payment };
  } finally {
    await bank.close();
  }
}
