import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  executePayment,
  findAccountByIdentification,
  fromMinor,
  fundsAvailable,
  getAccount,
  getPayment,
  INTERNATIONAL_CHARGE_GBP_MINOR,
  quoteFx,
  quoteFxForTarget,
  SANDBOX_GBP_RATES,
  type AccountRecord,
  type PaymentRecord,
} from '../../bank/index.ts';
import { consume, createIntent, getIntentForClient, type Intent } from '../../consent/index.ts';
import { ObError } from '../errors.ts';
import { guard, guarded, guardProfiles } from '../guard/index.ts';
import { idempotencyScopeOf, idempotent } from '../http/idempotency.ts';
import { asObError } from '../http/intent-errors.ts';
import { requireSignature } from '../http/jws.ts';
import { obDateTime } from '../http/wire.ts';
import {
  assertSubmissionMatchesConsent,
  clientIdOf,
  debtorAccount,
  debtorOf,
  paymentStatusDetail,
  RESOURCE_ID,
  submissionChecks,
  type PaymentsContext,
} from './common.ts';
import {
  accountSchema,
  amountToMinor,
  checkAccount,
  creditorAccountSchema,
  currencySchema,
  instructedAmountSchema,
  parseBody,
  remittanceSchema,
  riskSchema,
} from './validation.ts';

const text = (max: number) => z.string().min(1).max(max);
const address = z.record(z.string(), z.unknown());

const initiationSchema = z.strictObject({
  InstructionIdentification: text(35),
  EndToEndIdentification: text(35),
  LocalInstrument: z.string().optional(),
  InstructionPriority: z.enum(['Normal', 'Urgent']).optional(),
  Purpose: text(4).optional(),
  ExtendedPurpose: text(140).optional(),
  ChargeBearer: z.enum(['BorneByCreditor', 'BorneByDebtor', 'FollowingServiceLevel', 'Shared']).optional(),
  CurrencyOfTransfer: currencySchema,
  DestinationCountryCode: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  InstructedAmount: instructedAmountSchema,
  ExchangeRateInformation: z
    .strictObject({
      UnitCurrency: currencySchema,
      ExchangeRate: z.number().optional(),
      RateType: z.enum(['Actual', 'Agreed', 'Indicative']),
      ContractIdentification: text(256).optional(),
    })
    .optional(),
  DebtorAccount: accountSchema.optional(),
  Creditor: z.strictObject({ Name: text(140).optional(), PostalAddress: address.optional() }).optional(),
  CreditorAgent: z
    .strictObject({
      SchemeName: z.string().optional(),
      Identification: text(35).optional(),
      Name: text(140).optional(),
      PostalAddress: address.optional(),
    })
    .optional(),
  CreditorAccount: creditorAccountSchema,
  RemittanceInformation: remittanceSchema.optional(),
  SupplementaryData: z.record(z.string(), z.unknown()).optional(),
});
type InternationalInitiation = z.infer<typeof initiationSchema>;

const consentSchema = z.strictObject({
  Data: z.strictObject({
    ReadRefundAccount: z.enum(['No', 'Yes']).optional(),
    Initiation: initiationSchema,
    Authorisation: z.unknown().optional(),
    SCASupportData: z.unknown().optional(),
  }),
  Risk: riskSchema,
});
const paymentSchema = z.strictObject({
  Data: z.strictObject({ ConsentId: text(128), Initiation: initiationSchema }),
  Risk: riskSchema,
});

/** The terms of an international payment from an account in `accountCurrency`. */
interface Terms {
  /** Debit of the account for the transfer itself (without the charge). */
  debitMinor: bigint;
  /** What the payee receives, in the currency of transfer. */
  transferMinor: bigint;
  transferCurrency: string;
  accountCurrency: string;
  /** Units of the transfer currency per unit of the account currency. */
  rate: string;
  /** The charge to the debtor (0 when the creditor bears the charges). */
  chargeMinor: bigint;
  chargeBearer: string;
}

function refuseCurrency(message: string, path: string): ObError {
  return ObError.single(400, 'UK.OBIE.Unsupported.Currency', message, path);
}

