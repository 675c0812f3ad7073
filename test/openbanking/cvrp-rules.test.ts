import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ObError, obErrorBodyV4 } from '../../src/openbanking/errors.ts';
import {
  checkVrpConsentRules,
  checkVrpPaymentRules,
  CVRP_MANDATORY_RISK_FIELDS,
  regimeOfConsent,
  type VrpConsentView,
  type VrpPaymentView,
  type VrpRiskView,
} from '../../src/openbanking/vrp/rules/index.ts';
import { SWEEPING_PAYMENT_RULES } from '../../src/openbanking/vrp/rules/sweeping.ts';
import { enforce } from '../../src/openbanking/vrp/rules/rule.ts';

/**
 * The VRP rules by regime: each cVRP mandatory field missing is refused with the v4.0 StatusReason the
 * profile names (U004 missing, U002 invalid, U014 a breached control parameter), sweeping consents are
 * never held to the cVRP rules, and a consent cannot mix regimes.
 */
function cvrpRisk(): VrpRiskView {
  return {
    PaymentContextCode: 'TransferToThirdParty',
    MerchantCategoryCode: '4900',
    MerchantCustomerIdentification: 'CUST-0042',
    ContractPresentIndicator: true,
    BeneficiaryPrepopulatedIndicator: true,
    PaymentPurposeCode: 'ELEC',
    CategoryPurposeCode: 'SUPP',
    BeneficiaryAccountType: 'Business',
  };
}

function consent(vrpTypes: string[], risk: VrpRiskView, interaction?: string[]): VrpConsentView {
  return {
    Data: {
      ControlParameters: {
        VRPType: vrpTypes,
        ...(interaction ? { PSUInteractionTypes: interaction } : {}),
      },
    },
    Risk: risk,
  };
}

function payment(vrpType: string, risk: VrpRiskView, interaction?: string): VrpPaymentView {
  return {
    Data: { VRPType: vrpType, ...(interaction ? { PSUInteractionType: interaction } : {}) },
    Risk: risk,
  };
}

/** The v4.0 error body of a refusal: [U-code, Path] per entry. */
function refusal(run: () => unknown): [string, string | undefined][] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ObError, `expected an ObError, got ${String(error)}`);
    assert.equal(error.status, 400);
    return obErrorBodyV4(error, 'x').Errors.map((e) => [e.ErrorCode, e.Path]);
  }
  assert.fail('the rule passed');
}

const CVRP1 = 'UK.OBIE.VRPType.CVRP1';
const SWEEPING = 'UK.OBIE.VRPType.Sweeping';

