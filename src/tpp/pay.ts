import { randomUUID } from 'node:crypto';
import type { BankConnection } from './bank.ts';
import type { Bundle } from './bundle.ts';
import { clientCredentialsToken } from './authorization.ts';
import { runConsentJourney, type ConsentJourneyOptions } from './consent-journey.ts';
import { describeFailure, type HttpResponse } from './http.ts';
import { signRequestBody } from './message-signing.ts';
import { apiBaseOf, callApi, type ReadWriteVersion } from './open-banking.ts';
import type { AuthorisedBy } from './psu-authorisation.ts';
import { isRejected, notServedAt, PAYMENT_STATUSES } from './payment-versions.ts';
import {
  describeQuote,
  planPayment,
  type PaymentKind,
  type PaymentRequest,
  type Quote,
} from './payment-kinds.ts';

export { parsePayee } from './payment-kinds.ts';

/**
 * The payment journey of a PISP, over HTTP only, for every payment kind of the PIS API at v4.0 (the
 * default) or v3.1.11: domestic or international (`toIban`), single, scheduled (`at`) or a standing
 * order (`every` + `first`). Stage a signed consent, have the PSU authorise it, submit the signed payment
 * with an idempotency key, and poll it until its status is final (a scheduled payment or standing order
 * is final once the bank has set it up: `InitiationCompleted`, v4.0 `ACTC`/`INCO`).
 */
export interface PayOptions extends PaymentRequest, ConsentJourneyOptions {
  /** How long to poll for a final status. Default 30 s. */
  pollSeconds?: number;
}

export interface PayResult {
  kind: PaymentKind;
  apiVersion: ReadWriteVersion;
  consentId: string;
  authorisedBy: AuthorisedBy;
  /** The resource's id field (`DomesticPaymentId`, `InternationalStandingOrderId`, …) and its value. */
  idField: string;
  paymentId: string;
  /** The final payment resource (the response's `Data`), in the version's words. */
  payment: Record<string, unknown> & { Status: string };
  /** A rejected payment: the bank's reason, from its payment-details (`StatusReasonDescription (StatusReason)`). */
  rejectionReason?: string;
}

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

export interface StagedConsent {
  /** The version's PIS base (`…/open-banking/v4.0/pisp`). */
  pisp: string;
  /** The client's own (client_credentials) token: staging, uploads, reads. */
  clientToken: string;
  /** The bank's answer's `Data`. */
  consent: Record<string, unknown> & { ConsentId: string; Status: string };
}

/**
 * Stages a payment consent of any kind (PIS, VRP, file) at a version, signed, with the client's own
 * token. A bank that does not serve the kind at that version is a one-line usage error.
 */
export async function stagePaymentConsent(
  bank: BankConnection,
  bundle: Bundle,
  request: { apiVersion: ReadWriteVersion; path: string; body: unknown; served: string; what: string },
): Promise<StagedConsent> {
  const pisp = `${apiBaseOf(bank, undefined, request.apiVersion)}/pisp`;
  const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
  const staged = await signedPost(bank, bundle, clientToken, `${pisp}${request.path}`, request.body);
  if (staged.status !== 201)
    throw (
      notServedAt(request.apiVersion, request.served, staged) ??
      describeFailure(`staging the ${request.what} consent`, staged)
    );
  return { pisp, clientToken, consent: (staged.json as { Data: StagedConsent['consent'] }).Data };
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
  const plan = planPayment(options);
  const { spec, apiVersion } = plan;
  const statuses = PAYMENT_STATUSES[apiVersion];
  return runConsentJourney(
    options,
    async ({ bank, progress, recordConsent, setConsentStatus, authorise }) => {
      const { bundle } = options;
      const staged = await stagePaymentConsent(bank, bundle, {
        apiVersion,
        path: spec.consents,
        body: { Data: plan.consentData, Risk: plan.risk },
        served: `${spec.label}s`,
        what: 'payment',
      });
      const { pisp, clientToken } = staged;
      const consent = staged.consent as StagedConsent['consent'] & Quote;
      const consentId = consent.ConsentId;
      progress(`staged ${plan.kind} consent ${consentId} (v${apiVersion}): ${consent.Status}`);
      const quote = describeQuote(plan, consent);
      if (quote) progress(quote);
      recordConsent(consentId, plan.kind, 'AwaitingAuthorisation');
      const { tokens, authorisedBy } = await authorise(consentId, 'payments');

      const submitted = await signedPost(bank, bundle, tokens.access_token, `${pisp}${spec.payments}`, {
        Data: { ConsentId: consentId, Initiation: plan.initiation },
        Risk: plan.risk,
      });
      if (submitted.status !== 201) throw describeFailure('submitting the payment', submitted);
      let payment = (submitted.json as { Data: PayResult['payment'] }).Data;
      const paymentId = String(payment[spec.idField]);
      const label = spec.label;
      if (spec.futureDated && statuses.setUp.has(payment.Status)) {
        const when = plan.kind.endsWith('standing-order') ? 'each payment when due' : 'it when due';
        progress(
          `submitted ${label} ${paymentId}: ${payment.Status} — final: the bank has set it up and executes ${when}`,
        );
      } else progress(`submitted ${label} ${paymentId}: ${payment.Status}`);

      const final = spec.futureDated ? statuses.finalFutureDated : statuses.final;
      const paymentUrl = `${pisp}${spec.payments}/${encodeURIComponent(paymentId)}`;
      const deadline = Date.now() + (options.pollSeconds ?? 30) * 1000;
      while (!final.has(payment.Status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const polled = await callApi(bank, clientToken, paymentUrl);
        if (polled.status !== 200) throw describeFailure('reading the payment status', polled);
        payment = (polled.json as { Data: PayResult['payment'] }).Data;
        progress(`${label} ${paymentId}: ${payment.Status}`);
      }
      setConsentStatus(consentId, 'Consumed');
      const rejectionReason = isRejected(payment.Status)
        ? await rejectionReasonOf(bank, clientToken, paymentUrl)
        : undefined;
      return {
        kind: plan.kind,
        apiVersion,
        consentId,
        authorisedBy,
        idField: spec.idField,
        paymentId,
        payment,
        ...(rejectionReason ? { rejectionReason } : {}),
      };
    },
  );
}