/** Checks an Initiation on its own (staging): currencies the sandbox exchanges, amounts, accounts, no agreed rates. */
function checkInitiation(initiation: InternationalInitiation): bigint {
  const path = 'Data.Initiation';
  const amountMinor = amountToMinor(initiation.InstructedAmount, `${path}.InstructedAmount`);
  for (const [currency, where] of [
    [initiation.CurrencyOfTransfer, 'CurrencyOfTransfer'],
    [initiation.InstructedAmount.Currency, 'InstructedAmount.Currency'],
  ] as const) {
    if (SANDBOX_GBP_RATES[currency] === undefined)
      throw refuseCurrency(`the bank does not exchange ${currency}`, `${path}.${where}`);
  }
  checkAccount(initiation.DebtorAccount, `${path}.DebtorAccount`);
  if (!['UK.OBIE.IBAN', 'UK.OBIE.SortCodeAccountNumber'].includes(initiation.CreditorAccount.SchemeName))
    throw ObError.single(
      400,
      'UK.OBIE.Unsupported.Scheme',
      'CreditorAccount.SchemeName must be UK.OBIE.IBAN or UK.OBIE.SortCodeAccountNumber',
      `${path}.CreditorAccount.SchemeName`,
    );
  if (initiation.ExchangeRateInformation?.RateType === 'Agreed')
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'agreed (contracted) exchange rates are not offered; use Actual or Indicative',
      `${path}.ExchangeRateInformation.RateType`,
    );
  return amountMinor;
}

/**
 * The terms from an account in `accountCurrency`: the instructed amount is either in the currency of
 * transfer (the payee receives exactly it) or in the account's currency (the account is debited exactly it).
 */
function termsFor(initiation: InternationalInitiation, accountCurrency: string): Terms {
  const amountMinor = checkInitiation(initiation);
  const transferCurrency = initiation.CurrencyOfTransfer;
  const instructedCurrency = initiation.InstructedAmount.Currency;
  if (SANDBOX_GBP_RATES[accountCurrency] === undefined)
    throw refuseCurrency(`the bank does not exchange ${accountCurrency}`, 'Data.Initiation.DebtorAccount');
  let debitMinor: bigint;
  let transferMinor: bigint;
  let rate: string;
  if (instructedCurrency === transferCurrency) {
    const quote = quoteFxForTarget(amountMinor, accountCurrency, transferCurrency);
    debitMinor = quote.sourceMinor;
    transferMinor = amountMinor;
    rate = quote.rate;
  } else if (instructedCurrency === accountCurrency) {
    const quote = quoteFx(amountMinor, accountCurrency, transferCurrency);
    debitMinor = amountMinor;
    transferMinor = quote.targetMinor;
    rate = quote.rate;
  } else {
    throw refuseCurrency(
      `InstructedAmount must be in the currency of transfer (${transferCurrency}) or of the debtor account (${accountCurrency})`,
      'Data.Initiation.InstructedAmount.Currency',
    );
  }
  if (transferMinor <= 0n || debitMinor <= 0n)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'the amount is too small to convert',
      'Data.Initiation.InstructedAmount.Amount',
    );
  const chargeBearer = initiation.ChargeBearer ?? 'BorneByDebtor';
  const chargeMinor =
    chargeBearer === 'BorneByCreditor'
      ? 0n
      : quoteFx(INTERNATIONAL_CHARGE_GBP_MINOR, 'GBP', accountCurrency).targetMinor;
  return { debitMinor, transferMinor, transferCurrency, accountCurrency, rate, chargeMinor, chargeBearer };
}

function quoteFields(terms: Terms, rateType: 'Indicative' | 'Actual') {
  return {
    ...(terms.chargeMinor > 0n
      ? {
          Charges: [
            {
              ChargeBearer: terms.chargeBearer,
              Type: 'UK.OBIE.InternationalPayment',
              Amount: {
                Amount: fromMinor(terms.chargeMinor, terms.accountCurrency),
                Currency: terms.accountCurrency,
              },
            },
          ],
        }
      : {}),
    ...(terms.transferCurrency !== terms.accountCurrency
      ? {
          ExchangeRateInformation: {
            UnitCurrency: terms.accountCurrency,
            ExchangeRate: Number(terms.rate),
            RateType: rateType,
          },
        }
      : {}),
  };
}

/** The debtor's currency for an indicative quote at staging: the named debtor account's, else GBP. */
async function stagingCurrency(
  context: PaymentsContext,
  initiation: InternationalInitiation,
): Promise<string> {
  const named = initiation.DebtorAccount;
  if (!named) return 'GBP';
  const account = await findAccountByIdentification(context.db, named.SchemeName, named.Identification);
  if (!account)
    throw ObError.single(
      400,
      'UK.OBIE.Field.Invalid',
      'the debtor account is not an account of this bank',
      'Data.Initiation.DebtorAccount',
    );
  return account.currency;
}

function consentBody(
  intent: Intent,
  self: string,
  terms: Terms | undefined,
  debtor: AccountRecord | undefined,
) {
  const data = intent.data;
  return {
    Data: {
      ConsentId: intent.id,
      CreationDateTime: obDateTime(intent.createdAt),
      Status: intent.status,
      StatusUpdateDateTime: obDateTime(intent.statusUpdatedAt),
      ...(data.ReadRefundAccount !== undefined ? { ReadRefundAccount: data.ReadRefundAccount } : {}),
      ...(terms ? quoteFields(terms, 'Indicative') : {}),
      Initiation: data.Initiation,
      ...(data.Authorisation !== undefined ? { Authorisation: data.Authorisation } : {}),
      ...(data.SCASupportData !== undefined ? { SCASupportData: data.SCASupportData } : {}),
      ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
    },
    Risk: intent.risk,
    Links: { Self: self },
    Meta: {},
  };
}

