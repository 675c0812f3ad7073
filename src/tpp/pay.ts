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
import {
  describeQuote,
  planPayment,
  type PaymentKind,
  type PaymentRequest,
  type Quote,
} from './payment-kinds.ts';

export { parsePayee } from './payment-kinds.ts';

/**
 * The payment journey of a PISP, over HTTP only, for every payment kind of the PIS API: domestic or
 * international (`toIban`), single, scheduled (`at`) or a standing order (`every` + `first`). Stage a
 * signed consent, have the PSU authorise it, submit the signed payment with an idempotency key, and poll
 * it until its status is final (a scheduled payment or standing order is final once the bank has set it
 * up: `InitiationCompleted`).
 */
export interface PayOptions extends PaymentRequest {
  bundle: Bundle;
  bank?: string;
  trust: string[];
  psu?: string;
  manual?: boolean;
  redirectUri?: string;
  askForRedirect(authorizationUrl: URL): Promise<string>;
  progress?: (line: string) => void;
  /** How long to poll for a final status. Default 30 s. */
  pollSeconds?: number;
}

export interface PayResult {
  kind: PaymentKind;
  consentId: string;
  authorisedBy: AuthorisedBy;
  /** The resource's id field (`DomesticPaymentId`, `InternationalStandingOrderId`, …) and its value. */
  idField: string;
  paymentId: string;
  /** The final payment resource (the response's `Data`). */
  payment: Record<string, unknown> & { Status: string };
  /** A rejected payment: the bank's reason, from its payment-details (`StatusReasonDescription (StatusReason)`). */
  rejectionReason?: string;
}

/** Final statuses of a single payment; a future-dated one is also final once set up or refused. */
const FINAL = new Set(['AcceptedSettlementCompleted', 'AcceptedCreditSettlementCompleted', 'Rejected']);
const FINAL_FUTURE_DATED = new Set(['InitiationCompleted', 'InitiationFailed', 'Cancelled', 'Rejected']);

/** A POST with an idempotency key and the TPP's detached JWS over the exact body (every PIS and VRP write). */
export async function signedPost(
  bank: BankConnection,
  bundle: Bundle,
  token: string,
  url: string,
  body: unknown,
): Promise<HttpResponse> {
  // A string is sent as it is (a payment file's exact bytes); anything else as its JSON.
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return callApi(bank, token, url, {
    method: 'POST',
    body: text,
    headers: {
      'x-idempotency-key': randomUUID(),
      'x-jws-signature': await signRequestBody(bank, bundle, text),
    },
  });
}

/** Why the bank rejected a payment, as its payment-details say; undefined when it does not say. */
export async function rejectionReasonOf(
  bank: BankConnection,
  token: string,
  paymentUrl: string,
): Promise<string | undefined> {
  const details = await callApi(bank, token, `${paymentUrl}/payment-details`);
  if (details.status !== 200) return undefined;
  const statuses =
    (
      details.json as {
        Data?: {
          PaymentStatus?: { StatusDetail?: { StatusReason?: string; StatusReasonDescription?: string } }[];
        };
      }
    ).Data?.PaymentStatus ?? [];
  const detail = statuses.map((status) => status.StatusDetail).findLast((entry) => entry !== undefined);
  if (!detail) return undefined;
  const reason = detail.StatusReasonDescription ?? detail.StatusReason;
  return reason && detail.StatusReason && reason !== detail.StatusReason
    ? `${reason} (${detail.StatusReason})`
    : reason;
}

export async function runPayJourney(options: PayOptions): Promise<PayResult> {
  const progress = options.progress ?? (() => undefined);
  const { bundle } = options;
  const plan = planPayment(options);
  const { spec } = plan;
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
    const clientToken = await clientCredentialsToken(bank, 'payments');
    const staged = await signedPost(bank, bundle, clientToken.access_token, `${pisp}${spec.consents}`, {
      Data: plan.consentData,
      Risk: plan.risk,
    });
    if (staged.status !== 201) throw describeFailure('staging the payment consent', staged);
    const consent = (staged.json as { Data: Quote & { ConsentId: string } }).Data;
    const consentId = consent.ConsentId;
    progress(`staged ${plan.kind} consent ${consentId}`);
    const quote = describeQuote(plan, consent);
    if (quote) progress(quote);
    updateBundleSummary(bundle.dir, (summary) => {
      summary.consents.push({
        consentId,
        kind: plan.kind,
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

    const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}${spec.payments}`, {
      Data: { ConsentId: consentId, Initiation: plan.initiation },
      Risk: plan.risk,
    });
    if (submitted.status !== 201) throw describeFailure('submitting the payment', submitted);
    let payment = (submitted.json as { Data: PayResult['payment'] }).Data;
    const paymentId = String(payment[spec.idField]);
    const label = spec.label;
    if (spec.futureDated && payment.Status === 'InitiationCompleted') {
      const when = plan.kind.endsWith('standing-order') ? 'each payment when due' : 'it when due';
      progress(
        `submitted ${label} ${paymentId}: InitiationCompleted — final: the bank has set it up and executes ${when}`,
      );
    } else progress(`submitted ${label} ${paymentId}: ${payment.Status}`);

    const final = spec.futureDated ? FINAL_FUTURE_DATED : FINAL;
    const deadline = Date.now() + (options.pollSeconds ?? 30) * 1000;
    while (!final.has(payment.Status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const polled = await callApi(
        bank,
        clientToken.access_token,
        `${pisp}${spec.payments}/${encodeURIComponent(paymentId)}`,
      );
      if (polled.status !== 200) throw describeFailure('reading the payment status', polled);
      payment = (polled.json as { Data: PayResult['payment'] }).Data;
      progress(`${label} ${paymentId}: ${payment.Status}`);
    }
    updateBundleSummary(bundle.dir, (summary) => {
      const record = summary.consents.find((c) => c.consentId === consentId);
      if (record) record.status = 'Consumed';
    });
    const rejectionReason =
      payment.Status === 'Rejected'
        ? await rejectionReasonOf(
            bank,
            clientToken.access_token,
            `${pisp}${spec.payments}/${encodeURIComponent(paymentId)}`,
          )
        : undefined;
    return {
      kind: plan.kind,
      consentId,
      authorisedBy,
      idField: spec.idField,
      paymentId,
      payment,
      ...(rejectionReason ? { rejectionReason } : {}),
    };
  } finally {
    await bank.close();
  }
}
