/**
 * What the VRP rules read of a request, after its shape was checked against the version's OpenAPI file:
 * the v4.0 consent request (POST, and the consent a PUT or PATCH leaves) and the payment request.
 */
export interface VrpRiskView {
  PaymentContextCode?: string | undefined;
  MerchantCategoryCode?: string | undefined;
  MerchantCustomerIdentification?: string | undefined;
  ContractPresentIndicator?: boolean | undefined;
  BeneficiaryPrepopulatedIndicator?: boolean | undefined;
  PaymentPurposeCode?: string | undefined;
  CategoryPurposeCode?: string | undefined;
  BeneficiaryAccountType?: string | undefined;
  DeliveryAddress?: unknown;
}

export interface VrpConsentView {
  Data: {
    ControlParameters: {
      VRPType: readonly string[];
      PSUInteractionTypes?: readonly string[] | undefined;
    };
  };
  Risk: VrpRiskView;
}

export interface VrpPaymentView {
  Data: {
    VRPType: string;
    PSUInteractionType?: string | undefined;
  };
  Risk: VrpRiskView;
}