function paymentBody(payment: PaymentRecord, debtor: AccountRecord | undefined, self: string) {
  const request = payment.request as { Initiation: unknown; Terms?: Record<string, string> };
  const stored = request.Terms;
  const terms: Terms | undefined = stored
    ? {
        debitMinor: BigInt(stored.debitMinor ?? '0'),
        transferMinor: BigInt(stored.transferMinor ?? '0'),
        transferCurrency: stored.transferCurrency ?? payment.currency,
        accountCurrency: stored.accountCurrency ?? payment.currency,
        rate: stored.rate ?? '1',
        chargeMinor: BigInt(stored.chargeMinor ?? '0'),
        chargeBearer: stored.chargeBearer ?? 'BorneByDebtor',
      }
    : undefined;
  return {
    Data: {
      InternationalPaymentId: payment.id,
      ConsentId: payment.consentId,
      CreationDateTime: obDateTime(payment.createdAt),
      Status: payment.status,
      StatusUpdateDateTime: obDateTime(payment.statusUpdatedAt),
      ...(terms ? quoteFields(terms, 'Actual') : {}),
      Initiation: request.Initiation,
      ...(debtor ? { Debtor: debtorOf(debtor) } : {}),
    },
    Links: { Self: self },
    Meta: {},
  };
}

/**
 * International single payments: the sandbox's fixed FX table and charge. The consent shows an indicative
 * rate and the charge; the payment debits the account (transfer + charge) in one posting set through the
 * FX and clearing accounts, and reports the rate it used.
 */
