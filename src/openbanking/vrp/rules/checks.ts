import type { VrpConsentCheck } from '../consent-checks.ts';
import type { VrpPaymentCheck } from '../payment-checks.ts';
import { checkVrpConsentRules, checkVrpPaymentRules } from './index.ts';
import type { VrpRiskView } from './views.ts';

/**
 * The regime rules (regimes.ts, commercial.ts) as entries of v4.0's check tables. Risk has been parsed by
 * v4.0's OBRisk1 schema before any check runs, so its fields have the types VrpRiskView names.
 */
export const vrpTypeConsentRules: VrpConsentCheck = {
  name: 'one VRP regime, and its rules (commercial VRP: PSUInteractionTypes and the risk indicators)',
  run(request) {
    checkVrpConsentRules({
      Data: { ControlParameters: request.Data.ControlParameters },
      Risk: request.Risk as VrpRiskView,
    });
  },
};

export const vrpTypePaymentRules: VrpPaymentCheck = {
  name: "the VRP type is the consent's, and its regime's rules (commercial VRP: PSUInteractionType and the risk indicators)",
  run({ control, data, risk }) {
    checkVrpPaymentRules({ Data: data, Risk: risk as VrpRiskView }, control.VRPType);
  },
};
