import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  balanceOf,
  findCustomerByUsername,
  listCustomerAccounts,
  verifyLedger,
} from '../../src/bank/index.ts';
import { clientCredentialsToken } from '../../src/tpp/authorization.ts';
import { signRequestBody } from '../../src/tpp/message-signing.ts';
import { callApi } from '../../src/tpp/open-banking.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { VRP_V3_1_11, VRP_V4_0 } from '../support/openapi.ts';
import { pisClient, type Body, type Version } from '../support/pis-client.ts';
import { withdrawInDashboard } from './events-support.ts';

/** Domestic VRP v4.0 beside v3.1.11, through the composed sandbox, on the one ledger and consent store. */
describe('domestic VRP v4.0 through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const tpp: Tpp = await sandbox.tpp('vrp-v4', ['PISP']);
  const { bank } = tpp;
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

  const { valid, send, get, v4Error, clientToken, approve, pispOf: pisp } = pisClient(sandbox, tpp, VRP_V4_0);

  /** A sweeping consent body: at most 50.00 a payment, 100.00 a day, 150.00 a month (both from the consent's creation). */
  function sweepingConsent(remittance: unknown) {
    return {
      Data: {
        ReadRefundAccount: 'No',
        ControlParameters: {
          ValidToDateTime: '2030-12-31T00:00:00+00:00',
          MaximumIndividualAmount: { Amount: '50.00', Currency: 'GBP' },
          PeriodicLimits: [
            { PeriodType: 'Day', PeriodAlignment: 'Consent', Amount: '100.00', Currency: 'GBP' },
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
  const V4_REMITTANCE = { Structured: [{ CreditorReferenceInformation: { Reference: 'SWEEP' } }] };

  /** Stages `body` on `version`, has alice approve it; the consent id and the PSU's token. */
  async function authorised(body: unknown, version: Version = '4.0') {
    const staged = await send(await clientToken(), '/domestic-vrp-consents', body, { version });
    assert.equal(staged.status, 201, staged.text);
    const spec = version === '4.0' ? VRP_V4_0 : VRP_V3_1_11;
    const consentId = String(valid('/domestic-vrp-consents', 'post', staged, spec).Data.ConsentId);
    return { consentId, token: await approve(consentId, { accounts: [current.id] }) };
  }

  /** A VRP payment request under `consentId` for `amount`, its Initiation and Risk those of `body`. */
  function payment(
    consentId: string,
    body: { Data: { Initiation: unknown }; Risk: unknown },
    amount: string,
    remittance: unknown,
  ) {
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
    fortnight.Data.ControlParameters.PeriodicLimits[0]!.PeriodAlignment = 'Calendar';
    v4Error(
      await send(cc, '/domestic-vrp-consents', fortnight),
      400,
      'U002',
      'Data.ControlParameters.PeriodicLimits.0.PeriodAlignment',
    );
  });

  it('rejects a payment the account cannot fund with an ISO StatusReason, using no limit', async () => {
    const big = sweepingConsent(V4_REMITTANCE);
    big.Data.ControlParameters.MaximumIndividualAmount.Amount = '100000.00';
    big.Data.ControlParameters.PeriodicLimits = [
      { PeriodType: 'Year', PeriodAlignment: 'Consent', Amount: '100000.00', Currency: 'GBP' },
    ];
    const { consentId, token } = await authorised(big);
    const funds = await send(token, `/domestic-vrp-consents/${consentId}/funds-confirmation`, {
      Data: { ConsentId: consentId, InstructedAmount: { Amount: '99999.00', Currency: 'GBP' } },
    });
    const fundsData = valid('/domestic-vrp-consents/{ConsentId}/funds-confirmation', 'post', funds).Data;
    assert.equal(
      (fundsData.FundsAvailableResult as { FundsAvailable: string }).FundsAvailable,
      'NotAvailable',
    );
    const before = await balanceOf(db, current.id);
    const rejected = await send(token, '/domestic-vrps', payment(consentId, big, '99999.00', V4_REMITTANCE));
    assert.equal(rejected.status, 201, rejected.text);
    const data = valid('/domestic-vrps', 'post', rejected).Data;
    assert.equal(data.Status, 'RJCT');
    const [reason] = data.StatusReason as { StatusReasonCode: string; StatusReasonDescription: string }[];
    assert.equal(reason?.StatusReasonCode, 'AM04');
    const details = await get(
      await clientToken(),
      `/domestic-vrps/${String(data.DomesticVRPId)}/payment-details`,
    );
    const [status] = valid('/domestic-vrps/{DomesticVRPId}/payment-details', 'get', details).Data
      .PaymentStatus as { Status: string; StatusDetail?: { StatusReason?: string } }[];
    assert.equal(status?.StatusDetail?.StatusReason, 'AM04');
    assert.equal((await balanceOf(db, current.id)).bookedMinor, before.bookedMinor);
    // Nothing was paid, so the year's limit is whole: had the 99999.00 counted, 1.01 more would not fit.
    const small = await send(token, '/domestic-vrps', payment(consentId, big, '1.01', V4_REMITTANCE));
    assert.equal(valid('/domestic-vrps', 'post', small).Data.Status, 'ACCC');
    assert.deepEqual(await verifyLedger(db), []);
  });

  /** A consent as v3.1.11 stages it: its remittance, an address type word, v3.1.11's Risk names and codes. */
  function v3Consent() {
    const body = sweepingConsent({ Reference: 'SWEEP3', Unstructured: 'to savings' });
    return {
      Data: {
        ...body.Data,
        Initiation: {
          ...body.Data.Initiation,
          CreditorPostalAddress: { AddressType: 'Residential', TownName: 'Bristol', Country: 'GB' },
        },
      },
      Risk: { PaymentContextCode: 'PartyToParty', ContractPresentInidicator: true },
    };
  }
  /** The same consent in v4.0's terms. */
  function v4FormOf(v3: ReturnType<typeof v3Consent>) {
    return {
      Data: {
        ...v3.Data,
        Initiation: {
          CreditorAccount: creditor,
          CreditorPostalAddress: { AddressType: 'HOME', TownName: 'Bristol', Country: 'GB' },
          RemittanceInformation: V3_AS_V4_REMITTANCE,
        },
      },
      Risk: { PaymentContextCode: 'TransferToSelf', ContractPresentIndicator: true },
    };
  }
  const V3_AS_V4_REMITTANCE = {
    Structured: [{ CreditorReferenceInformation: { Reference: 'SWEEP3' } }],
    Unstructured: ['to savings'],
  };

  /** A v3.1.11 consent staged, authorised and paid `amounts` on v3.1.11. */
  async function paidOnV3(amounts: string[]) {
    const v3 = v3Consent();
    const { consentId, token } = await authorised(v3, '3.1.11');
    const paymentIds: string[] = [];
    for (const amount of amounts) {
      const answer = await send(
        token,
        '/domestic-vrps',
        payment(consentId, v3, amount, { Reference: 'SWEEP3', Unstructured: 'to savings' }),
        { version: '3.1.11' },
      );
      assert.equal(answer.status, 201, answer.text);
      const data = valid('/domestic-vrps', 'post', answer, VRP_V3_1_11).Data;
      assert.equal(data.Status, 'AcceptedCreditSettlementCompleted');
      paymentIds.push(String(data.DomesticVRPId));
    }
    return { v3, consentId, token, paymentIds };
  }

  const path = (consentId: string) => `/domestic-vrp-consents/${consentId}`;

  it('migrates a paid v3.1.11 consent by PUT: same consent and authorisation, v4.0 from then on, limits kept', async () => {
    const { v3, consentId, token, paymentIds } = await paidOnV3(['40.00', '20.00']);
    const cc = await clientToken();
    const v4Body = v4FormOf(v3);
    const v4Payment = (amount: string) => payment(consentId, v4Body, amount, V3_AS_V4_REMITTANCE);

    // Before: readable on v4.0 in v4.0's terms, but no payment-order on v4.0.
    const before = await get(cc, path(consentId));
    assert.equal(before.status, 200, before.text);
    const shown = valid('/domestic-vrp-consents/{ConsentId}', 'get', before);
    assert.deepEqual(shown.Data.Initiation, v4Body.Data.Initiation);
    v4Error(await send(token, '/domestic-vrps', v4Payment('1.00')), 403, 'U009');
    const fundsBefore = await send(token, `${path(consentId)}/funds-confirmation`, {
      Data: { ConsentId: consentId, InstructedAmount: { Amount: '1.00', Currency: 'GBP' } },
    });
    assert.equal(fundsBefore.status, 201, fundsBefore.text);
    valid('/domestic-vrp-consents/{ConsentId}/funds-confirmation', 'post', fundsBefore);

    // Refused: what the PSU authorised may not change, nothing may be added, and the body is v4.0's.
    const refusals: [unknown, string, string | undefined][] = [];
    const changedLimit = structuredClone(v4Body);
    changedLimit.Data.ControlParameters.PeriodicLimits[0]!.Amount = '1000.00';
    refusals.push([changedLimit, 'U008', 'Data.ControlParameters.PeriodicLimits.0.Amount']);
    const changedValidTo = structuredClone(v4Body);
    changedValidTo.Data.ControlParameters.ValidToDateTime = '2031-12-31T00:00:00+00:00';
    refusals.push([changedValidTo, 'U008', 'Data.ControlParameters.ValidToDateTime']);
    const otherCreditor = structuredClone(v4Body);
    otherCreditor.Data.Initiation.CreditorAccount = { ...creditor, Identification: '20000000000001' };
    refusals.push([otherCreditor, 'U008', 'Data.Initiation.CreditorAccount.Identification']);
    const addedParty = structuredClone(v4Body) as { Data: { Initiation: Record<string, unknown> } };
    addedParty.Data.Initiation.UltimateCreditor = { Name: 'Someone Else' };
    refusals.push([addedParty, 'U008', 'Data.Initiation.UltimateCreditor']);
    const otherReference = structuredClone(v4Body);
    otherReference.Data.Initiation.RemittanceInformation = { ...V3_AS_V4_REMITTANCE, Unstructured: ['x'] };
    refusals.push([otherReference, 'U008', 'Data.Initiation.RemittanceInformation.Unstructured.0']);
    refusals.push([v3, 'U002', 'Data.Initiation.RemittanceInformation.Unstructured']);
    for (const [body, code, at] of refusals)
      v4Error(await send(cc, path(consentId), body, { method: 'PUT' }), 400, code, at);
    v4Error(await send(cc, path(consentId), v4Body, { method: 'PUT', signature: null }), 400, 'U019');

    const key = randomUUID();
    const migrated = await send(cc, path(consentId), v4Body, { method: 'PUT', key });
    assert.equal(migrated.status, 200, migrated.text);
    const data = valid('/domestic-vrp-consents/{ConsentId}', 'put', migrated).Data;
    assert.equal(data.ConsentId, consentId);
    assert.equal(data.Status, 'AUTH');
    assert.deepEqual(data.ControlParameters, v3.Data.ControlParameters);
    assert.deepEqual((migrated.json as Body).Risk, v4Body.Risk);
    assert.ok(data.DebtorAccount, 'the account the PSU chose stays chosen');
    // A retry with the same key gets the same answer; a new migration finds nothing to migrate.
    const retried = await send(cc, path(consentId), v4Body, { method: 'PUT', key });
    assert.equal(retried.status, 200, retried.text);
    assert.deepEqual(retried.json, migrated.json);
    v4Error(await send(cc, path(consentId), v4Body, { method: 'PUT' }), 400, 'U002');

    // The PSU's token pays on v4.0, within what the day left: 60.00 was paid on v3.1.11.
    const paid = await send(token, '/domestic-vrps', v4Payment('40.00'));
    assert.equal(paid.status, 201, paid.text);
    assert.equal(valid('/domestic-vrps', 'post', paid).Data.Status, 'ACCC');
    const over = await send(token, '/domestic-vrps', v4Payment('0.01'));
    v4Error(over, 400, 'U014', 'Data.ControlParameters.PeriodicLimits.0');
    // Its payments made on v3.1.11 read on v4.0 in v4.0's terms.
    const earlier = await get(cc, `/domestic-vrps/${paymentIds[0]}`);
    assert.equal(earlier.status, 200, earlier.text);
    const earlierData = valid('/domestic-vrps/{DomesticVRPId}', 'get', earlier).Data;
    assert.equal(earlierData.Status, 'ACCC');
    assert.deepEqual(
      (earlierData.Instruction as { RemittanceInformation: unknown }).RemittanceInformation,
      V3_AS_V4_REMITTANCE,
    );
    const earlierDetails = await get(cc, `/domestic-vrps/${paymentIds[0]}/payment-details`);
    valid('/domestic-vrps/{DomesticVRPId}/payment-details', 'get', earlierDetails);
    // It is a v4.0 consent now: v3.1.11 neither shows nor pays it.
    assert.equal((await get(cc, path(consentId), '3.1.11')).status, 400);
    const onV3 = await send(
      token,
      '/domestic-vrps',
      payment(consentId, v3, '0.01', { Reference: 'SWEEP3', Unstructured: 'to savings' }),
      { version: '3.1.11' },
    );
    assert.equal(onV3.status, 403, onV3.text);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('migrates another by PATCH (RFC 6902 on the consent as staged), atomically, then pays within its limits', async () => {
    const { v3, consentId, token } = await paidOnV3(['50.00', '30.00']);
    const cc = await clientToken();
    const patch = (operations: unknown, options: { signature?: null; contentType?: string } = {}) =>
      send(cc, path(consentId), operations, {
        method: 'PATCH',
        contentType: 'application/json-patch+json',
        ...options,
      });
    const migration = [
      { op: 'remove', path: '/Risk/ContractPresentInidicator' },
      { op: 'add', path: '/Risk/ContractPresentIndicator', value: true },
      { op: 'replace', path: '/Risk/PaymentContextCode', value: 'TransferToSelf' },
      { op: 'replace', path: '/Data/Initiation/CreditorPostalAddress/AddressType', value: 'HOME' },
      { op: 'replace', path: '/Data/Initiation/RemittanceInformation', value: V3_AS_V4_REMITTANCE },
    ];

    // A patch that fails part way changes nothing; one that changes a limit or leaves v3.1.11 shapes is refused.
    v4Error(
      await patch([...migration, { op: 'remove', path: '/Data/Initiation/DebtorAccount' }]),
      400,
      'U002',
      'Data.Initiation.DebtorAccount',
    );
    v4Error(
      await patch([
        ...migration,
        { op: 'replace', path: '/Data/ControlParameters/MaximumIndividualAmount/Amount', value: '500.00' },
      ]),
      400,
      'U008',
      'Data.ControlParameters.MaximumIndividualAmount.Amount',
    );
    v4Error(await patch(migration.slice(2)), 400, 'U005');
    v4Error(await patch({ op: 'remove', path: '/Risk' }), 400, 'U010');
    v4Error(await patch([{ op: 'delete', path: '/Risk' }]), 400, 'U002');
    v4Error(await patch(migration, { signature: null }), 400, 'U019');
    const asJson = await patch(migration, { contentType: 'application/json' });
    assert.equal(asJson.status, 415, asJson.text);
    // Still the v3.1.11 consent it was: v3.1.11 shows it.
    const stillV3 = await get(cc, path(consentId), '3.1.11');
    assert.equal(stillV3.status, 200, stillV3.text);
    valid('/domestic-vrp-consents/{ConsentId}', 'get', stillV3, VRP_V3_1_11);

    const migrated = await patch(migration);
    assert.equal(migrated.status, 200, migrated.text);
    const data = valid('/domestic-vrp-consents/{ConsentId}', 'patch', migrated).Data;
    assert.equal(data.Status, 'AUTH');
    const v4Body = v4FormOf(v3);
    assert.deepEqual(data.Initiation, v4Body.Data.Initiation);
    v4Error(await patch(migration), 400, 'U002');

    // 80.00 of the day's 100.00 was paid on v3.1.11: 20.00 is left.
    const v4Payment = (amount: string) => payment(consentId, v4Body, amount, V3_AS_V4_REMITTANCE);
    v4Error(
      await send(token, '/domestic-vrps', v4Payment('20.01')),
      400,
      'U014',
      'Data.ControlParameters.PeriodicLimits.0',
    );
    const paid = await send(token, '/domestic-vrps', v4Payment('20.00'));
    assert.equal(paid.status, 201, paid.text);
    assert.equal(valid('/domestic-vrps', 'post', paid).Data.Status, 'ACCC');
    v4Error(await send(token, '/domestic-vrps', v4Payment('0.01')), 400, 'U014');
    const funds = await send(token, `${path(consentId)}/funds-confirmation`, {
      Data: { ConsentId: consentId, InstructedAmount: { Amount: '5.00', Currency: 'GBP' } },
    });
    assert.equal(funds.status, 201, funds.text);
    valid('/domestic-vrp-consents/{ConsentId}/funds-confirmation', 'post', funds);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('migrates only an authorised consent of an older version, of this TPP', async () => {
    const cc = await clientToken();
    const v3 = v3Consent();
    const staged = await send(cc, '/domestic-vrp-consents', v3, { version: '3.1.11' });
    assert.equal(staged.status, 201, staged.text);
    const awaiting = String((staged.json as Body).Data.ConsentId);
    v4Error(await send(cc, path(awaiting), v4FormOf(v3), { method: 'PUT' }), 400, 'U009');
    v4Error(await send(cc, path('dvrp-no-such-consent'), v4FormOf(v3), { method: 'PUT' }), 400, 'U011');
    const other = await sandbox.tpp('vrp-v4-other', ['PISP']);
    const otherToken = (await clientCredentialsToken(other.bank, 'payments')).access_token;
    const text = JSON.stringify(v4FormOf(v3));
    const foreign = await callApi(other.bank, otherToken, `${pisp('4.0')}${path(awaiting)}`, {
      method: 'PUT',
      body: text,
      headers: {
        'x-idempotency-key': randomUUID(),
        'x-jws-signature': await signRequestBody(other.bank, other.bundle, text),
      },
    });
    v4Error(foreign, 400, 'U011');
  });

  it('access withdrawn by the PSU at the bank: the consent stays AUTH (Authorised on v3.1.11), its tokens die, re-authentication brings access back', async () => {
    const onV4 = await authorised(sweepingConsent(V4_REMITTANCE));
    const onV3 = await authorised(v3Consent(), '3.1.11');
    const confirm = (token: string, consentId: string, version: Version) =>
      send(
        token,
        `${path(consentId)}/funds-confirmation`,
        {
          Data: {
            ConsentId: consentId,
            Reference: 'SWEEP',
            InstructedAmount: { Amount: '5.00', Currency: 'GBP' },
          },
        },
        { version },
      );
    await withdrawInDashboard(sandbox, 'alice', [onV4.consentId, onV3.consentId]);

    const cc = await clientToken();
    for (const [consent, version, status] of [
      [onV4, '4.0', 'AUTH'],
      [onV3, '3.1.11', 'Authorised'],
    ] as const) {
      const spec = version === '4.0' ? VRP_V4_0 : VRP_V3_1_11;
      const read = await get(cc, path(consent.consentId), version);
      const data = valid('/domestic-vrp-consents/{ConsentId}', 'get', read, spec).Data;
      assert.equal(data.Status, status, 'the VRP profile: "the status … must remain unchanged"');
      assert.equal(data.StatusReason, undefined);
      const refused = await confirm(consent.token, consent.consentId, version);
      assert.equal(refused.status, 401, `the token died with the withdrawal: ${refused.text}`);

      const token = await approve(consent.consentId, { accounts: [current.id] });
      const confirmed = await confirm(token, consent.consentId, version);
      assert.equal(confirmed.status, 201, confirmed.text);
      valid('/domestic-vrp-consents/{ConsentId}/funds-confirmation', 'post', confirmed, spec);
      assert.equal(
        (await confirm(consent.token, consent.consentId, version)).status,
        401,
        'the old one stays dead',
      );
      const again = valid(
        '/domestic-vrp-consents/{ConsentId}',
        'get',
        await get(cc, path(consent.consentId), version),
        spec,
      );
      assert.equal(again.Data.Status, status);
    }
  });
});