export function internationalPayments(scope: FastifyInstance, context: PaymentsContext): void {
  const { db, clock } = context;
  const base = context.publicBaseUrl;
  const consentGuard = guard(guardProfiles.consentEndpoint('payments'), context.guard);
  const signed = requireSignature(context.signatures, clientIdOf);

  scope.post(
    '/international-payment-consents',
    { preHandler: [consentGuard, signed] },
    async (request, reply) => {
      const clientId = guarded(request).token.clientId;
      const body = parseBody(consentSchema, request.body);
      const terms = termsFor(body.Data.Initiation, await stagingCurrency(context, body.Data.Initiation));
      const outcome = await idempotent(db, clock, idempotencyScopeOf(request, clientId), async (tx) => {
        const intent = await createIntent(
          { db: tx, clock },
          { kind: 'international-payment', clientId, data: body.Data, risk: body.Risk },
        ).catch(asObError);
        return {
          status: 201,
          body: consentBody(intent, `${base}/international-payment-consents/${intent.id}`, terms, undefined),
        };
      });
      return reply.status(outcome.status).send(outcome.body);
    },
  );

  const debtorOfIntent = async (intent: Intent) =>
    intent.accountIds[0] && (intent.status === 'Authorised' || intent.status === 'Consumed')
      ? await getAccount(db, intent.accountIds[0])
      : undefined;
  const currentTerms = async (intent: Intent, debtor: AccountRecord | undefined) => {
    const initiation = intent.data.Initiation as InternationalInitiation;
    try {
      return termsFor(initiation, debtor?.currency ?? (await stagingCurrency(context, initiation)));
    } catch {
      return undefined; // A debtor account in a currency the consent cannot be paid from: no quote.
    }
  };

  scope.get<{ Params: { ConsentId: string } }>(
    '/international-payment-consents/:ConsentId',
    { preHandler: consentGuard },
    async (request) => {
      const clientId = guarded(request).token.clientId;
      const consentId = request.params.ConsentId;
      const intent = RESOURCE_ID.test(consentId)
        ? await getIntentForClient(db, consentId, clientId)
        : undefined;
      if (!intent || intent.kind !== 'international-payment')
        throw ObError.single(
          404,
          'UK.OBIE.Resource.NotFound',
          `no international payment consent ${consentId} of yours`,
        );
      const debtor = await debtorOfIntent(intent);
      return consentBody(
        intent,
        `${base}/international-payment-consents/${intent.id}`,
        await currentTerms(intent, debtor),
        debtor,
      );
    },
  );

  scope.get<{ Params: { ConsentId: string } }>(
    '/international-payment-consents/:ConsentId/funds-confirmation',
    { preHandler: guard(submissionChecks(['international-payment'], false), context.guard) },
    async (request) => {
      const intent = guarded(request).intent;
      if (!intent || intent.id !== request.params.ConsentId)
        throw ObError.single(
          403,
          'UK.OBIE.Resource.ConsentMismatch',
          'the access token was issued for another consent',
        );
      const account = await debtorAccount(db, intent, undefined, 'Data.Initiation.DebtorAccount');
      const terms = termsFor(intent.data.Initiation as InternationalInitiation, account.currency);
      const available = await fundsAvailable(
        db,
        account.id,
        terms.debitMinor + terms.chargeMinor,
        account.currency,
      );
      return {
        Data: {
          FundsAvailableResult: {
            FundsAvailableDateTime: obDateTime(clock.now()),
            FundsAvailable: available,
          },
        },
        Links: { Self: `${base}/international-payment-consents/${intent.id}/funds-confirmation` },
        Meta: {},
      };
    },
  );

  scope.post(
    '/international-payments',
    { preHandler: [guard(submissionChecks(['international-payment'], true), context.guard), signed] },
    async (request, reply) => {
      const state = guarded(request);
      const intent = state.intent;
      if (!intent) throw new Error('payment submission reached without a consent');
      const body = parseBody(paymentSchema, request.body);
      assertSubmissionMatchesConsent(intent, body);
      const initiation = body.Data.Initiation;
      const outcome = await idempotent(
        db,
        clock,
        idempotencyScopeOf(request, state.token.clientId),
        async (tx) => {
          const account = await debtorAccount(
            tx,
            intent,
            initiation.DebtorAccount,
            'Data.Initiation.DebtorAccount',
          );
          const terms = termsFor(initiation, account.currency);
          await consume({ db: tx, clock }, intent.id, { detail: 'international payment submitted' }).catch(
            asObError,
          );
          const fx = terms.transferCurrency !== terms.accountCurrency;
          const payment = await executePayment(
            tx,
            { clock },
            {
              kind: 'international',
              consentId: intent.id,
              clientId: intent.clientId,
              ...(intent.customerId ? { customerId: intent.customerId } : {}),
              debtorAccountId: account.id,
              amountMinor: terms.debitMinor,
              currency: account.currency,
              creditor: {
                schemeName: initiation.CreditorAccount.SchemeName,
                identification: initiation.CreditorAccount.Identification.replace(/\s/g, ''),
                name: initiation.CreditorAccount.Name,
                ...(initiation.CreditorAgent?.Identification
                  ? {
                      agent: {
                        schemeName: initiation.CreditorAgent.SchemeName,
                        identification: initiation.CreditorAgent.Identification,
                      },
                    }
                  : {}),
              },
              reference: initiation.RemittanceInformation?.Reference ?? initiation.EndToEndIdentification,
              request: {
                ...body.Data,
                Terms: {
                  debitMinor: String(terms.debitMinor),
                  transferMinor: String(terms.transferMinor),
                  transferCurrency: terms.transferCurrency,
                  accountCurrency: terms.accountCurrency,
                  rate: terms.rate,
                  chargeMinor: String(terms.chargeMinor),
                  chargeBearer: terms.chargeBearer,
                },
              },
              external: {
                ...(fx
                  ? {
                      instructed: {
                        amountMinor: terms.transferMinor,
                        currency: terms.transferCurrency,
                        rate: terms.rate,
                      },
                    }
                  : {}),
                feeMinor: terms.chargeMinor,
              },
            },
          );
          return {
            status: 201,
            body: paymentBody(payment, account, `${base}/international-payments/${payment.id}`),
          };
        },
      );
      if (!outcome.replayed) context.forgetIntent(intent.id);
      return reply.status(outcome.status).send(outcome.body);
    },
  );

  const owned = async (clientId: string, id: string): Promise<PaymentRecord> => {
    const payment = RESOURCE_ID.test(id) ? await getPayment(db, id) : undefined;
    if (!payment || payment.clientId !== clientId || payment.kind !== 'international')
      throw ObError.single(404, 'UK.OBIE.Resource.NotFound', `no international payment ${id} of yours`);
    return payment;
  };

  scope.get<{ Params: { InternationalPaymentId: string } }>(
    '/international-payments/:InternationalPaymentId',
    { preHandler: consentGuard },
    async (request) => {
      const payment = await owned(guarded(request).token.clientId, request.params.InternationalPaymentId);
      return paymentBody(
        payment,
        await getAccount(db, payment.debtorAccountId),
        `${base}/international-payments/${payment.id}`,
      );
    },
  );

  scope.get<{ Params: { InternationalPaymentId: string } }>(
    '/international-payments/:InternationalPaymentId/payment-details',
    { preHandler: consentGuard },
    async (request) => {
      const payment = await owned(guarded(request).token.clientId, request.params.InternationalPaymentId);
      return {
        Data: { PaymentStatus: [paymentStatusDetail(payment, obDateTime(payment.statusUpdatedAt))] },
        Links: { Self: `${base}/international-payments/${payment.id}/payment-details` },
        Meta: {},
      };
    },
  );
}
