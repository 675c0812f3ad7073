import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  describeRejection,
  findAccountByIdentification,
  getAccount,
  getHeldAccount,
  getHeldAccountWithCreditor,
  isIdentifiedBy,
  type AccountRecord,
  type Counterparty,
  type PaymentRecord,
} from '../../bank/index.ts';
import {
  consume,
  createIntent,
  type Intent,
  type IntentKind,
  type RevocationNotifier,
} from '../../consent/index.ts';
import type { Clock } from '../../shared/clock.ts';
import { ObError } from '../errors.ts';
import { canonicalJson } from './validation.ts';
import { obDateTime } from '../http/wire.ts';
import { bearerToken } from '../guard/checks/bearer-token.ts';
import { certificateBinding } from '../guard/checks/certificate-binding.ts';
import { consentAuthorised } from '../guard/checks/consent.ts';
import { fapiHeaders } from '../guard/checks/fapi-headers.ts';
import { participantActive } from '../guard/checks/participant-active.ts';
import { scope } from '../guard/checks/scope.ts';
import { tokenGrantType } from '../guard/checks/token-grant-type.ts';
import { transportCertificate } from '../guard/checks/transport-certificate.ts';
import { role } from '../guard/checks/role.ts';
import type { Check, GuardDependencies } from '../guard/index.ts';
import {
  idempotencyScopeOf,
  idempotent,
  sendOutcome,
  type Db,
  type IdempotencyKeys,
  type Tx,
} from '../http/idempotency.ts';
import { asObError } from '../http/intent-errors.ts';
import type { ApiVersion } from '../versions.ts';
import type { ResponseSigner, SignatureVerifierOptions } from '../http/jws.ts';

/** What the payment APIs (PIS, VRP) are mounted with. */
export interface PaymentsContext {
  db: Db;
  clock: Clock;
  guard: GuardDependencies;
  /** Request signature verification: the TPP's keys, the trust anchor. */
  signatures: SignatureVerifierOptions;
  /** Signs every response of these APIs with the bank's key. */
  signer: ResponseSigner;
  /** e.g. `https://bank.example/open-banking/v3.1/pisp`. */
  publicBaseUrl: string;
  /** The Read/Write version these routes serve (v3.1.11 unless said). */
  version?: ApiVersion;
  /** The idempotency key rows' statements (src/store/idempotency.ts, given by whoever mounts these APIs). */
  idempotencyKeys: IdempotencyKeys;
  /** Drops a consent from the guard's cache (after it is consumed). */
  forgetIntent(intentId: string): void;
  /** Told of a revocation (a deleted VRP consent), for every instance's caches and tokens. */
  notifyRevoked: RevocationNotifier;
}

/** The checks of a PSU-authorised payment call (submission, funds confirmation) of PIS or VRP. */
export function submissionChecks(
  kinds: readonly IntentKind[],
  allowConsumed: boolean,
  api: 'pis' | 'vrp' = 'pis',
): Check[] {
  return [
    transportCertificate,
    bearerToken,
    participantActive,
    tokenGrantType('authorization_code'),
    certificateBinding,
    role(api),
    scope('payments'),
    fapiHeaders,
    consentAuthorised(kinds, { allowConsumed }),
  ];
}

export { RESOURCE_ID } from '../http/owned-resources.ts';

/**
 * The account the PSU chose to pay from, checked: it is still the PSU's, and when the TPP named a debtor
 * account it is that one. Refusals are 400 with the field at fault.
 */
export async function debtorAccount(
  db: Db,
  intent: Intent,
  named: { SchemeName: string; Identification: string } | undefined,
  path: string,
): Promise<AccountRecord> {
  return (await debtorAccountWithCreditor(db, intent, named, path, undefined)).account;
}

/**
 * `debtorAccount`, and with `creditor` (a payment's payee) the customer account it names here read in the
 * same statement (`creditorAccount`: null when it names none, undefined without `creditor`), for
 * `executePayment` to post with — not looked up again.
 */
