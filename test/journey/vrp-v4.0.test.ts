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
import { assertValidResponse, validateComponent, VRP_V3_1_11, VRP_V4_0 } from '../support/openapi.ts';

type Answer = Awaited<ReturnType<typeof callApi>>;
type Body = {
  Data: Record<string, unknown>;
  Risk?: Record<string, unknown>;
  Errors?: { ErrorCode: string; Path?: string; Url?: string }[];
};
type Version = '4.0' | '3.1.11';

/** Domestic VRP v4.0 beside v3.1.11, through the composed sandbox, on the one ledger and consent store. */
describe('domestic VRP v4.0 through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const tpp: Tpp = await sandbox.tpp('vrp-v4', ['PISP']);
  const { bank, bundle, redirectUri } = tpp;
  const pisp = (version: Version) => `${apiBaseOf(bank, undefined, version)}/pisp`;
  const alice = await findCustomerByUsername(db, 'alice');
  const aliceAccounts = await listCustomerAccounts(db, alice!.id);
  // Sweeping: from alice's current account to her own saver.
  const current = aliceAccounts.find((account) => account.nickname === 'Everyday')!;
  const sweepTo = aliceAccounts.find((account) => account.nickname === 'Rainy day')!;
  const creditor = {
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: `${sweepTo.sortCode}${sweepTo.accountNumber}`,
    Name: 'Savings',
  };

  function valid(path: string, method: string, answer: Answer, spec = VRP_V4_0): Body {
    assertValidResponse(spec, path, method, answer.status, answer.json);
    return answer.json as Body;
  }

  /** Sends `body` signed by the TPP (or with `signature` instead; null: none), with a fresh idempotency key. */
  async function send(
    token: string,
    path: string,
    body: unknown,
    options: {
      method?: 'POST' | 'PUT' | 'PATCH';
      version?: Version;
      signature?: string | null;
      contentType?: string;
      key?: string;
    } = {},
  ): Promise<Answer> {
    const text = JSON.stringify(body);
    const jws =
      options.signature === undefined ? await signRequestBody(bank, bundle, text) : options.signature;
    return callApi(bank, token, `${pisp(options.version ?? '4.0')}${path}`, {
      method: options.method ?? 'POST',
      body: text,
      headers: {
        'x-idempotency-key': options.key ?? randomUUID(),
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
        ...(jws === null ? {} : { 'x-jws-signature': jws }),
      },
    });
  }

  const get = (token: string, path: string, version: Version = '4.0') =>
    callApi(bank, token, `${pisp(version)}${path}`);

  function v4Error(answer: Answer, status: number, code: string, path?: string): void {
    assert.equal(answer.status, status, answer.text);
    const component = validateComponent(VRP_V4_0, 'OBErrorResponse1', answer.json);
    assert.ok(component.valid, component.errors.join('\n'));
    const errors = (answer.json as Body).Errors ?? [];
    assert.ok(
      errors.some((e) => e.ErrorCode === code && (path === undefined || e.Path === path)),
      `expected ${code}${path ? ` at ${path}` : ''}, got ${answer.text}`,
    );
  }

  const clientToken = async () => (await clientCredentialsToken(bank, 'payments')).access_token;

  /** A sweeping consent body: at most 50.00 a payment, 100.00 a day (calendar), 150.00 a month (consent). */
  function sweepingConsent(remittance: unknown) {
    return {
      Data: {
        ReadRefundAccount: 'No',
        ControlParameters: {
          ValidToDateTime: '2030-12-31T00:00:00+00:00',
          MaximumIndividualAmount: { Amount: '50.00', Currency: 'GBP' },
          PeriodicLimits: [
            { PeriodType: 'Day', PeriodAlignment: 'Calendar', Amount: '100.00', Currency: 'GBP' },
            { PeriodType: 'Month', PeriodAlignment: 'Consent', Amount: '150.00', Currency: 'GBP' },
          ],
          VRPType: ['UK.OBIE.VRPType.Sweeping'],
          PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
          PSUInteractionTypes: ['OffSession'],
        },
        Initiation: { CreditorAccount: creditor, RemittanceInformation: remittance },
      },
      Risk: { PaymentContextCode: 'TransferToSelf' },
    };
  }
  type ConsentBody = ReturnType<typeof sweepingConsent>;
  const V4_REMITTANCE = { Structured: [{ CreditorReferenceInformation: { Reference: 'SWEEP' } }] };

  /** Stages `body` on `version`, has alice approve it; the consent id and the PSU's token. */
  async function authorised(body: ConsentBody, version: Version = '4.0') {
    const staged = await send(await clientToken(), '/domestic-vrp-consents', body, { version });
    assert.equal(staged.status, 201, staged.text);
    const spec = version === '4.0' ? VRP_V4_0 : VRP_V3_1_11;
    const consentId = String(valid('/domestic-vrp-consents', 'post', staged, spec).Data.ConsentId);
    const pending = await startAuthorization(bank, { intentId: consentId, scope: 'payments', redirectUri });
    const tokens = await completeAuthorization(
      bank,
      pending,
      await approveInSandbox(browserClient(sandbox), pending.url, redirectUri, {
        username: 'alice',
        decision: 'approve',
        accounts: [current.id],
      }),
    );
    return { consentId, token: tokens.access_token };
  }

  /** A VRP payment request under `consentId` for `amount`, its Initiation and Risk those of `body`. */
  function payment(consentId: string, body: ConsentBody, amount: string, remittance: unknown) {
    return {
      Data: {
        ConsentId: consentId,
        PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
        PSUInteractionType: 'OffSession',
        VRPType: 'UK.OBIE.VRPType.Sweeping',
        Initiation: body.Data.Initiation,
        Instruction: {
          InstructionIdentification: `i-${randomUUID().slice(0, 8)}`,
          EndToEndIdentification: 'E2E-VRP4',
          InstructedAmount: { Amount: amount, Currency: 'GBP' },
          CreditorAccount: creditor,
          RemittanceInformation: remittance,
        },
      },
      Risk: body.Risk,
    };
  }

  it('stages, authorises, confirms funds, pays within the limits and refuses beyond them, as v4.0 says', async () => {
    const body = sweepingConsent(V4_REMITTANCE);
    const { consentId, token } = await authorised(body);
    const cc = await clientToken();
    const read = await get(cc, `/domestic-vrp-consents/${consentId}`);
    assert.equal(read.status, 200, read.text);
    const consent = valid('/domestic-vrp-consents/{ConsentId}', 'get', read).Data;
    assert.equal(consent.Status, 'AUTH');
    assert.equal((consent.DebtorAccount as { Identification: string }).Identification.length, 14);

    const funds = await send(token, `/domestic-vrp-consents/${consentId}/funds-confirmation`, {
      Data: {
        ConsentId: consentId,
        Reference: 'SWEEP',
        InstructedAmount: { Amount: '20.00', Currency: 'GBP' },
      },
    });
    assert.equal(funds.status, 201, funds.text);
    const fundsData = valid('/domestic-vrp-consents/{ConsentId}/funds-confirmation', 'post', funds).Data;
    assert.equal((fundsData.FundsAvailableResult as { FundsAvailable: string }).FundsAvailable, 'Available');

    const before = await balanceOf(db, sweepTo.id);
    const paid: string[] = [];
    for (const amount of ['40.00', '40.00', '20.00']) {
      const answer = await send(token, '/domestic-vrps', payment(consentId, body, amount, V4_REMITTANCE));
      assert.equal(answer.status, 201, answer.text);
      const data = valid('/domestic-vrps', 'post', answer).Data;
      assert.equal(data.Status, 'ACCC');
      assert.equal(data.StatusReason, undefined);
      paid.push(String(data.DomesticVRPId));
    }
    assert.equal((await balanceOf(db, sweepTo.id)).bookedMinor - before.bookedMinor, 10_000n);

    // The day's 100.00 is used: a cent more is refused, U014 naming the limit, and nothing is posted.
    const over = await send(token, '/domestic-vrps', payment(consentId, body, '0.01', V4_REMITTANCE));
    v4Error(over, 400, 'U014', 'Data.ControlParameters.PeriodicLimits.0');
    valid('/domestic-vrps', 'post', over);
    const tooBig = await send(token, '/domestic-vrps', payment(consentId, body, '50.01', V4_REMITTANCE));
    v4Error(tooBig, 400, 'U014', 'Data.Instruction.InstructedAmount.Amount');
    // The consent's remittance must be repeated in each Instruction.
    const otherReference = payment(consentId, body, '1.00', {
      Structured: [{ CreditorReferenceInformation: { Reference: 'OTHER' } }],
    });
    v4Error(
      await send(token, '/domestic-vrps', otherReference),
      400,
      'U008',
      'Data.Instruction.RemittanceInformation',
    );
    assert.equal((await balanceOf(db, sweepTo.id)).bookedMinor - before.bookedMinor, 10_000n);

    const one = await get(cc, `/domestic-vrps/${paid[0]}`);
    assert.equal(one.status, 200, one.text);
    const oneData = valid('/domestic-vrps/{DomesticVRPId}', 'get', one).Data;
    assert.equal(oneData.Status, 'ACCC');
    assert.deepEqual(
      (oneData.Instruction as { RemittanceInformation: unknown }).RemittanceInformation,
      V4_REMITTANCE,
    );
    const details = await get(cc, `/domestic-vrps/${paid[0]}/payment-details`);
    assert.equal(details.status, 200, details.text);
    const statuses = valid('/domestic-vrps/{DomesticVRPId}/payment-details', 'get', details).Data
      .PaymentStatus as { Status: string }[];
    assert.deepEqual(
      statuses.map((status) => status.Status),
      ['ACCC'],
    );
    // A v4.0 consent and its payments are not found on v3.1.11, and v3.1.11 cannot pay under it.
    const consentOnV3 = await get(cc, `/domestic-vrp-consents/${consentId}`, '3.1.11');
    assert.equal(consentOnV3.status, 400, consentOnV3.text);
    valid('/domestic-vrp-consents/{ConsentId}', 'get', consentOnV3, VRP_V3_1_11);
    const paymentOnV3 = await get(cc, `/domestic-vrps/${paid[0]}`, '3.1.11');
    assert.equal(paymentOnV3.status, 400, paymentOnV3.text);

    const deleted = await callApi(bank, cc, `${pisp('4.0')}/domestic-vrp-consents/${consentId}`, {
      method: 'DELETE',
    });
    assert.equal(deleted.status, 204, deleted.text);
    assert.equal(deleted.text, '');
    const cancelled = await get(cc, `/domestic-vrp-consents/${consentId}`);
    assert.equal(cancelled.status, 200, cancelled.text);
    const cancelledData = valid('/domestic-vrp-consents/{ConsentId}', 'get', cancelled).Data;
    assert.equal(cancelledData.Status, 'CANC');
    assert.deepEqual(cancelledData.StatusReason, [
      { StatusReasonDescription: 'The TPP deleted the consent.' },
    ]);
    const afterDelete = await send(token, '/domestic-vrps', payment(consentId, body, '1.00', V4_REMITTANCE));
    assert.ok(afterDelete.status === 401 || afterDelete.status === 403, afterDelete.text);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('refuses every v4.0 POST without x-jws-signature, in the v4.0 error shape', async () => {
    const body = sweepingConsent(V4_REMITTANCE);
    const cc = await clientToken();
    v4Error(await send(cc, '/domestic-vrp-consents', body, { signature: null }), 400, 'U019');
    const { consentId, token } = await authorised(body);
    v4Error(
      await send(
        token,
        `/domestic-vrp-consents/${consentId}/funds-confirmation`,
        { Data: { ConsentId: consentId, InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
        { signature: null },
      ),
      400,
      'U019',
    );
    v4Error(
      await send(token, '/domestic-vrps', payment(consentId, body, '1.00', V4_REMITTANCE), {
        signature: null,
      }),
      400,
      'U019',
    );
    // v3.1.11's RemittanceInformation.Reference is not v4.0's; nor is a Fortnight aligned to the calendar.
    v4Error(await send(cc, '/domestic-vrp-consents', sweepingConsent({ Reference: 'OLD' })), 400, 'U005');
    const fortnight = sweepingConsent(V4_REMITTANCE);
    fortnight.Data.ControlParameters.PeriodicLimits[0]!.PeriodType = 'Fortnight';
    v4Error(
      await send(cc, '/domestic-vrp-consents', fortnight),
      400,
      'U002',
      'Data.ControlParameters.PeriodicLimits.0.PeriodAlignment',
    );
  });
});