describe('VRP rules by regime', () => {
  describe('cVRP consent rules', () => {
    it('accepts a complete CVRP1, CVRP2 and CVRP3 consent', () => {
      for (const type of ['CVRP1', 'CVRP2', 'CVRP3'])
        assert.equal(
          checkVrpConsentRules(consent([`UK.OBIE.VRPType.${type}`], cvrpRisk(), ['OffSession'])),
          'commercial',
        );
    });

    it('refuses a CVRP1 consent without each mandatory risk field: U004 at Risk.<field>', () => {
      for (const field of CVRP_MANDATORY_RISK_FIELDS) {
        const { [field]: _left, ...risk } = cvrpRisk();
        assert.deepEqual(
          refusal(() => checkVrpConsentRules(consent([CVRP1], risk, ['InSession']))),
          [['U004', `Risk.${field}`]],
          field,
        );
      }
    });

    it('refuses a CVRP1 consent without PSUInteractionTypes, or with none listed: U004', () => {
      for (const interaction of [undefined, []])
        assert.deepEqual(
          refusal(() => checkVrpConsentRules(consent([CVRP1], cvrpRisk(), interaction))),
          [['U004', 'Data.ControlParameters.PSUInteractionTypes']],
        );
    });

    it('names every failure at once', () => {
      assert.deepEqual(
        refusal(() =>
          checkVrpConsentRules(consent(['UK.OBIE.VRPType.CVRP2'], { MerchantCategoryCode: '4900' })),
        ).map(([code, path]) => `${code} ${path}`),
        [
          'U004 Data.ControlParameters.PSUInteractionTypes',
          ...CVRP_MANDATORY_RISK_FIELDS.filter((f) => f !== 'MerchantCategoryCode').map(
            (f) => `U004 Risk.${f}`,
          ),
        ],
      );
    });

    it('refuses a payment context or beneficiary account type cVRP does not accept: U002', () => {
      assert.deepEqual(
        refusal(() =>
          checkVrpConsentRules(
            consent(
              [CVRP1],
              {
                ...cvrpRisk(),
                PaymentContextCode: 'BillingGoodsAndServicesInArrears',
                BeneficiaryAccountType: 'Wealth',
              },
              ['OffSession'],
            ),
          ),
        ),
        [
          ['U002', 'Risk.PaymentContextCode'],
          ['U002', 'Risk.BeneficiaryAccountType'],
        ],
      );
    });

    it('refuses a consent that mixes sweeping and commercial VRP types: U002 at VRPType', () => {
      assert.deepEqual(
        refusal(() => checkVrpConsentRules(consent([SWEEPING, CVRP1], cvrpRisk(), ['OffSession']))),
        [['U002', 'Data.ControlParameters.VRPType']],
      );
      assert.deepEqual(
        refusal(() => regimeOfConsent(['UK.OBIE.VRPType.Other', 'UK.OBIE.VRPType.CVRP3'])),
        [['U002', 'Data.ControlParameters.VRPType']],
      );
    });

    it('holds a sweeping or other consent to none of the cVRP rules', () => {
      assert.equal(checkVrpConsentRules(consent([SWEEPING], {})), 'sweeping');
      assert.equal(checkVrpConsentRules(consent(['UK.OBIE.VRPType.Other'], {})), 'other');
    });
  });

  describe('cVRP payment rules', () => {
    it('accepts a complete CVRP1 payment under a CVRP1 consent', () => {
      assert.equal(checkVrpPaymentRules(payment(CVRP1, cvrpRisk(), 'OffSession'), [CVRP1]), 'commercial');
    });

    it('refuses a payment without PSUInteractionType: U004', () => {
      assert.deepEqual(
        refusal(() => checkVrpPaymentRules(payment(CVRP1, cvrpRisk()), [CVRP1])),
        [['U004', 'Data.PSUInteractionType']],
      );
    });

    it('refuses a CVRP1 payment without each mandatory risk field: U004 at Risk.<field>', () => {
      for (const field of CVRP_MANDATORY_RISK_FIELDS) {
        const { [field]: _left, ...risk } = cvrpRisk();
        assert.deepEqual(
          refusal(() => checkVrpPaymentRules(payment(CVRP1, risk, 'InSession'), [CVRP1])),
          [['U004', `Risk.${field}`]],
          field,
        );
      }
    });

    it('refuses a payment of a VRP type its consent does not allow: U014 at Data.VRPType', () => {
      assert.deepEqual(
        refusal(() =>
          checkVrpPaymentRules(payment('UK.OBIE.VRPType.CVRP2', cvrpRisk(), 'InSession'), [CVRP1]),
        ),
        [['U014', 'Data.VRPType']],
      );
      assert.deepEqual(
        refusal(() => checkVrpPaymentRules(payment(CVRP1, cvrpRisk(), 'InSession'), [SWEEPING])),
        [['U014', 'Data.VRPType']],
      );
    });

    it('holds a sweeping payment to none of the cVRP rules', () => {
      assert.equal(checkVrpPaymentRules(payment(SWEEPING, {}), [SWEEPING]), 'sweeping');
    });
  });

  describe('sweeping payment rules', () => {
    const facts = (creditorHeldByPsu: boolean | undefined, creditorName: string) => ({
      creditorHeldByPsu,
      creditorName,
      debtorName: 'Alice Smith',
    });

    it("accepts the PSU's own account here, or an account elsewhere in the same name", () => {
      enforce(SWEEPING_PAYMENT_RULES, facts(true, 'Alice savings'));
      enforce(SWEEPING_PAYMENT_RULES, facts(undefined, 'ALICE  SMITH.'));
    });

    it("refuses another customer's account here, or an account elsewhere in another name: U014", () => {
      for (const refused of [facts(false, 'Alice Smith'), facts(undefined, 'Bob Jones')])
        assert.deepEqual(
          refusal(() => enforce(SWEEPING_PAYMENT_RULES, refused)),
          [['U014', 'Data.Instruction.CreditorAccount']],
        );
    });
  });
});