export async function debtorAccountWithCreditor(
  db: Db,
  intent: Intent,
  named: { SchemeName: string; Identification: string } | undefined,
  path: string,
  creditor: Counterparty | undefined,
): Promise<{ account: AccountRecord; creditorAccount: AccountRecord | null | undefined }> {
  const accountId = intent.accountIds[0];
  if (!accountId || !intent.customerId)
    throw ObError.single(403, 'UK.OBIE.Resource.InvalidConsentStatus', 'the consent names no debtor account');
  const held = creditor
    ? await getHeldAccountWithCreditor(db, intent.customerId, accountId, creditor)
    : await getHeldAccount(db, intent.customerId, accountId).then(
        (account) => account && { account, creditorAccount: undefined },
      );
  if (!held)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'the debtor account is not an account of the PSU who authorised the consent',
      path,
    );
  // The account the TPP names must be the one the PSU chose: decided on the row just read (as
  // `findAccountByIdentification` would find it), not by a second look-up.
  if (named && !isIdentifiedBy(held.account, named.SchemeName, named.Identification))
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'the debtor account is not the account the PSU authorised this payment from',
      path,
    );
  return held;
}

/** OBCashAccountDebtor4 of one of our accounts. */
export function debtorOf(account: AccountRecord): Record<string, string> {
  if (account.sortCode && account.accountNumber)
    return {
      SchemeName: 'UK.OBIE.SortCodeAccountNumber',
      Identification: account.sortCode + account.accountNumber,
      Name: account.name,
    };
  if (account.iban) return { SchemeName: 'UK.OBIE.IBAN', Identification: account.iban, Name: account.name };
  return { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: account.id, Name: account.name };
}

/** Why the bank rejected a payment, as TPPs and customers are told (one wording, the bank's). */
export const rejectionText = describeRejection;

/** A payment's OBWritePaymentDetailsResponse1 Data.PaymentStatus entry. */
export function paymentStatusDetail(payment: PaymentRecord, at: string): Record<string, unknown> {
  return {
    PaymentTransactionId: payment.entryId ?? payment.id,
    Status: payment.status,
    StatusUpdateDateTime: at,
    ...(payment.status === 'Rejected'
      ? {
          StatusDetail: {
            Status: 'Rejected',
            StatusReason: 'ProprietaryRejection',
            StatusReasonDescription: rejectionText(payment.reason),
          },
        }
      : {}),
  };
}

export function clientIdOf(request: FastifyRequest): string {
  const clientId = request.guard?.token?.clientId;
  if (!clientId) throw new Error('signature check reached without passing the API guard');
  return clientId;
}

/** The `Data.ConsentId` of a request must be the consent its access token was issued for. */
export function assertConsentId(intent: Intent, consentId: string): void {
  if (consentId !== intent.id) {
    throw ObError.single(
      400,
      'UK.OBIE.Resource.ConsentMismatch',
      'Data.ConsentId is not the consent the access token was issued for',
      'Data.ConsentId',
    );
  }
}

/** A payment submission must be exactly what the PSU authorised: the same consent, Initiation and Risk. */
export function assertSubmissionMatchesConsent(
  intent: Intent,
  body: { Data: { ConsentId: string; Initiation: unknown }; Risk: unknown },
): void {
  assertConsentId(intent, body.Data.ConsentId);
  if (canonicalJson(body.Data.Initiation) !== canonicalJson(intent.data.Initiation)) {
    throw ObError.single(
      400,
      'UK.OBIE.Resource.ConsentMismatch',
      'Data.Initiation differs from the Initiation of the authorised consent',
      'Data.Initiation',
    );
  }
  if (canonicalJson(body.Risk) !== canonicalJson(intent.risk)) {
    throw ObError.single(
      400,
      'UK.OBIE.Resource.ConsentMismatch',
      'Risk differs from the Risk of the authorised consent',
      'Risk',
    );
  }
}

/** The debtor account a request names, which must be an account of this bank; undefined when none is named. */
export async function namedDebtorAccount(
  db: Db,
  named: { SchemeName: string; Identification: string } | undefined,
  path = 'Data.Initiation.DebtorAccount',
): Promise<AccountRecord | undefined> {
  if (!named) return undefined;
  const account = await findAccountByIdentification(db, named.SchemeName, named.Identification);
  if (!account)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'the debtor account is not an account of this bank',
      path,
    );
  return account;
}

/** The account the PSU chose, once the consent is authorised (shown as `Debtor`); undefined before. */
export async function chosenDebtorAccount(db: Db, intent: Intent): Promise<AccountRecord | undefined> {
  const accountId = intent.accountIds[0];
  if (!accountId || (intent.status !== 'Authorised' && intent.status !== 'Consumed')) return undefined;
  return getAccount(db, accountId);
}

/**
 * Stages a consent of `kind` for the calling client, idempotently: 201 with `body(intent)`, and the same
 * answer, without a second consent, to a retry with the same `x-idempotency-key` and body.
 */
