import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  balanceOf,
  findCustomerByUsername,
  listCustomerAccounts,
  verifyLedger,
} from '../../src/bank/index.ts';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { browserClient, startSandbox, type Tpp } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11, PIS_V4_0 } from '../support/openapi.ts';
import { pisClient, type Body } from '../support/pis-client.ts';

/** Payment Initiation v4.0 beside v3.1.11, through the composed sandbox, on the one ledger. */
describe('PIS v4.0 domestic payments through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const tpp: Tpp = await sandbox.tpp('pis-v4', ['PISP']);
  const { bank, bundle, redirectUri } = tpp;
  const bob = await findCustomerByUsername(db, 'bob');
  const bobGbp = (await listCustomerAccounts(db, bob!.id)).find((account) => account.currency === 'GBP')!;

  const { valid, post, get, v4Error, approve } = pisClient(sandbox, tpp, PIS_V4_0);

  function initiation(amount: string) {
    return {
      InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
      EndToEndIdentification: 'E2E-V4',
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: amount, Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${bobGbp.sortCode}${bobGbp.accountNumber}`,
        Name: 'Bob',
      },
      UltimateCreditor: { Name: 'Bob Jones' },
      RemittanceInformation: {
        Structured: [{ CreditorReferenceInformation: { Reference: 'V4 REF' } }],
        Unstructured: ['rent for December'],
      },
    };
  }
  const risk = { PaymentContextCode: 'TransferToThirdParty', CategoryPurposeCode: 'CASH' };

  /** Stages a v4.0 consent for `amount`, has alice approve it; the consent's id, body and PSU token. */
  async function authorisedConsent(amount: string) {
    const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
    const body = { Data: { Initiation: initiation(amount) }, Risk: risk };
    const staged = await post(clientToken, '/domestic-payment-consents', body);
    assert.equal(staged.status, 201, staged.text);
    const consentId = String(valid('/domestic-payment-consents', 'post', staged).Data.ConsentId);
    assert.equal((staged.json as Body).Data.Status, 'AWAU');
    return { consentId, clientToken, token: await approve(consentId), body };
  }

  it('stages, authorises, confirms funds and pays once on the ledger, every answer as v4.0 says', async () => {
    const { consentId, clientToken, token, body } = await authorisedConsent('12.34');
    const read = await get(clientToken, `/domestic-payment-consents/${consentId}`);
    assert.equal(read.status, 200, read.text);
    assert.equal(valid('/domestic-payment-consents/{ConsentId}', 'get', read).Data.Status, 'AUTH');

    const funds = await get(token, `/domestic-payment-consents/${consentId}/funds-confirmation`);
    assert.equal(funds.status, 200, funds.text);
    const fundsData = valid('/domestic-payment-consents/{ConsentId}/funds-confirmation', 'get', funds).Data;
    assert.equal((fundsData.FundsAvailableResult as { FundsAvailable: boolean }).FundsAvailable, true);

    const bobBefore = await balanceOf(db, bobGbp.id);
    const paid = await post(token, '/domestic-payments', {
      Data: { ConsentId: consentId, Initiation: body.Data.Initiation },
      Risk: risk,
    });
    assert.equal(paid.status, 201, paid.text);
    const payment = valid('/domestic-payments', 'post', paid).Data;
    // Bob banks here too: credited at once, so the creditor's account is settled (ACCC).
    assert.equal(payment.Status, 'ACCC');
    assert.equal(payment.StatusReason, undefined);
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor - bobBefore.bookedMinor, 1234n);

    const id = String(payment.DomesticPaymentId);
    const again = await get(clientToken, `/domestic-payments/${id}`);
    assert.equal(valid('/domestic-payments/{DomesticPaymentId}', 'get', again).Data.Status, 'ACCC');
    const details = await get(clientToken, `/domestic-payments/${id}/payment-details`);
    const statuses = valid('/domestic-payments/{DomesticPaymentId}/payment-details', 'get', details).Data
      .PaymentStatus as { Status: string }[];
    assert.deepEqual(
      statuses.map((s) => s.Status),
      ['ACCC'],
    );
    // A payment made on v4.0 is not found on v3.1.11.
    const paymentOnV3 = await callApi(bank, clientToken, `${apiBaseOf(bank)}/pisp/domestic-payments/${id}`);
    assert.equal(paymentOnV3.status, 400, paymentOnV3.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payments/{DomesticPaymentId}', 'get', 400, paymentOnV3.json);
    // The consent, once used, still reads as authorised: v4.0 has no consumed status.
    const consumed = await get(clientToken, `/domestic-payment-consents/${consentId}`);
    assert.equal(valid('/domestic-payment-consents/{ConsentId}', 'get', consumed).Data.Status, 'AUTH');
    // The v4.0 consent is not one v3.1.11 knows.
    const onV3 = await callApi(
      bank,
      clientToken,
      `${apiBaseOf(bank)}/pisp/domestic-payment-consents/${consentId}`,
    );
    assert.equal(onV3.status, 400, onV3.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents/{ConsentId}', 'get', 400, onV3.json);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('rejects for insufficient funds with an ISO StatusReason, posting nothing', async () => {
    const { consentId, clientToken, token, body } = await authorisedConsent('9999999.00');
    const funds = await get(token, `/domestic-payment-consents/${consentId}/funds-confirmation`);
    const fundsData = valid('/domestic-payment-consents/{ConsentId}/funds-confirmation', 'get', funds).Data;
    assert.equal((fundsData.FundsAvailableResult as { FundsAvailable: boolean }).FundsAvailable, false);
    const bobBefore = await balanceOf(db, bobGbp.id);
    const paid = await post(token, '/domestic-payments', {
      Data: { ConsentId: consentId, Initiation: body.Data.Initiation },
      Risk: risk,
    });
    assert.equal(paid.status, 201, paid.text);
    const payment = valid('/domestic-payments', 'post', paid).Data;
    assert.equal(payment.Status, 'RJCT');
    const [reason] = payment.StatusReason as { StatusReasonCode: string; StatusReasonDescription: string }[];
    assert.equal(reason?.StatusReasonCode, 'AM04');
    assert.match(reason?.StatusReasonDescription ?? '', /Insufficient funds/);
    const details = await get(
      clientToken,
      `/domestic-payments/${String(payment.DomesticPaymentId)}/payment-details`,
    );
    const [status] = valid('/domestic-payments/{DomesticPaymentId}/payment-details', 'get', details).Data
      .PaymentStatus as { Status: string; StatusDetail?: { Status: string; StatusReason?: string } }[];
    assert.equal(status?.Status, 'RJCT');
    assert.equal(status?.StatusDetail?.StatusReason, 'AM04');
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor, bobBefore.bookedMinor);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('refuses a missing or invalid x-jws-signature in the v4.0 error shape, and a v3.1.11 body', async () => {
    const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
    const body = { Data: { Initiation: initiation('1.00') }, Risk: risk };
    v4Error(await post(clientToken, '/domestic-payment-consents', body, null), 400, 'U019');
    const signedOther = await signRequestBody(bank, bundle, JSON.stringify({ ...body, Risk: {} }));
    v4Error(await post(clientToken, '/domestic-payment-consents', body, signedOther), 400, 'U015');
    // v3.1.11's RemittanceInformation.Reference is not a v4.0 field.
    const v3Body = {
      Data: { Initiation: { ...initiation('1.00'), RemittanceInformation: { Reference: 'old' } } },
      Risk: risk,
    };
    v4Error(await post(clientToken, '/domestic-payment-consents', v3Body), 400, 'U005');
    const withAgent = (agent: Record<string, unknown>) => ({
      Data: { Initiation: { ...initiation('1.00'), CreditorAgent: agent } },
      Risk: risk,
    });
    v4Error(
      await post(clientToken, '/domestic-payment-consents', withAgent({ Name: 'Bank', Branch: 'x' })),
      400,
      'U005',
    );
    const agentStaged = await post(
      clientToken,
      '/domestic-payment-consents',
      withAgent({ Name: 'Bank', LEI: '5493001KJTIIGC8Y1R12' }),
    );
    assert.equal(agentStaged.status, 201, agentStaged.text);
    valid('/domestic-payment-consents', 'post', agentStaged);

    const { consentId, token, body: consented } = await authorisedConsent('2.00');
    const submission = { Data: { ConsentId: consentId, Initiation: consented.Data.Initiation }, Risk: risk };
    v4Error(await post(token, '/domestic-payments', submission, null), 400, 'U019');
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('reads a v3.1.11 consent on v4.0 in v4.0 terms, but pays it only on v3.1.11', async () => {
    const clientToken = (await clientCredentialsToken(bank, 'payments')).access_token;
    const v3Initiation = {
      ...initiation('3.00'),
      UltimateCreditor: undefined,
      RemittanceInformation: { Reference: 'OLD REF', Unstructured: 'one line' },
    };
    const v3Risk = { PaymentContextCode: 'PartyToParty', ContractPresentInidicator: true };
    const v3Base = `${apiBaseOf(bank)}/pisp`;
    const text = JSON.stringify({ Data: { Initiation: v3Initiation }, Risk: v3Risk });
    const staged = await callApi(bank, clientToken, `${v3Base}/domestic-payment-consents`, {
      method: 'POST',
      body: text,
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await signRequestBody(bank, bundle, text),
      },
    });
    assert.equal(staged.status, 201, staged.text);
    const consentId = String((staged.json as Body).Data.ConsentId);
    const onV4 = await get(clientToken, `/domestic-payment-consents/${consentId}`);
    assert.equal(onV4.status, 200, onV4.text);
    const data = valid('/domestic-payment-consents/{ConsentId}', 'get', onV4).Data;
    assert.equal(data.Status, 'AWAU');
    assert.deepEqual((data.Initiation as { RemittanceInformation: unknown }).RemittanceInformation, {
      Structured: [{ CreditorReferenceInformation: { Reference: 'OLD REF' } }],
      Unstructured: ['one line'],
    });
    assert.deepEqual((onV4.json as { Risk: unknown }).Risk, { ContractPresentIndicator: true });

    // Authorised, its payment-order may not be created on v4.0 (same body shape v4.0 accepts).
    const plain = { ...initiation('4.00'), UltimateCreditor: undefined, RemittanceInformation: undefined };
    const plainText = JSON.stringify({ Data: { Initiation: plain }, Risk: {} });
    const plainStaged = await callApi(bank, clientToken, `${v3Base}/domestic-payment-consents`, {
      method: 'POST',
      body: plainText,
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await signRequestBody(bank, bundle, plainText),
      },
    });
    assert.equal(plainStaged.status, 201, plainStaged.text);
    const plainId = String((plainStaged.json as Body).Data.ConsentId);
    const pending = await startAuthorization(bank, { intentId: plainId, scope: 'payments', redirectUri });
    const tokens = await completeAuthorization(
      bank,
      pending,
      await approveInSandbox(browserClient(sandbox), pending.url, redirectUri, {
        username: 'alice',
        decision: 'approve',
      }),
    );
    const submission = JSON.parse(
      JSON.stringify({ Data: { ConsentId: plainId, Initiation: plain }, Risk: {} }),
    );
    v4Error(await post(tokens.access_token, '/domestic-payments', submission), 403, 'U009');
    // On v3.1.11 it pays, and the payment then reads on v4.0 in v4.0's terms.
    const paidText = JSON.stringify(submission);
    const paidOnV3 = await callApi(bank, tokens.access_token, `${v3Base}/domestic-payments`, {
      method: 'POST',
      body: paidText,
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await signRequestBody(bank, bundle, paidText),
      },
    });
    assert.equal(paidOnV3.status, 201, paidOnV3.text);
    const paymentId = String((paidOnV3.json as Body).Data.DomesticPaymentId);
    const readOnV4 = await get(clientToken, `/domestic-payments/${paymentId}`);
    assert.equal(readOnV4.status, 200, readOnV4.text);
    assert.equal(valid('/domestic-payments/{DomesticPaymentId}', 'get', readOnV4).Data.Status, 'ACCC');
    assert.deepEqual(await verifyLedger(db), []);
  });
});
