import type {
  AccountRecord,
  Balance,
  Beneficiary,
  DirectDebit,
  Offer,
  Party,
  Product,
  ScheduledPayment,
  StandingOrder,
  Statement,
  Transaction,
} from '../../bank/index.ts';
import type { ApiVersion } from '../versions.ts';
import * as v3 from './v3.1.11/mapping.ts';
import * as v4 from './v4.0/mapping.ts';

/**
 * What a version of Account Information supplies: its wire objects from the bank's domain. The route
 * handlers (account-information.ts) are one for every version and call these.
 */
export interface AisWireMapping {
  mapAccount(account: AccountRecord, permissions: v3.Permissions): object;
  mapBalances(balance: Balance, at: Date): object[];
  mapTransaction(transaction: Transaction, access: v3.TransactionAccess): object;
  mapBeneficiary(beneficiary: Beneficiary, permissions: v3.Permissions): object;
  mapDirectDebit(directDebit: DirectDebit): object;
  mapStandingOrder(order: StandingOrder, permissions: v3.Permissions): object;
  mapScheduledPayment(payment: ScheduledPayment, permissions: v3.Permissions): object;
  mapStatement(statement: Statement, permissions: v3.Permissions): object;
  mapProduct(accountId: string, product: Product): object;
  mapOffer(offer: Offer): object;
  mapParty(party: Party, accountRole?: string): object;
}

export const AIS_WIRE: Record<ApiVersion, AisWireMapping> = { 'v3.1.11': v3, 'v4.0': v4 };
