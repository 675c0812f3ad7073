/**
 * Account Information v4.0: the v3.1.11 mappings (same domain, same permission rules: Basic vs Detail,
 * Credits/Debits, ReadPAN) with what v4.0 changed on the wire — ISO 20022 codes where v3.1.11 had
 * words (entry statuses BOOK/PDNG, balance types ITBD/ITAV, mandate statuses ACTV/…, address types
 * HOME/…), `AccountCategory`/`AccountTypeCode` for `AccountType`/`AccountSubType`, `OBPostalAddress7`,
 * and the mandate-related information (identification, frequency, dates) of direct debits and standing
 * orders (the standing order's reference as unstructured remittance information). Pure: starting from the v3.1.11 object keeps money, dates and identifiers the same on both.
 */
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
} from '../../../bank/index.ts';
import * as v3 from '../v3.1.11/mapping.ts';

type Wire = Record<string, unknown>;

/** v3.1.11 `AccountSubType` → v4.0 `AccountTypeCode` (ISO 20022 ExternalCashAccountType1Code). */
const ACCOUNT_TYPE_CODES: Record<string, string> = {
  CurrentAccount: 'CACC',
  Savings: 'SVGS',
  CreditCard: 'CARD',
  ChargeCard: 'CARD',
  PrePaidCard: 'CARD',
  EMoney: 'WALT',
  Loan: 'LOAN',
  Mortgage: 'MORT',
};

/** v3.1.11 balance types → v4.0 OBBalanceType1Code. */
const BALANCE_TYPES: Record<string, string> = {
  ClosingAvailable: 'CLAV',
  ClosingBooked: 'CLBD',
  ForwardAvailable: 'FWAV',
  Information: 'INFO',
  InterimAvailable: 'ITAV',
  InterimBooked: 'ITBD',
  OpeningAvailable: 'OPAV',
  OpeningBooked: 'OPBD',
  PreviouslyClosedBooked: 'PRCD',
  Expected: 'XPCD',
};

/** v3.1.11 entry statuses → v4.0 ExternalEntryStatus1Code. */
const ENTRY_STATUSES: Record<string, string> = {
  Booked: 'BOOK',
  Pending: 'PDNG',
  Rejected: 'RJCT',
};

/**
 * The bank's mandate statuses → v4.0 ExternalMandateStatus1Code. An inactive mandate no longer
 * collects or pays: cancelled (CANC), the code the ISO list gives a mandate that has been stopped.
 */
const MANDATE_STATUSES: Record<string, string> = { Active: 'ACTV', Inactive: 'CANC' };

/** v3.1.11 address types → v4.0 OBAddressType2Code. */
export const ADDRESS_TYPES: Record<string, string> = {
  Business: 'BIZZ',
  Correspondence: 'CORR',
  DeliveryTo: 'DLVY',
  MailTo: 'MLTO',
  POBox: 'PBOX',
  Postal: 'ADDR',
  Residential: 'HOME',
  Statement: 'STAT',
};

/** The bank's direct-debit frequency words → v4.0 OBFrequency6Code. */
const FREQUENCY_CODES: Record<string, string> = {
  'UK.OBIE.Annual': 'YEAR',
  'UK.OBIE.Daily': 'DAIL',
  'UK.OBIE.Fortnightly': 'FRTN',
  'UK.OBIE.HalfYearly': 'MIAN',
  'UK.OBIE.Monthly': 'MNTH',
  'UK.OBIE.Quarterly': 'QURT',
  'UK.OBIE.Weekly': 'WEEK',
};

/**
 * An OBFrequency6 from a stored frequency: a v4.0 code where one means the same, else the v3.1.x
 * schedule pattern (`IntrvlMnthDay:01:15`, …), which v4.0 still accepts as `Type`; `NotKnown` without one.
 */
function frequency(stored: string | null | undefined): { Type: string } {
  if (!stored) return { Type: 'NotKnown' };
  return { Type: FREQUENCY_CODES[stored] ?? stored };
}

function mapped(table: Record<string, string>, value: unknown): unknown {
  return typeof value === 'string' ? (table[value] ?? value) : value;
}

function withoutUndefined<T extends Wire>(object: T): T {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}

export const AIS_PERMISSIONS = v3.AIS_PERMISSIONS;
export type AisPermission = v3.AisPermission;
export type Permissions = v3.Permissions;
export const transactionAccess = v3.transactionAccess;
export type TransactionAccess = v3.TransactionAccess;

