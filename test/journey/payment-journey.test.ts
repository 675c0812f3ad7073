import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  balanceOf,
  findCustomerByUsername,
  listCustomerAccounts,
  runDuePayments,
  verifyLedger,
} from '../../src/bank/index.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { readSetting } from '../../src/store/index.ts';
import {
  clientCredentialsToken,
  completeAuthorization,
  startAuthorization,
} from '../../src/tpp/authorization.ts';
import { signRequestBody, verifyResponseSignature } from '../../src/tpp/message-signing.ts';
import { send } from '../../src/tpp/http.ts';
import { apiBaseOf, callApi } from '../../src/tpp/open-banking.ts';
import { approveInSandbox } from '../../src/tpp/sandbox-approval.ts';
import { browserClient, startSandbox, type Tpp } from '../support/journey.ts';
import { assertValidResponse, PIS_V3_1_11 } from '../support/openapi.ts';

/** POSTs `body` (JSON, or a string sent as it is) signed by the TPP, with a fresh idempotency key. */
async function signedPostAs(tpp: Tpp, token: string, url: string, body: unknown) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return callApi(tpp.bank, token, url, {
    method: 'POST',
    body: text,
    headers: {
      'x-idempotency-key': randomUUID(),
      'x-jws-signature': await signRequestBody(tpp.bank, tpp.bundle, text),
    },
  });
}