export async function stageConsent(
  context: Pick<PaymentsContext, 'db' | 'clock' | 'idempotencyKeys'>,
  request: FastifyRequest,
  reply: FastifyReply,
  consent: {
    kind: IntentKind;
    clientId: string;
    data: Record<string, unknown>;
    risk: Record<string, unknown>;
    apiVersion?: string;
  },
  body: (intent: Intent) => unknown,
): Promise<FastifyReply> {
  const { clock } = context;
  const outcome = await idempotent(context, idempotencyScopeOf(request, consent.clientId), async (tx) => {
    const intent = await createIntent({ db: tx, clock }, consent).catch(asObError);
    return { status: 201, body: body(intent) };
  });
  return sendOutcome(reply, outcome);
}

/** An OB creditor account as the ledger records the payee (identification without spaces). */
export function creditorOf(account: {
  SchemeName: string;
  Identification: string;
  Name?: string | undefined;
  SecondaryIdentification?: string | undefined;
}): Counterparty {
  return {
    schemeName: account.SchemeName,
    identification: account.Identification.replace(/\s/g, ''),
    ...(account.Name !== undefined ? { name: account.Name } : {}),
    ...(account.SecondaryIdentification ? { secondaryIdentification: account.SecondaryIdentification } : {}),
  };
}

/**
 * A payment submission, carried out once: in one transaction under the request's idempotency key, the
 * PSU's debtor account is checked (against the one the request names, if any), the consent consumed,
 * and `execute` sets the payment up; its 201 body is the answer, and a retry with the same key and body
 * gets the stored answer without a second execution.
 */
export async function submitOnce(
  context: PaymentsContext,
  request: FastifyRequest,
  reply: FastifyReply,
  intent: Intent,
  submission: {
    namedDebtor: { SchemeName: string; Identification: string } | undefined;
    /**
     * The payee of a payment paid now that may be on-us (domestic): its account here is read with the debtor's
     * and given to `execute`. None where submission looks no payee up (international: through clearing whatever
     * it names; a file: a payee per transaction; future-dated: paid when due).
     */
    creditor?: Counterparty;
    /** Recorded in the consent's history, e.g. `domestic payment submitted`. */
    detail: string;
    /** `creditorAccount`: `creditor`'s account here (`debtorAccountWithCreditor`), for `executePayment`. */
    execute(
      tx: Tx,
      account: AccountRecord,
      creditorAccount: AccountRecord | null | undefined,
    ): Promise<unknown>;
  },
): Promise<FastifyReply> {
  const { clock } = context;
  const outcome = await idempotent(context, idempotencyScopeOf(request, clientIdOf(request)), async (tx) => {
    const { account, creditorAccount } = await debtorAccountWithCreditor(
      tx,
      intent,
      submission.namedDebtor,
      'Data.Initiation.DebtorAccount',
      submission.creditor,
    );
    await consume({ db: tx, clock }, intent.id, { detail: submission.detail }).catch(asObError);
    return { status: 201, body: await submission.execute(tx, account, creditorAccount) };
  });
  if (!outcome.replayed) context.forgetIntent(intent.id);
  return sendOutcome(reply, outcome);
}

/**
 * A payment consent resource (OBWrite…ConsentResponse) of an intent: what the TPP staged, its status, the
 * PSU's chosen account once authorised, and `quote` (an international consent's Charges and
 * ExchangeRateInformation). File consents carry no Risk in the specification.
 */
export function paymentConsentBody(
  intent: Intent,
  self: string,
  debtor: AccountRecord | undefined,
  quote: Record<string, unknown> = {},
  status: string = intent.status,
) {
  const data = intent.data;
  return {
    Data: {
      ConsentId: intent.id,
      CreationDateTime: obDateTime(intent.createdAt),
      Status: status,
      StatusUpdateDateTime: obDateTime(intent.statusUpdatedAt),
      ...(data.Permission !== undefined ? { Permission: data.Permission } : {}),
      ...(data.ReadRefundAccount !== undefined ? { ReadRefundAccount: data.ReadRefundAccount } : {}),
      ...quote,
      Initiation: data.Initiation,
      ...(data.Authorisation !== undefined ? { Authorisation: data.Authorisation } : {}),
      ...(data.SCASupportData !== undefined ? { SCASupportData: data.SCASupportData } : {}),
      ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
    },
    ...(intent.kind === 'file-payment' ? {} : { Risk: intent.risk }),
    Links: { Self: self },
    Meta: {},
  };
}