export function mapAccount(account: AccountRecord, permissions: Permissions): Wire {
  const { AccountType, AccountSubType, ...rest } = v3.mapAccount(account, permissions);
  const wire: Wire = { ...rest };
  // Key order as the v4.0 OBAccount6 lists them (Currency, AccountCategory, AccountTypeCode, …).
  const ordered: Wire = {};
  for (const [key, value] of Object.entries(wire)) {
    ordered[key] = value;
    if (key === 'Currency') {
      ordered.AccountCategory = AccountType;
      ordered.AccountTypeCode = ACCOUNT_TYPE_CODES[AccountSubType] ?? 'OTHR';
    }
  }
  return ordered;
}

export function mapBalances(balance: Balance, at: Date): Wire[] {
  return v3.mapBalances(balance, at).map((entry) => ({ ...entry, Type: mapped(BALANCE_TYPES, entry.Type) }));
}

export function mapTransaction(transaction: Transaction, access: TransactionAccess): Wire {
  const wire: Wire = { ...v3.mapTransaction(transaction, access) };
  wire.Status = mapped(ENTRY_STATUSES, wire.Status);
  const balance = wire.Balance as Wire | undefined;
  if (balance) wire.Balance = { ...balance, Type: mapped(BALANCE_TYPES, balance.Type) };
  return wire;
}

export function mapBeneficiary(beneficiary: Beneficiary, permissions: Permissions): Wire {
  return v3.mapBeneficiary(beneficiary, permissions);
}

/** OBReadDirectDebit2 of v4.0: the mandate's identification and frequency under MandateRelatedInformation. */
export function mapDirectDebit(directDebit: DirectDebit): Wire {
  const wire = v3.mapDirectDebit(directDebit);
  return withoutUndefined({
    AccountId: wire.AccountId,
    DirectDebitId: wire.DirectDebitId,
    DirectDebitStatusCode: mapped(MANDATE_STATUSES, wire.DirectDebitStatusCode),
    MandateRelatedInformation: withoutUndefined({
      MandateIdentification: wire.MandateIdentification,
      Frequency: frequency(directDebit.frequency),
    }),
    Name: wire.Name,
    PreviousPaymentDateTime: wire.PreviousPaymentDateTime,
    PreviousPaymentAmount: wire.PreviousPaymentAmount,
  });
}

/**
 * OBStandingOrder6 of v4.0: the schedule (frequency, first and final payment dates) moves under
 * MandateRelatedInformation and the reference under RemittanceInformation.
 */
export function mapStandingOrder(order: StandingOrder, permissions: Permissions): Wire {
  const {
    Frequency,
    Reference,
    FirstPaymentDateTime,
    FinalPaymentDateTime,
    StandingOrderStatusCode,
    ...rest
  } = v3.mapStandingOrder(order, permissions);
  return withoutUndefined({
    ...rest,
    StandingOrderStatusCode: mapped(MANDATE_STATUSES, StandingOrderStatusCode),
    MandateRelatedInformation: withoutUndefined({
      FirstPaymentDateTime,
      FinalPaymentDateTime,
      Frequency: frequency(Frequency as string | undefined),
    }),
    RemittanceInformation: Reference !== undefined ? { Unstructured: [Reference] } : undefined,
  });
}

export function mapScheduledPayment(payment: ScheduledPayment, permissions: Permissions): Wire {
  return v3.mapScheduledPayment(payment, permissions);
}

export function mapStatement(statement: Statement, permissions: Permissions): Wire {
  return v3.mapStatement(statement, permissions);
}

export function mapProduct(accountId: string, product: Product): Wire {
  return v3.mapProduct(accountId, product);
}

export function mapOffer(offer: Offer): Wire {
  return v3.mapOffer(offer);
}

/** OBParty2 of v4.0: addresses are OBPostalAddress7, with ISO address type codes. */
export function mapParty(party: Party, accountRole?: string): Wire {
  const wire = v3.mapParty(party, accountRole);
  const addresses = wire.Address as Wire[] | undefined;
  if (addresses) {
    wire.Address = addresses.map((address) => ({
      ...address,
      AddressType: mapped(ADDRESS_TYPES, address.AddressType),
    }));
  }
  return wire;
}
