import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  balanceOf,
  cancelScheduledPayment,
  cancelStandingOrder,
  findCustomerByUsername,
  listCustomerAccounts,
  runDuePayments,
  verifyLedger,
} from '../../src/bank/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11, PIS_V4_0, responseSchemaPointer } from '../support/openapi.ts';
import { pisClient, type Answer, type Body } from '../support/pis-client.ts';

type Detail = { PaymentTransactionId: string; Status: string; StatusDetail?: { StatusReason?: string } };

const DAY = 86_400_000;

/**
 * Payment Initiation v4.0's scheduled payments, standing orders and file payments, through the composed
 * sandbox, on the ledger v3.1.11 uses: every answer checked against the v4.0 OpenAPI file.
 */
describe('PIS v4.0 scheduled payments, standing orders and file payments', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const tpp: Tpp = await sandbox.tpp('pis-v4-future', ['PISP']);
  const { bank, bundle } = tpp;
  const pisp = `${apiBaseOf(bank, undefined, '4.0')}/pisp`;
  const v3pisp = `${apiBaseOf(bank)}/pisp`;
  const bob = await findCustomerByUsername(db, 'bob');
  const bobGbp = (await listCustomerAccounts(db, bob!.id)).find((account) => account.currency === 'GBP')!;
  const bobId = `${bobGbp.sortCode}${bobGbp.accountNumber}`;
  const creditor = { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: bobId, Name: 'Bob' };
  const risk = { PaymentContextCode: 'TransferToThirdParty', CategoryPurposeCode: 'CASH' };

  const { valid, sendText, post, get, v4Error, clientToken, approve } = pisClient(sandbox, tpp, PIS_V4_0);
  /** POSTs `text` to `url` signed by the TPP (or with `signature` instead; null: none). */
  const postText = (token: string, url: string, text: string, signature?: string | null) =>
    sendText(token, url, text, signature === undefined ? {} : { signature });

  /** Stages `body` at `consents` (a v4.0 path), checks the AWAU answer, has alice approve it. */
  async function authorised(consents: string, body: { Data: Record<string, unknown> }) {
    const token = await clientToken();
    const staged = await post(token, consents, body);
    assert.equal(staged.status, 201, staged.text);
    const data = valid(consents, 'post', staged).Data;
    assert.equal(data.Status, 'AWAU');
    const consentId = String(data.ConsentId);
    return { consentId, clientToken: token, token: await approve(consentId) };
  }

  function scheduledInitiation(amount: string, executeAt: Date) {
    return {
      InstructionIdentification: `sched-${randomUUID().slice(0, 8)}`,
      EndToEndIdentification: 'E2E-SCHED-V4',
      LocalInstrument: 'UK.OBIE.FPS',
      RequestedExecutionDateTime: executeAt.toISOString(),
      InstructedAmount: { Amount: amount, Currency: 'GBP' },
      CreditorAccount: creditor,
      UltimateCreditor: { Name: 'Bob Jones', LEI: '5493001KJTIIGC8Y1R12' },
      UltimateDebtor: { Name: 'Alice Smith' },
      RegulatoryReporting: [{ DebitCreditReportingIndicator: 'DEBT' }],
      RemittanceInformation: {
        Structured: [{ CreditorReferenceInformation: { Reference: 'SCHED V4' } }],
        Unstructured: ['paid when due'],
      },
    };
  }

  /** Stages, authorises and submits a v4.0 scheduled payment; its id and tokens. */
  async function scheduledPayment(amount: string, executeAt: Date) {
    const initiation = scheduledInitiation(amount, executeAt);
    const {
      consentId,
      clientToken: cc,
      token,
    } = await authorised('/domestic-scheduled-payment-consents', {
      Data: { Permission: 'Create', Initiation: initiation },
      Risk: risk,
    } as { Data: Record<string, unknown> });
    const consent = await get(cc, `/domestic-scheduled-payment-consents/${consentId}`);
    assert.equal(consent.status, 200, consent.text);
    assert.equal(
      valid('/domestic-scheduled-payment-consents/{ConsentId}', 'get', consent).Data.Status,
      'AUTH',
    );
    const made = await post(token, '/domestic-scheduled-payments', {
      Data: { ConsentId: consentId, Initiation: initiation },
      Risk: risk,
    });
    assert.equal(made.status, 201, made.text);
    const data = valid('/domestic-scheduled-payments', 'post', made).Data;
    // Accepted and waiting for its date.
    assert.equal(data.Status, 'ACTC');
    assert.deepEqual(data.Initiation, initiation);
    return { id: String(data.DomesticScheduledPaymentId), consentId, clientToken: cc, token };
  }

  const readScheduled = async (token: string, id: string) => {
    const read = await get(token, `/domestic-scheduled-payments/${id}`);
    assert.equal(read.status, 200, read.text);
    const details = await get(token, `/domestic-scheduled-payments/${id}/payment-details`);
    assert.equal(details.status, 200, details.text);
    return {
      data: valid('/domestic-scheduled-payments/{DomesticScheduledPaymentId}', 'get', read).Data,
      details: valid(
        '/domestic-scheduled-payments/{DomesticScheduledPaymentId}/payment-details',
        'get',
        details,
      ).Data.PaymentStatus as Detail[],
    };
  };

  it('schedules a payment, which the payment job pays when due (ACTC, then ACSC)', async () => {
    const executeAt = new Date(Date.now() + 2 * DAY);
    const { id, consentId, clientToken: cc } = await scheduledPayment('7.25', executeAt);
    const before = await readScheduled(cc, id);
    assert.equal(before.data.Status, 'ACTC');
    assert.deepEqual(
      before.details.map((d) => d.Status),
      ['PDNG'],
    );

    const bobBefore = (await balanceOf(db, bobGbp.id)).bookedMinor;
    const outcomes = await runDuePayments(db, {
      clock: new ManualClock(new Date(executeAt.getTime() + DAY)),
    });
    assert.deepEqual(
      outcomes.filter((o) => o.id === id).map((o) => o.status),
      ['Executed'],
    );
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor - bobBefore, 725n);
    const after = await readScheduled(cc, id);
    assert.equal(after.data.Status, 'ACSC');
    assert.equal(after.data.StatusReason, undefined);
    // The payee banks here: the credit is settled too (ACCC); the resource's own code set has no ACCC.
    assert.deepEqual(
      after.details.map((d) => d.Status),
      ['ACCC'],
    );

    // Neither the v4.0 consent nor its payment is known on v3.1.11.
    const consentOnV3 = await callApi(bank, cc, `${v3pisp}/domestic-scheduled-payment-consents/${consentId}`);
    assert.equal(consentOnV3.status, 400, consentOnV3.text);
    assertValidResponse(
      PIS_V3_1_11,
      '/domestic-scheduled-payment-consents/{ConsentId}',
      'get',
      400,
      consentOnV3.json,
    );
    const paymentOnV3 = await callApi(bank, cc, `${v3pisp}/domestic-scheduled-payments/${id}`);
    assert.equal(paymentOnV3.status, 400, paymentOnV3.text);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('rejects a scheduled payment the account cannot pay when due, with an ISO StatusReason', async () => {
    const executeAt = new Date(Date.now() + 3 * DAY);
    const { id, clientToken: cc } = await scheduledPayment('9999999.00', executeAt);
    const bobBefore = (await balanceOf(db, bobGbp.id)).bookedMinor;
    const outcomes = await runDuePayments(db, {
      clock: new ManualClock(new Date(executeAt.getTime() + DAY)),
    });
    assert.deepEqual(
      outcomes.filter((o) => o.id === id).map((o) => [o.status, o.reason]),
      [['Rejected', 'insufficient-funds']],
    );
    const after = await readScheduled(cc, id);
    assert.equal(after.data.Status, 'RJCT');
    const [reason] = after.data.StatusReason as {
      StatusReasonCode: string;
      StatusReasonDescription: string;
    }[];
    assert.equal(reason?.StatusReasonCode, 'AM04');
    assert.match(reason?.StatusReasonDescription ?? '', /Insufficient funds/);
    assert.equal(after.details[0]?.Status, 'RJCT');
    assert.equal(after.details[0]?.StatusDetail?.StatusReason, 'AM04');
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor, bobBefore);
    assert.deepEqual(await verifyLedger(db), []);
  });

  function standingOrderInitiation(first: Date, frequency: Record<string, unknown>) {
    return {
      NumberOfPayments: '2',
      FirstPaymentAmount: { Amount: '3.00', Currency: 'GBP' },
      RecurringPaymentAmount: { Amount: '4.50', Currency: 'GBP' },
      CreditorAccount: creditor,
      UltimateCreditor: { Name: 'Bob Jones' },
      RemittanceInformation: { Structured: [{ CreditorReferenceInformation: { Reference: 'RENT V4' } }] },
      MandateRelatedInformation: {
        MandateIdentification: 'MANDATE-1',
        Classification: 'FIXE',
        FirstPaymentDateTime: first.toISOString(),
        Frequency: frequency,
      },
    };
  }

  it('sets a standing order up (INCO); the payment job makes its payments on the ISO frequency', async () => {
    const first = new Date(Date.now() + DAY);
    const initiation = standingOrderInitiation(first, { Type: 'WEEK' });
    const {
      consentId,
      clientToken: cc,
      token,
    } = await authorised('/domestic-standing-order-consents', {
      Data: { Permission: 'Create', Initiation: initiation },
      Risk: risk,
    } as { Data: Record<string, unknown> });
    const consent = await get(cc, `/domestic-standing-order-consents/${consentId}`);
    assert.equal(valid('/domestic-standing-order-consents/{ConsentId}', 'get', consent).Data.Status, 'AUTH');
    const made = await post(token, '/domestic-standing-orders', {
      Data: { ConsentId: consentId, Initiation: initiation },
      Risk: risk,
    });
    assert.equal(made.status, 201, made.text);
    const data = valid('/domestic-standing-orders', 'post', made).Data;
    assert.equal(data.Status, 'INCO');
    assert.deepEqual(data.Initiation, initiation);
    const id = String(data.DomesticStandingOrderId);
    const pending = await get(cc, `/domestic-standing-orders/${id}/payment-details`);
    assert.deepEqual(
      (
        valid('/domestic-standing-orders/{DomesticStandingOrderId}/payment-details', 'get', pending).Data
          .PaymentStatus as Detail[]
      ).map((d) => d.Status),
      ['PDNG'],
    );

    const bobBefore = (await balanceOf(db, bobGbp.id)).bookedMinor;
    // Weekly on the first payment's weekday: both payments are due eight days after the first.
    const outcomes = await runDuePayments(db, {
      clock: new ManualClock(new Date(first.getTime() + 8 * DAY)),
    });
    assert.deepEqual(
      outcomes.filter((o) => o.id === id).map((o) => o.status),
      ['Executed', 'Executed'],
    );
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor - bobBefore, 750n);
    const read = await get(cc, `/domestic-standing-orders/${id}`);
    assert.equal(
      valid('/domestic-standing-orders/{DomesticStandingOrderId}', 'get', read).Data.Status,
      'INCO',
    );
    const details = await get(cc, `/domestic-standing-orders/${id}/payment-details`);
    assert.deepEqual(
      (
        valid('/domestic-standing-orders/{DomesticStandingOrderId}/payment-details', 'get', details).Data
          .PaymentStatus as Detail[]
      ).map((d) => d.Status),
      ['ACCC', 'ACCC'], // each payment credited to the payee here
    );
    const onV3 = await callApi(bank, cc, `${v3pisp}/domestic-standing-orders/${id}`);
    assert.equal(onV3.status, 400, onV3.text);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('shows a scheduled payment and a standing order the bank cancelled as CANC', async () => {
    const executeAt = new Date(Date.now() + 6 * DAY);
    const { id, clientToken: cc } = await scheduledPayment('1.50', executeAt);
    await cancelScheduledPayment(db, id);
    const cancelled = await readScheduled(cc, id);
    assert.equal(cancelled.data.Status, 'CANC');
    assert.equal(cancelled.details[0]?.Status, 'RJCT');
    assert.equal(cancelled.details[0]?.StatusDetail?.StatusReason, 'DS02');
    const outcomes = await runDuePayments(db, {
      clock: new ManualClock(new Date(executeAt.getTime() + DAY)),
    });
    assert.deepEqual(
      outcomes.filter((o) => o.id === id),
      [],
    );

    const order = standingOrderInitiation(new Date(Date.now() + DAY), { Type: 'MNTH', PointInTime: '28' });
    const standing = await authorised('/domestic-standing-order-consents', {
      Data: { Permission: 'Create', Initiation: order },
      Risk: risk,
    } as { Data: Record<string, unknown> });
    const made = await post(standing.token, '/domestic-standing-orders', {
      Data: { ConsentId: standing.consentId, Initiation: order },
      Risk: risk,
    });
    assert.equal(made.status, 201, made.text);
    const orderId = String(valid('/domestic-standing-orders', 'post', made).Data.DomesticStandingOrderId);
    await cancelStandingOrder(db, orderId);
    const read = await get(standing.clientToken, `/domestic-standing-orders/${orderId}`);
    assert.equal(
      valid('/domestic-standing-orders/{DomesticStandingOrderId}', 'get', read).Data.Status,
      'CANC',
    );
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('refuses a frequency without a fixed schedule, and one the bank cannot follow', async () => {
    const token = await clientToken();
    const first = new Date(Date.now() + DAY);
    for (const frequency of [{ Type: 'ADHO' }, { Type: 'MNTH', CountPerPeriod: 2 }, { Type: 'NotKnown' }]) {
      v4Error(
        await post(token, '/domestic-standing-order-consents', {
          Data: { Permission: 'Create', Initiation: standingOrderInitiation(first, frequency) },
          Risk: risk,
        }),
        400,
        'U025',
      );
    }
    // v3.1.11's top-level Frequency is not a v4.0 field.
    v4Error(
      await post(token, '/domestic-standing-order-consents', {
        Data: {
          Permission: 'Create',
          Initiation: { ...standingOrderInitiation(first, { Type: 'DAIL' }), Frequency: 'EvryDay' },
        },
        Risk: risk,
      }),
      400,
      'U005',
    );
  });

  it('refuses a missing or invalid x-jws-signature on every v4.0 POST of these kinds', async () => {
    const token = await clientToken();
    const later = new Date(Date.now() + 5 * DAY);
    const bodies: [string, unknown][] = [
      [
        '/domestic-scheduled-payment-consents',
        { Data: { Permission: 'Create', Initiation: scheduledInitiation('1.00', later) }, Risk: risk },
      ],
      [
        '/domestic-standing-order-consents',
        {
          Data: { Permission: 'Create', Initiation: standingOrderInitiation(later, { Type: 'MNTH' }) },
          Risk: risk,
        },
      ],
    ];
    for (const [path, body] of bodies) {
      v4Error(await post(token, path, body, null), 400, 'U019');
      const other = await signRequestBody(bank, bundle, JSON.stringify({ other: true }));
      v4Error(await post(token, path, body, other), 400, 'U015');
    }
    const scheduledOrder = scheduledInitiation('1.00', later);
    const scheduled = await authorised('/domestic-scheduled-payment-consents', {
      Data: { Permission: 'Create', Initiation: scheduledOrder },
      Risk: risk,
    } as { Data: Record<string, unknown> });
    const submission = {
      Data: { ConsentId: scheduled.consentId, Initiation: scheduledOrder },
      Risk: risk,
    };
    v4Error(await post(scheduled.token, '/domestic-scheduled-payments', submission, null), 400, 'U019');
    const order = standingOrderInitiation(later, { Type: 'MNTH' });
    const standing = await authorised('/domestic-standing-order-consents', {
      Data: { Permission: 'Create', Initiation: order },
      Risk: risk,
    } as { Data: Record<string, unknown> });
    const orderSubmission = { Data: { ConsentId: standing.consentId, Initiation: order }, Risk: risk };
    v4Error(await post(standing.token, '/domestic-standing-orders', orderSubmission, null), 400, 'U019');
    const wrong = await signRequestBody(bank, bundle, JSON.stringify({ other: true }));
    v4Error(await post(standing.token, '/domestic-standing-orders', orderSubmission, wrong), 400, 'U015');
    // Refused, nothing was set up: the consents still pay once signed.
    const paid = await post(standing.token, '/domestic-standing-orders', orderSubmission);
    assert.equal(paid.status, 201, paid.text);
    valid('/domestic-standing-orders', 'post', paid);
  });

  it('reads a v3.1.11 standing-order consent on v4.0 in v4.0 terms, but sets it up only on v3.1.11', async () => {
    const token = await clientToken();
    const first = new Date(Date.now() + 2 * DAY);
    const v3Initiation = {
      Frequency: 'IntrvlMnthDay:01:15',
      Reference: 'OLD RENT',
      NumberOfPayments: '3',
      FirstPaymentDateTime: first.toISOString(),
      FirstPaymentAmount: { Amount: '2.00', Currency: 'GBP' },
      CreditorAccount: creditor,
    };
    const v3Body = { Data: { Permission: 'Create', Initiation: v3Initiation }, Risk: {} };
    const staged = await postText(
      token,
      `${v3pisp}/domestic-standing-order-consents`,
      JSON.stringify(v3Body),
    );
    assert.equal(staged.status, 201, staged.text);
    const consentId = String((staged.json as Body).Data.ConsentId);
    const onV4 = await get(token, `/domestic-standing-order-consents/${consentId}`);
    assert.equal(onV4.status, 200, onV4.text);
    const data = valid('/domestic-standing-order-consents/{ConsentId}', 'get', onV4).Data;
    assert.equal(data.Status, 'AWAU');
    const initiation = data.Initiation as Record<string, unknown>;
    assert.deepEqual(initiation.MandateRelatedInformation, {
      Frequency: { Type: 'IntrvlMnthDay:01:15' },
      FirstPaymentDateTime: first.toISOString(),
    });
    assert.deepEqual(initiation.RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'OLD RENT' } }],
    });

    const psuToken = await approve(consentId);
    // Its payment-order may not be created on v4.0 …
    v4Error(
      await post(psuToken, '/domestic-standing-orders', {
        Data: { ConsentId: consentId, Initiation: v3Initiation },
        Risk: {},
      }),
      403,
      'U009',
    );
    // … but is on v3.1.11.
    const madeOnV3 = await postText(
      psuToken,
      `${v3pisp}/domestic-standing-orders`,
      JSON.stringify({ Data: { ConsentId: consentId, Initiation: v3Initiation }, Risk: {} }),
    );
    assert.equal(madeOnV3.status, 201, madeOnV3.text);
    const id = String((madeOnV3.json as Body).Data.DomesticStandingOrderId);
    const readOnV4 = await get(token, `/domestic-standing-orders/${id}`);
    assert.equal(readOnV4.status, 200, readOnV4.text);
    assert.equal(
      valid('/domestic-standing-orders/{DomesticStandingOrderId}', 'get', readOnV4).Data.Status,
      'INCO',
    );

    // A v4.0 scheduled consent may not be paid on v3.1.11 (v3.1.11's error body).
    const later = new Date(Date.now() + 4 * DAY);
    const v4Initiation = { ...scheduledInitiation('1.00', later) };
    const v4Consent = await authorised('/domestic-scheduled-payment-consents', {
      Data: { Permission: 'Create', Initiation: v4Initiation },
      Risk: risk,
    } as { Data: Record<string, unknown> });
    const onV3 = await postText(
      v4Consent.token,
      `${v3pisp}/domestic-scheduled-payments`,
      JSON.stringify({ Data: { ConsentId: v4Consent.consentId, Initiation: v4Initiation }, Risk: risk }),
    );
    assert.equal(onV3.status, 403, onV3.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-scheduled-payments', 'post', 403, onV3.json);
    assert.deepEqual(await verifyLedger(db), []);
  });

  /** A v4.0 payment file of domestic Initiations to bob, for `amounts`, and a consent's metadata for it. */
  function paymentFile(amounts: string[], fileType = 'UK.OBIE.PaymentInitiation.4.0') {
    const file = JSON.stringify({
      Data: {
        DomesticPayments: amounts.map((amount, i) => ({
          InstructionIdentification: `file-${i}-${randomUUID().slice(0, 8)}`,
          EndToEndIdentification: `E2E-FILE-${i}`,
          InstructedAmount: { Amount: amount, Currency: 'GBP' },
          CreditorAccount: creditor,
          UltimateCreditor: { Name: 'Bob Jones' },
          RemittanceInformation: {
            Structured: [{ CreditorReferenceInformation: { Reference: `FILE ${i}` } }],
          },
        })),
      },
    });
    const initiation = {
      FileType: fileType,
      FileHash: createHash('sha256').update(file).digest('base64'),
      FileReference: 'V4-FILE',
      NumberOfTransactions: String(amounts.length),
      LocalInstrument: 'UK.OBIE.FPS',
      UltimateDebtor: { Name: 'Alice Smith', LEI: '5493001KJTIIGC8Y1R12' },
      RemittanceInformation: { Unstructured: ['supplier run'] },
    };
    return { file, initiation };
  }

  /** The file download and the report file: the spec's `File` placeholder admits no real file; what it says is checked. */
  function validFile(path: string, answer: Answer): void {
    assert.equal(answer.status, 200, answer.text);
    assert.match(
      responseSchemaPointer(PIS_V4_0, path, 'get', 200),
      /^#\/components\/responses\/200FilePayment[A-Za-z]+Read\/content\//,
    );
    assert.equal(typeof answer.headers['x-jws-signature'], 'string');
    assert.match(String(answer.headers['content-type']), /^application\/json/);
  }

  /** Stages the file's consent (AWUP), uploads the file (AWAU), has alice approve it. */
  async function authorisedFile(amounts: string[]) {
    const { file, initiation } = paymentFile(amounts);
    const cc = await clientToken();
    const staged = await post(cc, '/file-payment-consents', { Data: { Initiation: initiation } });
    assert.equal(staged.status, 201, staged.text);
    const data = valid('/file-payment-consents', 'post', staged).Data;
    assert.equal(data.Status, 'AWUP');
    const consentId = String(data.ConsentId);
    const uploaded = await postText(cc, `${pisp}/file-payment-consents/${consentId}/file`, file);
    assert.equal(uploaded.status, 200, uploaded.text);
    const read = await get(cc, `/file-payment-consents/${consentId}`);
    assert.equal(valid('/file-payment-consents/{ConsentId}', 'get', read).Data.Status, 'AWAU');
    const download = await get(cc, `/file-payment-consents/${consentId}/file`);
    validFile(`/file-payment-consents/${consentId}/file`, download);
    assert.equal(download.text, file, 'the file comes back byte for byte');
    return { consentId, initiation, file, clientToken: cc, token: await approve(consentId) };
  }

  it('takes a v4.0 payment file: upload, approval, every transaction paid (INCO), details and report', async () => {
    const { consentId, initiation, clientToken: cc, token } = await authorisedFile(['1.10', '2.20']);
    const consent = await get(cc, `/file-payment-consents/${consentId}`);
    assert.equal(valid('/file-payment-consents/{ConsentId}', 'get', consent).Data.Status, 'AUTH');
    const bobBefore = (await balanceOf(db, bobGbp.id)).bookedMinor;
    const paid = await post(token, '/file-payments', {
      Data: { ConsentId: consentId, Initiation: initiation },
    });
    assert.equal(paid.status, 201, paid.text);
    const data = valid('/file-payments', 'post', paid).Data;
    assert.equal(data.Status, 'INCO');
    assert.equal(data.StatusReason, undefined);
    assert.deepEqual(data.Initiation, initiation);
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor - bobBefore, 330n);
    const id = String(data.FilePaymentId);
    const read = await get(cc, `/file-payments/${id}`);
    assert.equal(valid('/file-payments/{FilePaymentId}', 'get', read).Data.Status, 'INCO');
    const details = await get(cc, `/file-payments/${id}/payment-details`);
    assert.deepEqual(
      (
        valid('/file-payments/{FilePaymentId}/payment-details', 'get', details).Data.PaymentStatus as Detail[]
      ).map((d) => d.Status),
      ['ACCC', 'ACCC'],
    );
    const report = await get(cc, `/file-payments/${id}/report-file`);
    validFile(`/file-payments/${id}/report-file`, report);
    const reportData = (report.json as { Data: { Status: string; Transactions: { Status: string }[] } }).Data;
    assert.equal(reportData.Status, 'INCO');
    assert.deepEqual(
      reportData.Transactions.map((t) => t.Status),
      ['ACCC', 'ACCC'],
    );
    // Neither the v4.0 file consent nor its payment is known on v3.1.11.
    const consentOnV3 = await callApi(bank, cc, `${v3pisp}/file-payment-consents/${consentId}`);
    assert.equal(consentOnV3.status, 400, consentOnV3.text);
    assertValidResponse(PIS_V3_1_11, '/file-payment-consents/{ConsentId}', 'get', 400, consentOnV3.json);
    const paymentOnV3 = await callApi(bank, cc, `${v3pisp}/file-payments/${id}`);
    assert.equal(paymentOnV3.status, 400, paymentOnV3.text);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('fails a file whose every transaction the account cannot pay (INFA, with the ISO StatusReason)', async () => {
    const { consentId, initiation, clientToken: cc, token } = await authorisedFile(['9999999.00']);
    const bobBefore = (await balanceOf(db, bobGbp.id)).bookedMinor;
    const paid = await post(token, '/file-payments', {
      Data: { ConsentId: consentId, Initiation: initiation },
    });
    assert.equal(paid.status, 201, paid.text);
    const data = valid('/file-payments', 'post', paid).Data;
    assert.equal(data.Status, 'INFA');
    const [reason] = data.StatusReason as { StatusReasonCode: string; StatusReasonDescription: string }[];
    assert.equal(reason?.StatusReasonCode, 'AM04');
    assert.match(reason?.StatusReasonDescription ?? '', /Insufficient funds/);
    const details = await get(cc, `/file-payments/${String(data.FilePaymentId)}/payment-details`);
    const [status] = valid('/file-payments/{FilePaymentId}/payment-details', 'get', details).Data
      .PaymentStatus as Detail[];
    assert.equal(status?.Status, 'RJCT');
    assert.equal(status?.StatusDetail?.StatusReason, 'AM04');
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor, bobBefore);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('refuses a v3.1 file type, and a missing or invalid x-jws-signature on every file POST', async () => {
    const cc = await clientToken();
    const old = paymentFile(['1.00'], 'UK.OBIE.PaymentInitiation.3.1');
    v4Error(await post(cc, '/file-payment-consents', { Data: { Initiation: old.initiation } }), 400, 'U002');
    const { file, initiation } = paymentFile(['1.00']);
    const body = { Data: { Initiation: initiation } };
    v4Error(await post(cc, '/file-payment-consents', body, null), 400, 'U019');
    const other = await signRequestBody(bank, bundle, JSON.stringify({ other: true }));
    v4Error(await post(cc, '/file-payment-consents', body, other), 400, 'U015');
    const staged = await post(cc, '/file-payment-consents', body);
    assert.equal(staged.status, 201, staged.text);
    const consentId = String((staged.json as Body).Data.ConsentId);
    const upload = `${pisp}/file-payment-consents/${consentId}/file`;
    v4Error(await postText(cc, upload, file, null), 400, 'U019');
    v4Error(await postText(cc, upload, file, other), 400, 'U015');
    // Refused, nothing was stored: the signed upload is taken.
    assert.equal((await postText(cc, upload, file)).status, 200);
    const token = await approve(consentId);
    const submission = { Data: { ConsentId: consentId, Initiation: initiation } };
    v4Error(await post(token, '/file-payments', submission, null), 400, 'U019');
    v4Error(await post(token, '/file-payments', submission, other), 400, 'U015');
    const paid = await post(token, '/file-payments', submission);
    assert.equal(paid.status, 201, paid.text);
    valid('/file-payments', 'post', paid);
    assert.deepEqual(await verifyLedger(db), []);
  });
});
