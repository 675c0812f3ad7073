import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  cancelScheduledPayment,
  cancelStandingOrder,
  runDuePayments,
  verifyLedger,
} from '../../src/bank/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11, PIS_V4_0 } from '../support/openapi.ts';
import { pisClient, type Answer, type Body } from '../support/pis-client.ts';

type Reason = { StatusReasonCode: string; StatusReasonDescription: string };
type Detail = { Status: string; StatusDetail?: { Status: string; StatusReason?: string } };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** International payments on Payment Initiation v4.0, through the composed sandbox, on the one ledger. */
describe('PIS v4.0 international payments through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const tpp: Tpp = await sandbox.tpp('pis-v4-intl', ['PISP']);
  const { bank, bundle } = tpp;

  const { valid, post, get, v4Error, approve } = pisClient(sandbox, tpp, PIS_V4_0);
  /** A request without x-jws-signature is refused in v4.0's error shape (U019: signature missing). */
  const unsigned = (answer: Answer) => v4Error(answer, 400, 'U019');

  const iso = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, '+00:00');
  const payee = {
    Creditor: { Name: 'Hans Muster GmbH', LEI: '5493001KJTIIGC8Y1R12', PostalAddress: { Country: 'DE' } },
    CreditorAgent: { SchemeName: 'UK.OBIE.BICFI', Identification: 'DEUTDEFF', Name: 'Deutsche Bank' },
    CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Hans' },
    UltimateCreditor: { Name: 'Hans Muster' },
    UltimateDebtor: { Name: 'Alice Smith' },
    RegulatoryReporting: [{ DebitCreditReportingIndicator: 'DEBT', Authority: { CountryCode: 'GB' } }],
  };
  const remittance = (reference: string) => ({
    Structured: [
      {
        ReferredDocumentInformation: [{ Code: 'CINV', Number: `${reference}-DOC` }],
        CreditorReferenceInformation: { Code: 'SCOR', Reference: reference },
        TaxRemittance: 'VAT at 19%',
      },
    ],
    Unstructured: [`${reference} for Hans`],
  });
  const risk = { PaymentContextCode: 'TransferToThirdParty', CategoryPurposeCode: 'SUPP' };

  const single = (amount: string) => ({
    InstructionIdentification: `intl-${randomUUID().slice(0, 8)}`,
    EndToEndIdentification: 'E2E-INTL-V4',
    InstructionPriority: 'Normal',
    ChargeBearer: 'BorneByDebtor',
    CurrencyOfTransfer: 'EUR',
    DestinationCountryCode: 'DE',
    InstructedAmount: { Amount: amount, Currency: 'EUR' },
    ...payee,
    RemittanceInformation: remittance('INV-1'),
  });
  const scheduled = (amount: string, at: Date) => ({
    InstructionIdentification: `isp-${randomUUID().slice(0, 8)}`,
    EndToEndIdentification: 'E2E-ISP-V4',
    RequestedExecutionDateTime: iso(at),
    CurrencyOfTransfer: 'EUR',
    InstructedAmount: { Amount: amount, Currency: 'EUR' },
    ...payee,
    RemittanceInformation: remittance('INV-2'),
  });
  const standingOrder = (first: Date) => ({
    NumberOfPayments: '2',
    CurrencyOfTransfer: 'EUR',
    InstructedAmount: { Amount: '20.00', Currency: 'EUR' },
    ...payee,
    RemittanceInformation: remittance('RENT'),
    MandateRelatedInformation: { Frequency: { Type: 'DAIL' }, FirstPaymentDateTime: iso(first) },
  });

  /**
   * Stages a v4.0 consent (refused first without a signature), reads it, has alice approve it and reads
   * it again; the consent's id, the client token and the PSU's token.
   */
  async function authorisedConsent(consents: string, data: Record<string, unknown>) {
    const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
    const body = { Data: data, Risk: risk };
    unsigned(await post(clientToken, consents, body, null));
    const staged = await post(clientToken, consents, body);
    assert.equal(staged.status, 201, staged.text);
    const stagedData = valid(consents, 'post', staged).Data;
    assert.equal(stagedData.Status, 'AWAU');
    const consentId = String(stagedData.ConsentId);
    const token = await approve(consentId);
    const read = await get(clientToken, `${consents}/${consentId}`);
    assert.equal(read.status, 200, read.text);
    const readData = valid(`${consents}/{ConsentId}`, 'get', read).Data;
    assert.equal(readData.Status, 'AUTH');
    return { consentId, clientToken, token, body, consent: readData };
  }

  async function fundsAvailable(consents: string, consentId: string, token: string): Promise<boolean> {
    const funds = await get(token, `${consents}/${consentId}/funds-confirmation`);
    assert.equal(funds.status, 200, funds.text);
    const data = valid(`${consents}/{ConsentId}/funds-confirmation`, 'get', funds).Data;
    return (data.FundsAvailableResult as { FundsAvailable: boolean }).FundsAvailable;
  }

  /** Submits the consented Initiation (refused first without a signature); the created resource's Data. */
  async function submit(payments: string, consentId: string, token: string, body: { Data: unknown }) {
    const { Initiation } = body.Data as { Initiation: unknown };
    const submission = { Data: { ConsentId: consentId, Initiation }, Risk: risk };
    unsigned(await post(token, payments, submission, null));
    const made = await post(token, payments, submission);
    assert.equal(made.status, 201, made.text);
    return valid(payments, 'post', made).Data;
  }

  async function details(clientToken: string, path: string, template: string): Promise<Detail[]> {
    const answer = await get(clientToken, `${path}/payment-details`);
    assert.equal(answer.status, 200, answer.text);
    return valid(`${template}/payment-details`, 'get', answer).Data.PaymentStatus as Detail[];
  }

  it('pays an international payment once, with its rate and charge, every answer as v4.0 says', async () => {
    const consents = '/international-payment-consents';
    const { consentId, clientToken, token, body, consent } = await authorisedConsent(consents, {
      Initiation: single('25.00'),
    });
    const rate = consent.ExchangeRateInformation as { RateType: string; UnitCurrency: string };
    assert.equal(rate.RateType, 'Indicative');
    assert.equal(rate.UnitCurrency, 'GBP');
    assert.ok(consent.Charges, 'the consent shows the charge');
    assert.equal(await fundsAvailable(consents, consentId, token), true);

    const payment = await submit('/international-payments', consentId, token, body);
    assert.equal(payment.Status, 'ACSC', 'paid out to another bank: settled on the debtor side');
    assert.equal(payment.StatusReason, undefined);
    assert.equal((payment.ExchangeRateInformation as { RateType: string }).RateType, 'Actual');
    const id = String(payment.InternationalPaymentId);
    const read = await get(clientToken, `/international-payments/${id}`);
    assert.equal(read.status, 200, read.text);
    const data = valid('/international-payments/{InternationalPaymentId}', 'get', read).Data;
    assert.equal(data.Status, 'ACSC');
    assert.deepEqual(
      (data.Initiation as { RemittanceInformation: unknown }).RemittanceInformation,
      remittance('INV-1'),
    );
    const statuses = await details(
      clientToken,
      `/international-payments/${id}`,
      '/international-payments/{InternationalPaymentId}',
    );
    assert.deepEqual(
      statuses.map((s) => s.Status),
      ['ACSC'],
    );
    // A payment made on v4.0 is not found on v3.1.11.
    const onV3 = await callApi(bank, clientToken, `${apiBaseOf(bank)}/pisp/international-payments/${id}`);
    assert.equal(onV3.status, 400, onV3.text);
    assertValidResponse(
      PIS_V3_1_11,
      '/international-payments/{InternationalPaymentId}',
      'get',
      400,
      onV3.json,
    );
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('rejects an international payment the account cannot fund, with an ISO StatusReason', async () => {
    const consents = '/international-payment-consents';
    const { consentId, clientToken, token, body } = await authorisedConsent(consents, {
      Initiation: single('9999999.00'),
    });
    assert.equal(await fundsAvailable(consents, consentId, token), false);
    const payment = await submit('/international-payments', consentId, token, body);
    assert.equal(payment.Status, 'RJCT');
    const [reason] = payment.StatusReason as Reason[];
    assert.equal(reason?.StatusReasonCode, 'AM04');
    assert.match(reason?.StatusReasonDescription ?? '', /Insufficient funds/);
    const id = String(payment.InternationalPaymentId);
    const [status] = await details(
      clientToken,
      `/international-payments/${id}`,
      '/international-payments/{InternationalPaymentId}',
    );
    assert.equal(status?.Status, 'RJCT');
    assert.equal(status?.StatusDetail?.StatusReason, 'AM04');
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('schedules an international payment the scheduler pays when due, and one it rejects', async () => {
    const consents = '/international-scheduled-payment-consents';
    const payments = '/international-scheduled-payments';
    const template = `${payments}/{InternationalScheduledPaymentId}`;
    const due = new Date(Date.now() + 2 * DAY);
    const paid = await authorisedConsent(consents, {
      Permission: 'Create',
      Initiation: scheduled('30.00', due),
    });
    assert.equal(await fundsAvailable(consents, paid.consentId, paid.token), true);
    const refused = await authorisedConsent(consents, {
      Permission: 'Create',
      Initiation: scheduled('9999999.00', due),
    });

    const made = await submit(payments, paid.consentId, paid.token, paid.body);
    assert.equal(made.Status, 'ACTC', 'accepted, waiting for its date');
    const id = String(made.InternationalScheduledPaymentId);
    const unfunded = String(
      (await submit(payments, refused.consentId, refused.token, refused.body))
        .InternationalScheduledPaymentId,
    );
    assert.deepEqual(
      (await details(paid.clientToken, `${payments}/${id}`, template)).map((s) => s.Status),
      ['PDNG'],
    );

    // The bank's payment job, run once at a time after the payments are due.
    const outcomes = await runDuePayments(db, { clock: new ManualClock(new Date(due.getTime() + HOUR)) });
    const outcomeOf = (paymentId: string) => outcomes.find((o) => o.id.startsWith(paymentId))?.status;
    assert.equal(outcomeOf(id), 'Executed');
    assert.equal(outcomeOf(unfunded), 'Rejected');

    const read = await get(paid.clientToken, `${payments}/${id}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(valid(template, 'get', read).Data.Status, 'ACSC');
    assert.deepEqual(
      (await details(paid.clientToken, `${payments}/${id}`, template)).map((s) => s.Status),
      ['ACSC'],
    );

    const rejected = await get(refused.clientToken, `${payments}/${unfunded}`);
    const rejectedData = valid(template, 'get', rejected).Data;
    assert.equal(rejectedData.Status, 'RJCT');
    assert.equal((rejectedData.StatusReason as Reason[])[0]?.StatusReasonCode, 'AM04');
    const [status] = await details(refused.clientToken, `${payments}/${unfunded}`, template);
    assert.equal(status?.StatusDetail?.StatusReason, 'AM04');
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('sets up an international standing order from its mandate, and the scheduler pays it when due', async () => {
    const consents = '/international-standing-order-consents';
    const payments = '/international-standing-orders';
    const template = `${payments}/{InternationalStandingOrderPaymentId}`;
    const first = new Date(Date.now() + HOUR);
    const { consentId, clientToken, token, body, consent } = await authorisedConsent(consents, {
      Permission: 'Create',
      Initiation: standingOrder(first),
    });
    assert.equal(consent.ExchangeRateInformation, undefined, 'standing orders carry no exchange rate');
    // The file gives standing-order consents no funds-confirmation.
    const funds = await get(token, `${consents}/${consentId}/funds-confirmation`);
    assert.equal(funds.status, 404, funds.text);

    const made = await submit(payments, consentId, token, body);
    assert.equal(made.Status, 'INCO', 'initiation completed: the order is set up in the bank');
    const id = String(made.InternationalStandingOrderId);

    const outcomes = await runDuePayments(db, {
      clock: new ManualClock(new Date(first.getTime() + 2 * DAY)),
    });
    assert.deepEqual(
      outcomes.filter((o) => o.id === id).map((o) => o.status),
      ['Executed', 'Executed'],
    );
    const read = await get(clientToken, `${payments}/${id}`);
    assert.equal(read.status, 200, read.text);
    const data = valid(template, 'get', read).Data;
    assert.equal(data.Status, 'INCO');
    assert.deepEqual(
      (data.Initiation as { MandateRelatedInformation: unknown }).MandateRelatedInformation,
      standingOrder(first).MandateRelatedInformation,
    );
    assert.deepEqual(
      (await details(clientToken, `${payments}/${id}`, template)).map((s) => s.Status),
      ['ACSC', 'ACSC'],
    );
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('reports instructions the bank cancelled: a scheduled payment RJCT with DS02, a standing order CANC', async () => {
    const scheduledPayments = '/international-scheduled-payments';
    const scheduledTemplate = `${scheduledPayments}/{InternationalScheduledPaymentId}`;
    const due = new Date(Date.now() + 5 * DAY);
    const planned = await authorisedConsent('/international-scheduled-payment-consents', {
      Permission: 'Create',
      Initiation: scheduled('3.00', due),
    });
    const scheduledId = String(
      (await submit(scheduledPayments, planned.consentId, planned.token, planned.body))
        .InternationalScheduledPaymentId,
    );
    // Cancelled in the bank (as the PSU may, before the date): the v4.0 international set has no CANC.
    await cancelScheduledPayment(db, scheduledId);
    const cancelled = valid(
      scheduledTemplate,
      'get',
      await get(planned.clientToken, `${scheduledPayments}/${scheduledId}`),
    ).Data;
    assert.equal(cancelled.Status, 'RJCT');
    assert.equal((cancelled.StatusReason as Reason[])[0]?.StatusReasonCode, 'DS02');
    const [detail] = await details(
      planned.clientToken,
      `${scheduledPayments}/${scheduledId}`,
      scheduledTemplate,
    );
    assert.equal(detail?.StatusDetail?.StatusReason, 'DS02');

    const orders = '/international-standing-orders';
    const order = await authorisedConsent('/international-standing-order-consents', {
      Permission: 'Create',
      Initiation: standingOrder(new Date(Date.now() + 5 * DAY)),
    });
    const orderId = String(
      (await submit(orders, order.consentId, order.token, order.body)).InternationalStandingOrderId,
    );
    await cancelStandingOrder(db, orderId);
    const stopped = await get(order.clientToken, `${orders}/${orderId}`);
    assert.equal(
      valid(`${orders}/{InternationalStandingOrderPaymentId}`, 'get', stopped).Data.Status,
      'CANC',
    );
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('refuses what v4.0 does not carry: a v3.1.11 standing order shape, a malformed LEI, an ad hoc frequency', async () => {
    const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
    const consents = '/international-standing-order-consents';
    const first = new Date(Date.now() + HOUR);
    const v3Shape = {
      ...standingOrder(first),
      MandateRelatedInformation: undefined,
      Frequency: 'EvryDay',
      FirstPaymentDateTime: iso(first),
    };
    const v3Answer = await post(clientToken, consents, {
      Data: { Permission: 'Create', Initiation: v3Shape },
      Risk: risk,
    });
    assert.equal(v3Answer.status, 400, v3Answer.text);
    valid(consents, 'post', v3Answer);
    // An LEI must have the file's shape (four digits, "00", twelve characters, two check digits).
    const badLei = await post(clientToken, '/international-payment-consents', {
      Data: { Initiation: { ...single('1.00'), Creditor: { Name: 'Hans', LEI: 'ABCDEFGHIJKLMNOPQR12' } } },
      Risk: risk,
    });
    assert.equal(badLei.status, 400, badLei.text);
    const leiErrors = valid('/international-payment-consents', 'post', badLei).Errors ?? [];
    assert.ok(
      leiErrors.some((e) => e.ErrorCode === 'U002'),
      badLei.text,
    );
    const adHoc = {
      ...standingOrder(first),
      MandateRelatedInformation: { Frequency: { Type: 'ADHO' }, FirstPaymentDateTime: iso(first) },
    };
    const adHocAnswer = await post(clientToken, consents, {
      Data: { Permission: 'Create', Initiation: adHoc },
      Risk: risk,
    });
    assert.equal(adHocAnswer.status, 400, adHocAnswer.text);
    const errors = valid(consents, 'post', adHocAnswer).Errors ?? [];
    assert.ok(
      errors.some((e) => e.ErrorCode === 'U025'),
      adHocAnswer.text,
    );
  });

  it('reads v3.1.11 international consents on v4.0 in v4.0 terms, but pays them only on v3.1.11', async () => {
    const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
    const v3Base = `${apiBaseOf(bank)}/pisp`;
    const v3Post = async (path: string, body: unknown, token = clientToken) => {
      const text = JSON.stringify(body);
      return callApi(bank, token, `${v3Base}${path}`, {
        method: 'POST',
        body: text,
        headers: {
          'x-idempotency-key': randomUUID(),
          'x-jws-signature': await signRequestBody(bank, bundle, text),
        },
      });
    };
    const v3Payee = {
      Creditor: { Name: 'Hans', PostalAddress: { AddressType: 'Business', Country: 'DE' } },
      CreditorAccount: payee.CreditorAccount,
    };
    const v3Single = {
      InstructionIdentification: 'v3-intl',
      EndToEndIdentification: 'E2E-V3',
      Purpose: 'CASH',
      CurrencyOfTransfer: 'EUR',
      InstructedAmount: { Amount: '5.00', Currency: 'EUR' },
      ...v3Payee,
      RemittanceInformation: { Reference: 'OLD REF' },
    };
    const v3Risk = { PaymentContextCode: 'PartyToParty' };
    const single = await v3Post('/international-payment-consents', {
      Data: { Initiation: v3Single },
      Risk: v3Risk,
    });
    assert.equal(single.status, 201, single.text);
    const singleId = String((single.json as Body).Data.ConsentId);
    const singleOnV4 = await get(clientToken, `/international-payment-consents/${singleId}`);
    assert.equal(singleOnV4.status, 200, singleOnV4.text);
    const initiation = valid('/international-payment-consents/{ConsentId}', 'get', singleOnV4).Data
      .Initiation as Record<string, unknown>;
    assert.equal(initiation.Purpose, undefined);
    assert.deepEqual(initiation.Creditor, {
      Name: 'Hans',
      PostalAddress: { AddressType: 'BIZZ', Country: 'DE' },
    });

    const first = iso(new Date(Date.now() + HOUR));
    const v3Order = {
      Frequency: 'EvryDay',
      Reference: 'Rent abroad',
      NumberOfPayments: '2',
      FirstPaymentDateTime: first,
      CurrencyOfTransfer: 'EUR',
      InstructedAmount: { Amount: '2.00', Currency: 'EUR' },
      ...v3Payee,
    };
    const order = await v3Post('/international-standing-order-consents', {
      Data: { Permission: 'Create', Initiation: v3Order },
      Risk: v3Risk,
    });
    assert.equal(order.status, 201, order.text);
    const orderId = String((order.json as Body).Data.ConsentId);
    const orderOnV4 = await get(clientToken, `/international-standing-order-consents/${orderId}`);
    assert.equal(orderOnV4.status, 200, orderOnV4.text);
    const orderInitiation = valid('/international-standing-order-consents/{ConsentId}', 'get', orderOnV4).Data
      .Initiation as Record<string, unknown>;
    assert.deepEqual(orderInitiation.MandateRelatedInformation, {
      Frequency: { Type: 'EvryDay' },
      FirstPaymentDateTime: first,
    });
    assert.deepEqual(orderInitiation.RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'Rent abroad' } }],
    });

    // Authorised, the v3.1.11 consent's payment-order may not be created on v4.0.
    const singleToken = await approve(singleId);
    const v4Single = { ...v3Single, Purpose: undefined, RemittanceInformation: undefined };
    const refused = await post(singleToken, '/international-payments', {
      Data: { ConsentId: singleId, Initiation: JSON.parse(JSON.stringify(v4Single)) },
      Risk: {},
    });
    assert.equal(refused.status, 403, refused.text);
    valid('/international-payments', 'post', refused);
    const paid = await v3Post(
      '/international-payments',
      { Data: { ConsentId: singleId, Initiation: v3Single }, Risk: v3Risk },
      singleToken,
    );
    assert.equal(paid.status, 201, paid.text);
    const paymentId = String((paid.json as Body).Data.InternationalPaymentId);
    const readOnV4 = await get(clientToken, `/international-payments/${paymentId}`);
    assert.equal(readOnV4.status, 200, readOnV4.text);
    assert.equal(
      valid('/international-payments/{InternationalPaymentId}', 'get', readOnV4).Data.Status,
      'ACSC',
    );
    assert.deepEqual(await verifyLedger(db), []);
  });
});
