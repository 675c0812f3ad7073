import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  balanceOf,
  findCustomerByUsername,
  listCustomerAccounts,
  verifyLedger,
} from '../../src/bank/index.ts';
import { apiBaseOf } from '../../src/tpp/open-banking.ts';
import { startSandbox, type Tpp } from '../support/journey.ts';
import { CVRP_V4_0, VRP_V3_1_11, VRP_V4_0 } from '../support/openapi.ts';
import { pisClient, type Answer } from '../support/pis-client.ts';

type Json = Record<string, unknown>;

/**
 * Commercial VRP (the cVRP profile of v4.0 VRP) through the composed sandbox: each field the cVRP rules make
 * mandatory, missing, is refused with U004 naming it; a CVRP1 consent is staged, authorised and paid with
 * every answer valid against specs/ob-cvrp/v4.0/cvrp-openapi.json; its limits hold under concurrent
 * payments; and Sweeping consents keep the sweeping rules, not the commercial ones.
 */
describe('commercial VRP through the composed sandbox', async () => {
  const sandbox = await startSandbox();
  const db = sandbox.platform.store.db;
  const tpp: Tpp = await sandbox.tpp('cvrp-biller', ['PISP']);
  const { bank } = tpp;
  const alice = await findCustomerByUsername(db, 'alice');
  const aliceAccounts = await listCustomerAccounts(db, alice!.id);
  const current = aliceAccounts.find((account) => account.nickname === 'Everyday')!;
  const saver = aliceAccounts.find((account) => account.nickname === 'Rainy day')!;
  const bob = await findCustomerByUsername(db, 'bob');
  const bobAccount = (await listCustomerAccounts(db, bob!.id))[0]!;
  const scan = (account: { sortCode: string | null; accountNumber: string | null }, name: string) => ({
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: `${account.sortCode}${account.accountNumber}`,
    Name: name,
  });
  // The biller's collection account at another bank.
  const merchant = {
    SchemeName: 'UK.OBIE.SortCodeAccountNumber',
    Identification: '40400412345678',
    Name: 'Pay Collect Ltd',
  };
  const REMITTANCE = { Structured: [{ CreditorReferenceInformation: { Reference: 'BE-0042' } }] };

  const client = pisClient(sandbox, tpp, CVRP_V4_0);
  const { clientToken, get, pisp, send, valid } = client;

  /** A 400 valid against `spec`, whose Errors are exactly `expected` ([U-code, Path]). */
  function refused(
    answer: Answer,
    path: string,
    expected: [string, string][],
    spec = CVRP_V4_0,
    method = 'post',
  ): void {
    assert.equal(answer.status, 400, answer.text);
    const body = valid(path, method, answer, spec);
    assert.deepEqual(
      (body.Errors ?? []).map((e) => [e.ErrorCode, e.Path]),
      expected,
    );
  }

  const cvrpRisk = (): Json => ({
    PaymentContextCode: 'TransferToThirdParty',
    MerchantCategoryCode: '4900',
    MerchantCustomerIdentification: 'BE-0042',
    ContractPresentIndicator: true,
    BeneficiaryPrepopulatedIndicator: true,
    PaymentPurposeCode: 'ELEC',
    CategoryPurposeCode: 'SUPP',
    BeneficiaryAccountType: 'Business',
  });

  /** A CVRP1 consent: at most 10.00 a payment and 30.00 a year from consent. */
  function cvrpConsent() {
    return {
      Data: {
        ReadRefundAccount: 'No',
        ControlParameters: {
          ValidToDateTime: '2030-12-31T00:00:00+00:00',
          MaximumIndividualAmount: { Amount: '10.00', Currency: 'GBP' },
          PeriodicLimits: [
            { PeriodType: 'Year', PeriodAlignment: 'Consent', Amount: '30.00', Currency: 'GBP' },
          ],
          VRPType: ['UK.OBIE.VRPType.CVRP1'] as string[],
          PSUAuthenticationMethods: ['UK.OBIE.SCANotRequired'],
          PSUInteractionTypes: ['InSession', 'OffSession'] as string[] | undefined,
        },
        Initiation: {
          CreditorAccount: merchant,
          UltimateCreditor: { Name: 'Bright Energy' },
          RemittanceInformation: REMITTANCE,
        } as Json,
      },
      Risk: cvrpRisk(),
    };
  }
  type ConsentBody = ReturnType<typeof cvrpConsent>;

  async function authorised(body: ConsentBody, spec = CVRP_V4_0, base = pisp) {
    const staged = await send(await clientToken(), '/domestic-vrp-consents', body, { base });
    assert.equal(staged.status, 201, staged.text);
    const consentId = String(valid('/domestic-vrp-consents', 'post', staged, spec).Data.ConsentId);
    return { consentId, token: await client.approve(consentId, { accounts: [current.id] }) };
  }

  function payment(consentId: string, body: ConsentBody, amount: string, creditor: Json = merchant) {
    return {
      Data: {
        ConsentId: consentId,
        PSUAuthenticationMethod: 'UK.OBIE.SCANotRequired',
        PSUInteractionType: 'OffSession' as string | undefined,
        VRPType: body.Data.ControlParameters.VRPType[0]!,
        Initiation: body.Data.Initiation,
        Instruction: {
          InstructionIdentification: `i-${randomUUID().slice(0, 8)}`,
          EndToEndIdentification: 'E2E-CVRP',
          InstructedAmount: { Amount: amount, Currency: 'GBP' },
          CreditorAccount: creditor,
          RemittanceInformation: body.Data.Initiation['RemittanceInformation'],
        },
      },
      Risk: body.Risk,
    };
  }

  it('refuses a CVRP1 consent missing each mandatory field, with U004 naming it', async () => {
    const cc = await clientToken();
    const noInteraction = cvrpConsent();
    delete noInteraction.Data.ControlParameters.PSUInteractionTypes;
    refused(await send(cc, '/domestic-vrp-consents', noInteraction), '/domestic-vrp-consents', [
      ['U004', 'Data.ControlParameters.PSUInteractionTypes'],
    ]);
    for (const field of Object.keys(cvrpRisk())) {
      const body = cvrpConsent();
      delete body.Risk[field];
      refused(await send(cc, '/domestic-vrp-consents', body), '/domestic-vrp-consents', [
        ['U004', `Risk.${field}`],
      ]);
    }
    // A value the cVRP scheme does not accept, and sweeping mixed with commercial, are U002.
    const arrears = cvrpConsent();
    arrears.Risk['PaymentContextCode'] = 'BillingGoodsAndServicesInArrears';
    refused(await send(cc, '/domestic-vrp-consents', arrears), '/domestic-vrp-consents', [
      ['U002', 'Risk.PaymentContextCode'],
    ]);
    const mixed = cvrpConsent();
    mixed.Data.ControlParameters.VRPType = ['UK.OBIE.VRPType.Sweeping', 'UK.OBIE.VRPType.CVRP1'];
    refused(await send(cc, '/domestic-vrp-consents', mixed), '/domestic-vrp-consents', [
      ['U002', 'Data.ControlParameters.VRPType'],
    ]);
  });

  it('stages, authorises and pays a CVRP1 consent, every answer valid against the cVRP file', async () => {
    const body = cvrpConsent();
    const { consentId, token } = await authorised(body);
    const cc = await clientToken();
    const consent = valid(
      '/domestic-vrp-consents/{ConsentId}',
      'get',
      await get(cc, `/domestic-vrp-consents/${consentId}`),
    ).Data;
    assert.equal(consent.Status, 'AUTH');
    assert.deepEqual((consent.ControlParameters as Json).VRPType, ['UK.OBIE.VRPType.CVRP1']);

    const before = await balanceOf(db, current.id);
    const paid = await send(token, '/domestic-vrps', payment(consentId, body, '7.50'));
    assert.equal(paid.status, 201, paid.text);
    const data = valid('/domestic-vrps', 'post', paid).Data;
    // Paid out to another bank: settled on the debtor's side.
    assert.equal(data.Status, 'ACSC');
    assert.equal(before.bookedMinor - (await balanceOf(db, current.id)).bookedMinor, 750n);
    const id = String(data.DomesticVRPId);
    valid('/domestic-vrps/{DomesticVRPId}', 'get', await get(cc, `/domestic-vrps/${id}`));
    valid(
      '/domestic-vrps/{DomesticVRPId}/payment-details',
      'get',
      await get(cc, `/domestic-vrps/${id}/payment-details`),
    );

    // A payment must carry PSUInteractionType and every risk indicator too (U004), before being matched to
    // its consent; a VRP type the consent does not allow is U014.
    const noInteraction = payment(consentId, body, '1.00');
    delete noInteraction.Data.PSUInteractionType;
    refused(await send(token, '/domestic-vrps', noInteraction), '/domestic-vrps', [
      ['U004', 'Data.PSUInteractionType'],
    ]);
    const noPurpose = payment(consentId, body, '1.00');
    noPurpose.Risk = { ...body.Risk };
    delete noPurpose.Risk['PaymentPurposeCode'];
    refused(await send(token, '/domestic-vrps', noPurpose), '/domestic-vrps', [
      ['U004', 'Risk.PaymentPurposeCode'],
    ]);
    const otherType = payment(consentId, body, '1.00');
    otherType.Data.VRPType = 'UK.OBIE.VRPType.CVRP2';
    refused(await send(token, '/domestic-vrps', otherType), '/domestic-vrps', [['U014', 'Data.VRPType']]);
    assert.equal(before.bookedMinor - (await balanceOf(db, current.id)).bookedMinor, 750n);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('holds the limits under concurrent payments: 10 at once against room for 3, exactly 3 paid', async () => {
    const body = cvrpConsent();
    const { consentId, token } = await authorised(body);
    const before = await balanceOf(db, current.id);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => send(token, '/domestic-vrps', payment(consentId, body, '10.00'))),
    );
    const accepted = answers.filter((answer) => answer.status === 201);
    assert.equal(accepted.length, 3, answers.map((answer) => answer.text).join('\n'));
    for (const answer of accepted) assert.equal(valid('/domestic-vrps', 'post', answer).Data.Status, 'ACSC');
    for (const answer of answers.filter((a) => a.status !== 201))
      refused(answer, '/domestic-vrps', [['U014', 'Data.ControlParameters.PeriodicLimits.0']]);
    assert.equal(before.bookedMinor - (await balanceOf(db, current.id)).bookedMinor, 3000n);
    assert.deepEqual(await verifyLedger(db), []);
  });

  it('applies the regime rules to a consent moved to v4.0 by PUT or PATCH', async () => {
    // A sweeping consent staged and authorised on v3.1.11 (no remittance: its v4.0 form is the same body).
    const v3 = cvrpConsent();
    v3.Data.ControlParameters.VRPType = ['UK.OBIE.VRPType.Sweeping'];
    v3.Data.ControlParameters.PSUInteractionTypes = ['OffSession'];
    v3.Data.Initiation = { CreditorAccount: scan(saver, 'Savings') };
    v3.Risk = { PaymentContextCode: 'TransferToSelf' };
    const { consentId } = await authorised(v3, VRP_V3_1_11, `${apiBaseOf(bank, undefined, '3.1.11')}/pisp`);
    const cc = await clientToken();
    const at = `/domestic-vrp-consents/${consentId}`;
    // Made commercial on the way: the cVRP risk indicators are missing (U004, each named).
    const asCvrp = structuredClone(v3);
    asCvrp.Data.ControlParameters.VRPType = ['UK.OBIE.VRPType.CVRP1'];
    refused(
      await send(cc, at, asCvrp, { method: 'PUT' }),
      '/domestic-vrp-consents/{ConsentId}',
      Object.keys(cvrpRisk())
        .filter((field) => field !== 'PaymentContextCode')
        .map((field) => ['U004', `Risk.${field}`]),
      CVRP_V4_0,
      'put',
    );
    // Sweeping and commercial in one consent: U002.
    refused(
      await send(
        cc,
        at,
        [
          {
            op: 'replace',
            path: '/Data/ControlParameters/VRPType',
            value: ['UK.OBIE.VRPType.Sweeping', 'UK.OBIE.VRPType.CVRP1'],
          },
        ],
        { method: 'PATCH', contentType: 'application/json-patch+json' },
      ),
      '/domestic-vrp-consents/{ConsentId}',
      [['U002', 'Data.ControlParameters.VRPType']],
      CVRP_V4_0,
      'patch',
    );
    // As it was authorised, it moves.
    const moved = await send(cc, at, v3, { method: 'PUT' });
    assert.equal(moved.status, 200, moved.text);
    valid('/domestic-vrp-consents/{ConsentId}', 'put', moved);
  });

  it('keeps the sweeping rules for Sweeping consents, and none of the commercial ones', async () => {
    const sweeping = (creditor: Json) => {
      const body = cvrpConsent();
      body.Data.ControlParameters.VRPType = ['UK.OBIE.VRPType.Sweeping'];
      body.Data.ControlParameters.PSUInteractionTypes = undefined;
      delete body.Data.ControlParameters.PSUInteractionTypes;
      body.Data.Initiation = { RemittanceInformation: REMITTANCE };
      body.Risk = {};
      return { body, creditor };
    };
    // No cVRP risk indicators and no PSUInteractionTypes are asked of a sweeping consent: staged as v4.0 VRP.
    const own = sweeping(scan(saver, 'Savings'));
    const { consentId, token } = await authorised(own.body, VRP_V4_0);
    const to = (creditor: Json) => payment(consentId, own.body, '1.00', creditor);
    const ownPaid = await send(token, '/domestic-vrps', to(own.creditor));
    assert.equal(ownPaid.status, 201, ownPaid.text);
    valid('/domestic-vrps', 'post', ownPaid, VRP_V4_0);
    // Into another customer's account here, or an account elsewhere in another name: not sweeping (U014).
    for (const creditor of [scan(bobAccount, 'Savings'), merchant])
      refused(
        await send(token, '/domestic-vrps', to(creditor)),
        '/domestic-vrps',
        [['U014', 'Data.Instruction.CreditorAccount']],
        VRP_V4_0,
      );
    // An account elsewhere in alice's own name is hers.
    const elsewhere = await send(token, '/domestic-vrps', to({ ...merchant, Name: current.name }));
    assert.equal(elsewhere.status, 201, elsewhere.text);
    assert.deepEqual(await verifyLedger(db), []);
  });
});