describe('payments through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;

  it('stages, is authorised by the PSU, executes once on the ledger, and every answer is signed by the bank', async () => {
    const tpp = await sandbox.tpp('pay-journey', ['PISP']);
    const { bank, bundle, redirectUri } = tpp;
    const bob = await findCustomerByUsername(db, 'bob');
    const bobGbp = (await listCustomerAccounts(db, bob!.id)).find((account) => account.currency === 'GBP')!;
    const identity = await readSetting<{ orgId: string; softwareId: string }>(db, 'bank.directory-identity');
    // The directory lists the bank with its organisation and the JWKS its response signatures verify with.
    const listed = await send(browserClient(sandbox), `${sandbox.platform.urls.browser}/directory/v1/aspsps`);
    const listing = (
      listed.json as { aspsps: { discoveryUrl: string; orgId?: string; signingJwksUri?: string }[] }
    ).aspsps.find((aspsp) => aspsp.discoveryUrl === sandbox.discoveryUrl);
    assert.equal(listing?.orgId, identity!.orgId);
    const bankJwks = listing.signingJwksUri!;

    const initiation = {
      InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
      EndToEndIdentification: 'E2E-JOURNEY',
      LocalInstrument: 'UK.OBIE.FPS',
      InstructedAmount: { Amount: '12.34', Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${bobGbp.sortCode}${bobGbp.accountNumber}`,
        Name: 'Bob',
      },
      RemittanceInformation: { Reference: 'Journey test' },
    };
    const risk = { PaymentContextCode: 'PartyToParty' };
    const pisp = `${apiBaseOf(bank)}/pisp`;
    const signedPost = (token: string, url: string, body: unknown) => signedPostAs(tpp, token, url, body);

    const clientToken = await clientCredentialsToken(bank, 'payments');
    const staged = await signedPost(clientToken.access_token, `${pisp}/domestic-payment-consents`, {
      Data: { Initiation: initiation },
      Risk: risk,
    });
    assert.equal(staged.status, 201, staged.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payment-consents', 'post', 201, staged.json);
    await verifyResponseSignature(bank, bankJwks, staged.text, String(staged.headers['x-jws-signature']));
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;

    const pending = await startAuthorization(bank, { intentId: consentId, scope: 'payments', redirectUri });
    const tokens = await completeAuthorization(
      bank,
      pending,
      await approveInSandbox(browserClient(sandbox), pending.url, redirectUri, {
        username: 'alice',
        decision: 'approve',
      }),
    );

    const bobBefore = await balanceOf(db, bobGbp.id);
    const paid = await signedPost(tokens.access_token, `${pisp}/domestic-payments`, {
      Data: { ConsentId: consentId, Initiation: initiation },
      Risk: risk,
    });
    assert.equal(paid.status, 201, paid.text);
    assertValidResponse(PIS_V3_1_11, '/domestic-payments', 'post', 201, paid.json);
    const header = await verifyResponseSignature(
      bank,
      bankJwks,
      paid.text,
      String(paid.headers['x-jws-signature']),
    );
    assert.equal(
      header['http://openbanking.org.uk/iss'],
      identity!.orgId,
      'an ASPSP signs as its organisation id',
    );
    const payment = (paid.json as { Data: { Status: string; DomesticPaymentId: string } }).Data;
    // Bob banks here too: the creditor's account is credited at once, the truthful status for an on-us payment.
    assert.equal(payment.Status, 'AcceptedCreditSettlementCompleted');
    const bobAfter = await balanceOf(db, bobGbp.id);
    assert.equal(bobAfter.bookedMinor - bobBefore.bookedMinor, 1234n);

    const tampered = JSON.stringify({ Data: { ConsentId: consentId, Initiation: initiation }, Risk: risk });
    const forged = await callApi(bank, tokens.access_token, `${pisp}/domestic-payments`, {
      method: 'POST',
      body: tampered.replace('12.34', '99.99'),
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await signRequestBody(bank, bundle, tampered),
      },
    });
    assert.equal(forged.status, 400, forged.text);
    assert.equal(
      (forged.json as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode,
      'UK.OBIE.Signature.Invalid',
    );
    assert.equal(
      (await balanceOf(db, bobGbp.id)).bookedMinor,
      bobAfter.bookedMinor,
      'nothing more was posted',
    );
  });

  it('sets up an international standing order the PSU approved, and the bank pays it in EUR when due', async () => {
    const tpp = await sandbox.tpp('pay-journey-intl', ['PISP']);
    const { bank, redirectUri } = tpp;
    const pisp = `${apiBaseOf(bank)}/pisp`;
    const signedPost = (token: string, url: string, body: unknown) => signedPostAs(tpp, token, url, body);
    const first = new Date(Date.now() + 3_600_000);
    const initiation = {
      Frequency: 'EvryDay',
      Reference: 'Journey abroad',
      NumberOfPayments: '2',
      FirstPaymentDateTime: first.toISOString().replace(/\.\d{3}Z$/, '+00:00'),
      CurrencyOfTransfer: 'EUR',
      InstructedAmount: { Amount: '20.00', Currency: 'EUR' },
      CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Hans' },
    };
    const risk = { PaymentContextCode: 'PartyToParty' };
    const clientToken = await clientCredentialsToken(bank, 'payments');
    const staged = await signedPost(
      clientToken.access_token,
      `${pisp}/international-standing-order-consents`,
      {
        Data: { Permission: 'Create', Initiation: initiation },
        Risk: risk,
      },
    );
    assert.equal(staged.status, 201, staged.text);
    assertValidResponse(PIS_V3_1_11, '/international-standing-order-consents', 'post', 201, staged.json);
    const consentId = (staged.json as { Data: { ConsentId: string } }).Data.ConsentId;

    const pending = await startAuthorization(bank, { intentId: consentId, scope: 'payments', redirectUri });
    const tokens = await completeAuthorization(
      bank,
      pending,
      await approveInSandbox(browserClient(sandbox), pending.url, redirectUri, {
        username: 'alice',
        decision: 'approve',
      }),
    );
    const made = await signedPost(tokens.access_token, `${pisp}/international-standing-orders`, {
      Data: { ConsentId: consentId, Initiation: initiation },
      Risk: risk,
    });
    assert.equal(made.status, 201, made.text);
    assertValidResponse(PIS_V3_1_11, '/international-standing-orders', 'post', 201, made.json);
    const order = (
      made.json as { Data: { InternationalStandingOrderId: string; Debtor: { Identification: string } } }
    ).Data;

    // The bank's payment job, run at a time after both payments are due.
    const outcomes = await runDuePayments(db, {
      clock: new ManualClock(new Date(first.getTime() + 2 * 86_400_000)),
    });
    assert.deepEqual(
      outcomes.filter((o) => o.id === order.InternationalStandingOrderId).map((o) => o.status),
      ['Executed', 'Executed'],
    );
    const details = await callApi(
      bank,
      clientToken.access_token,
      `${pisp}/international-standing-orders/${order.InternationalStandingOrderId}/payment-details`,
    );
    assert.equal(details.status, 200, details.text);
    assertValidResponse(
      PIS_V3_1_11,
      '/international-standing-orders/{InternationalStandingOrderPaymentId}/payment-details',
      'get',
      200,
      details.json,
    );
    const statuses = (details.json as { Data: { PaymentStatus: { Status: string }[] } }).Data.PaymentStatus;
    assert.deepEqual(
      statuses.map((s) => s.Status),
      ['AcceptedSettlementCompleted', 'AcceptedSettlementCompleted'],
    );
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('takes a payment file: signed upload, PSU approval in the consent app, every transaction paid, a report', async () => {
    const tpp = await sandbox.tpp('pay-journey-file', ['PISP']);
    const { bank, redirectUri } = tpp;
    const pisp = `${apiBaseOf(bank)}/pisp`;
    const bob = await findCustomerByUsername(db, 'bob');
    const bobGbp = (await listCustomerAccounts(db, bob!.id)).find((account) => account.currency === 'GBP')!;
    const signedPost = (token: string, url: string, text: string) => signedPostAs(tpp, token, url, text);
    const transaction = (amount: string) => ({
      InstructionIdentification: `file-${randomUUID().slice(0, 8)}`,
      EndToEndIdentification: 'E2E-FILE',
      InstructedAmount: { Amount: amount, Currency: 'GBP' },
      CreditorAccount: {
        SchemeName: 'UK.OBIE.SortCodeAccountNumber',
        Identification: `${bobGbp.sortCode}${bobGbp.accountNumber}`,
        Name: 'Bob',
      },
    });
    const file = JSON.stringify({ Data: { DomesticPayments: [transaction('1.10'), transaction('2.20')] } });
    const consent = {
      Data: {
        Initiation: {
          FileType: 'UK.OBIE.PaymentInitiation.3.1',
          FileHash: createHash('sha256').update(file).digest('base64'),
          FileReference: 'JOURNEY-FILE',
          NumberOfTransactions: '2',
          ControlSum: 3.3,
        },
      },
    };
    const clientToken = await clientCredentialsToken(bank, 'payments');
    const staged = await signedPost(
      clientToken.access_token,
      `${pisp}/file-payment-consents`,
      JSON.stringify(consent),
    );
    assert.equal(staged.status, 201, staged.text);
    assertValidResponse(PIS_V3_1_11, '/file-payment-consents', 'post', 201, staged.json);
    const consentId = (staged.json as { Data: { ConsentId: string; Status: string } }).Data.ConsentId;
    const uploaded = await signedPost(
      clientToken.access_token,
      `${pisp}/file-payment-consents/${consentId}/file`,
      file,
    );
    assert.equal(uploaded.status, 200, uploaded.text);

    const pending = await startAuthorization(bank, { intentId: consentId, scope: 'payments', redirectUri });
    const tokens = await completeAuthorization(
      bank,
      pending,
      await approveInSandbox(browserClient(sandbox), pending.url, redirectUri, {
        username: 'alice',
        decision: 'approve',
      }),
    );
    const bobBefore = (await balanceOf(db, bobGbp.id)).bookedMinor;
    const paid = await signedPost(
      tokens.access_token,
      `${pisp}/file-payments`,
      JSON.stringify({ Data: { ConsentId: consentId, Initiation: consent.Data.Initiation } }),
    );
    assert.equal(paid.status, 201, paid.text);
    assertValidResponse(PIS_V3_1_11, '/file-payments', 'post', 201, paid.json);
    const id = (paid.json as { Data: { FilePaymentId: string } }).Data.FilePaymentId;
    assert.equal((await balanceOf(db, bobGbp.id)).bookedMinor - bobBefore, 330n);
    const report = await callApi(bank, clientToken.access_token, `${pisp}/file-payments/${id}/report-file`);
    assert.equal(report.status, 200, report.text);
    assert.match(report.text, /AcceptedCreditSettlementCompleted/);
    assert.deepEqual(await verifyLedger(db), []);
  });
});
