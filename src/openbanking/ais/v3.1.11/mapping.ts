/**
 * Account Information v3.1.11: pure mappings from the bank's domain (src/bank) to the wire objects
 * (OBReadAccount6, OBReadBalance1, OBReadTransaction6, …), with the consent's permissions applied:
 * Basic vs Detail, Credits/Debits, ReadPAN. No I/O: the route handlers fetch, these shape.
 * A later version (v4.0) is another folder of mappings over the same domain.
 */
import {
  fromMinor,
  maskPan,
  type AccountRecord,
  type Balance,
  type Beneficiary,
  type Counterparty,
  type DirectDebit,
  type Offer,
  type Party,
  type Product,
  type ScheduledPayment,
  type StandingOrder,
  type Statement,
  type Transaction,
} from '../../../bank/index.ts';
import { ACCOUNT_PERMISSIONS, type AccountPermission } from '../../../consent/index.ts';
import { obDateTime } from '../../http/wire.ts';

/** The account-access permissions are the consent part's; the wire mapping only filters by them. */
export const AIS_PERMISSIONS = ACCOUNT_PERMISSIONS;
export type AisPermission = AccountPermission;
export type Permissions = ReadonlySet<string> | readonly string[];

/** The BIC of the model bank (Servicer of its accounts). */
export const BANK_BIC = 'OBKTGB2L';

function has(permissions: Permissions, permission: AisPermission): boolean {
  return Array.isArray(permissions)
    ? permissions.includes(permission)
    : (permissions as ReadonlySet<string>).has(permission);
}

/** Trims to the spec's maximum length; empty or missing becomes undefined (never an empty string). */
function clip(value: string | null | undefined, max: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  return text.length === 0 ? undefined : text.slice(0, max);
}

/** Drops undefined members so the object has only the keys with values. */
function compact<T extends Record<string, unknown>>(object: T): T {
  for (const key of Object.keys(object)) if (object[key] === undefined) delete object[key];
  return object;
}

export interface OBAmount {
  Amount: string;
  Currency: string;
}

function amount(minor: bigint, currency: string): OBAmount {
  return { Amount: fromMinor(minor < 0n ? -minor : minor, currency), Currency: currency };
}

function creditDebit(minor: bigint): 'Credit' | 'Debit' {
  return minor < 0n ? 'Debit' : 'Credit';
}

function dateTime(value: Date | null | undefined): string | undefined {
  return value ? obDateTime(value) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Accounts

export interface OBAccountIdentification {
  SchemeName: string;
  Identification: string;
  Name?: string;
  SecondaryIdentification?: string;
}

export interface OBAccount6 {
  AccountId: string;
  Status?: string;
  StatusUpdateDateTime?: string;
  Currency: string;
  AccountType: string;
  AccountSubType: string;
  Description?: string;
  Nickname?: string;
  OpeningDate?: string;
  MaturityDate?: string;
  Account?: OBAccountIdentification[];
  Servicer?: { SchemeName: string; Identification: string };
}

/** Whether the consent lets the TPP read accounts at all (Basic or Detail). */
export function canReadAccounts(permissions: Permissions): boolean {
  return has(permissions, 'ReadAccountsBasic') || has(permissions, 'ReadAccountsDetail');
}

export function mapAccount(account: AccountRecord, permissions: Permissions): OBAccount6 {
  const wire: OBAccount6 = compact({
    AccountId: account.id,
    Status: account.status,
    StatusUpdateDateTime: obDateTime(account.statusUpdatedAt),
    Currency: account.currency,
    AccountType: account.accountType ?? 'Personal',
    AccountSubType: account.accountSubType,
    Description: clip(account.description, 35),
    Nickname: clip(account.nickname, 70),
    OpeningDate: obDateTime(new Date(`${account.openingDate}T00:00:00Z`)),
    MaturityDate: account.maturityDate
      ? obDateTime(new Date(`${account.maturityDate}T00:00:00Z`))
      : undefined,
  });
  if (has(permissions, 'ReadAccountsDetail')) {
    const name = clip(account.name, 350);
    const identifications: OBAccountIdentification[] = [];
    if (account.sortCode && account.accountNumber) {
      identifications.push(
        compact({
          SchemeName: 'UK.OBIE.SortCodeAccountNumber',
          Identification: `${account.sortCode}${account.accountNumber}`,
          Name: name,
          SecondaryIdentification: clip(account.secondaryIdentification, 34),
        }),
      );
    }
    if (account.iban)
      identifications.push(compact({ SchemeName: 'UK.OBIE.IBAN', Identification: account.iban, Name: name }));
    if (account.pan) {
      identifications.push(
        compact({
          SchemeName: 'UK.OBIE.PAN',
          Identification: has(permissions, 'ReadPAN') ? account.pan : maskPan(account.pan),
          Name: name,
        }),
      );
    }
    wire.Account = identifications;
    wire.Servicer = { SchemeName: 'UK.OBIE.BICFI', Identification: BANK_BIC };
  }
  return wire;
}

// ---------------------------------------------------------------------------------------------------
// Balances

export interface OBCashBalance {
  AccountId: string;
  CreditDebitIndicator: 'Credit' | 'Debit';
  Type: string;
  DateTime: string;
  Amount: OBAmount;
  CreditLine?: { Included: boolean; Type?: string; Amount?: OBAmount }[];
}

/**
 * InterimBooked (Booked postings) and InterimAvailable (booked plus pending debits), each with the
 * credit line (overdraft / card limit) when there is one; the balances do not include it.
 */
export function mapBalances(balance: Balance, at: Date): OBCashBalance[] {
  const creditLine =
    balance.creditLimitMinor > 0n
      ? [
          compact({
            Included: false,
            Type: balance.creditLineType ?? 'Pre-Agreed',
            Amount: amount(balance.creditLimitMinor, balance.currency),
          }),
        ]
      : undefined;
  const entry = (type: string, minor: bigint): OBCashBalance =>
    compact({
      AccountId: balance.accountId,
      CreditDebitIndicator: creditDebit(minor),
      Type: type,
      DateTime: obDateTime(at),
      Amount: amount(minor, balance.currency),
      CreditLine: creditLine,
    });
  return [entry('InterimBooked', balance.bookedMinor), entry('InterimAvailable', balance.availableMinor)];
}

// ---------------------------------------------------------------------------------------------------
// Transactions

export interface TransactionAccess {
  /** False when the consent allows no transactions at all. */
  allowed: boolean;
  detail: boolean;
  /** Restrict to one direction when only one of Credits/Debits is granted. */
  creditDebit?: 'Credit' | 'Debit';
  /** Unmasked PANs. */
  pan: boolean;
}

/**
 * What a consent's permissions allow of transactions: Basic or Detail, and Credits, Debits or both
 * (at least one of each pair is needed).
 */
export function transactionAccess(permissions: Permissions): TransactionAccess {
  const detail = has(permissions, 'ReadTransactionsDetail');
  const basic = detail || has(permissions, 'ReadTransactionsBasic');
  const credits = has(permissions, 'ReadTransactionsCredits');
  const debits = has(permissions, 'ReadTransactionsDebits');
  const allowed = basic && (credits || debits);
  return {
    allowed,
    detail,
    pan: has(permissions, 'ReadPAN'),
    ...(allowed && credits !== debits
      ? { creditDebit: credits ? ('Credit' as const) : ('Debit' as const) }
      : {}),
  };
}

interface OBCashAccount {
  SchemeName?: string;
  Identification?: string;
  Name?: string;
  SecondaryIdentification?: string;
}

function cashAccount(counterparty: Counterparty | null | undefined): OBCashAccount | undefined {
  if (!counterparty) return undefined;
  const wire = compact({
    SchemeName: clip(counterparty.schemeName, 40),
    Identification: clip(counterparty.identification, 256),
    Name: clip(counterparty.name, 350),
    SecondaryIdentification: clip(counterparty.secondaryIdentification, 34),
  });
  return Object.keys(wire).length ? wire : undefined;
}

function agent(counterparty: Counterparty | null | undefined): Record<string, string> | undefined {
  const a = counterparty?.agent;
  if (!a) return undefined;
  const wire = compact({
    SchemeName: clip(a.schemeName, 40),
    Identification: clip(a.identification, 35),
    Name: clip(a.name, 140),
  });
  return Object.keys(wire).length ? (wire as Record<string, string>) : undefined;
}

/** An identified account (SchemeName and Identification both required), or nothing. */
function identifiedAccount(
  counterparty: Counterparty | null | undefined,
): OBAccountIdentification | undefined {
  const wire = cashAccount(counterparty);
  return wire?.SchemeName && wire.Identification ? (wire as OBAccountIdentification) : undefined;
}

/** An identified agent (SchemeName and Identification both required), or nothing. */
function identifiedAgent(
  counterparty: Counterparty | null | undefined,
): { SchemeName: string; Identification: string } | undefined {
  const a = agent(counterparty);
  return a?.SchemeName && a.Identification
    ? { SchemeName: a.SchemeName, Identification: a.Identification }
    : undefined;
}

export type OBTransaction6 = Record<string, unknown> & {
  AccountId: string;
  CreditDebitIndicator: 'Credit' | 'Debit';
  Status: string;
  BookingDateTime: string;
  Amount: OBAmount;
};

export function mapTransaction(transaction: Transaction, access: TransactionAccess): OBTransaction6 {
  const t = transaction;
  const wire: OBTransaction6 = compact({
    AccountId: t.accountId,
    TransactionId: t.id,
    TransactionReference: clip(t.transactionReference, 210),
    CreditDebitIndicator: t.creditDebit,
    Status: t.status,
    TransactionMutability: t.status === 'Pending' ? 'Mutable' : 'Immutable',
    BookingDateTime: obDateTime(t.bookedAt),
    ValueDateTime: dateTime(t.valueAt),
    AddressLine: clip(t.addressLine, 70),
    Amount: amount(t.amountMinor, t.currency),
    ChargeAmount: t.chargeMinor ? amount(t.chargeMinor, t.currency) : undefined,
    CurrencyExchange: t.currencyExchange
      ? compact({
          SourceCurrency: t.currencyExchange.sourceCurrency,
          TargetCurrency: t.currencyExchange.targetCurrency,
          UnitCurrency: t.currencyExchange.unitCurrency,
          // The spec types the rate as a JSON number; it is display information, the ledger used the string.
          ExchangeRate: Number(t.currencyExchange.rate),
          QuotationDate: t.currencyExchange.quotationDate,
          InstructedAmount: {
            Amount: t.currencyExchange.instructedAmount,
            Currency: t.currencyExchange.instructedCurrency,
          },
        })
      : undefined,
    BankTransactionCode: t.bankTransactionCode
      ? { Code: t.bankTransactionCode.code, SubCode: t.bankTransactionCode.subCode }
      : undefined,
    ProprietaryBankTransactionCode: t.proprietaryBankTransactionCode
      ? compact({
          Code: t.proprietaryBankTransactionCode.code.slice(0, 35),
          Issuer: clip(t.proprietaryBankTransactionCode.issuer, 35),
        })
      : undefined,
    CardInstrument: t.card
      ? compact({
          CardSchemeName: t.card.scheme,
          AuthorisationType: t.card.authorisationType ?? undefined,
          Name: clip(t.card.name, 70),
          Identification: access.pan ? t.card.pan : maskPan(t.card.pan),
        })
      : undefined,
  });
  if (access.detail) {
    wire.TransactionInformation = clip(t.transactionInformation, 500);
    if (t.balanceAfterMinor !== null) {
      wire.Balance = {
        CreditDebitIndicator: creditDebit(t.balanceAfterMinor),
        Type: 'InterimBooked',
        Amount: amount(t.balanceAfterMinor, t.currency),
      };
    }
    if (t.merchant) {
      wire.MerchantDetails = compact({
        MerchantName: clip(t.merchant.name, 350),
        MerchantCategoryCode: t.merchant.categoryCode ?? undefined,
      });
    }
    // The counterparty is the creditor of a debit and the debtor of a credit.
    const side = t.creditDebit === 'Debit' ? 'Creditor' : 'Debtor';
    wire[`${side}Account`] = cashAccount(t.counterparty);
    wire[`${side}Agent`] = agent(t.counterparty);
    compact(wire);
  }
  return wire;
}

// ---------------------------------------------------------------------------------------------------
// Beneficiaries, direct debits, standing orders, scheduled payments

export function mapBeneficiary(beneficiary: Beneficiary, permissions: Permissions): Record<string, unknown> {
  const wire: Record<string, unknown> = compact({
    AccountId: beneficiary.accountId,
    BeneficiaryId: beneficiary.id,
    BeneficiaryType: beneficiary.beneficiaryType ?? undefined,
    Reference: clip(beneficiary.reference, 35),
  });
  if (has(permissions, 'ReadBeneficiariesDetail')) {
    wire.CreditorAccount = identifiedAccount(beneficiary.creditor);
    wire.CreditorAgent = agent(beneficiary.creditor);
    compact(wire);
  }
  return wire;
}

export function mapDirectDebit(directDebit: DirectDebit): Record<string, unknown> {
  return compact({
    AccountId: directDebit.accountId,
    DirectDebitId: directDebit.id,
    MandateIdentification: directDebit.mandateIdentification.slice(0, 35),
    DirectDebitStatusCode: directDebit.status,
    Name: directDebit.name.slice(0, 70),
    PreviousPaymentDateTime: dateTime(directDebit.previousPaymentAt),
    Frequency: directDebit.frequency ?? undefined,
    PreviousPaymentAmount:
      directDebit.previousPaymentMinor !== null
        ? amount(directDebit.previousPaymentMinor, directDebit.currency)
        : undefined,
  });
}

export function mapStandingOrder(order: StandingOrder, permissions: Permissions): Record<string, unknown> {
  const money = (minor: bigint | null) => (minor !== null ? amount(minor, order.currency) : undefined);
  const wire: Record<string, unknown> = compact({
    AccountId: order.accountId,
    StandingOrderId: order.id,
    Frequency: order.frequency,
    Reference: clip(order.reference, 35),
    FirstPaymentDateTime: dateTime(order.firstPaymentAt),
    NextPaymentDateTime: dateTime(order.nextPaymentAt),
    LastPaymentDateTime: dateTime(order.lastPaymentAt),
    FinalPaymentDateTime: dateTime(order.finalPaymentAt),
    NumberOfPayments: order.numberOfPayments !== null ? String(order.numberOfPayments) : undefined,
    StandingOrderStatusCode: order.status,
    FirstPaymentAmount: money(order.firstPaymentMinor),
    NextPaymentAmount: money(order.nextPaymentMinor),
    LastPaymentAmount: money(order.lastPaymentMinor),
    FinalPaymentAmount: money(order.finalPaymentMinor),
    SupplementaryData: order.supplementaryData ?? undefined,
  });
  if (has(permissions, 'ReadStandingOrdersDetail')) {
    wire.CreditorAccount = identifiedAccount(order.creditor);
    wire.CreditorAgent = identifiedAgent(order.creditor);
    compact(wire);
  }
  return wire;
}

export function mapScheduledPayment(
  payment: ScheduledPayment,
  permissions: Permissions,
): Record<string, unknown> {
  const wire: Record<string, unknown> = compact({
    AccountId: payment.accountId,
    ScheduledPaymentId: payment.id,
    ScheduledPaymentDateTime: obDateTime(payment.scheduledAt),
    ScheduledType: payment.scheduledType,
    Reference: clip(payment.reference, 35),
    DebtorReference: clip(payment.debtorReference, 35),
    InstructedAmount: amount(payment.amountMinor, payment.currency),
  });
  if (has(permissions, 'ReadScheduledPaymentsDetail')) {
    wire.CreditorAccount = identifiedAccount(payment.creditor);
    wire.CreditorAgent = identifiedAgent(payment.creditor);
    compact(wire);
  }
  return wire;
}

// ---------------------------------------------------------------------------------------------------
// Statements, products, offers, parties

export function mapStatement(statement: Statement, permissions: Permissions): Record<string, unknown> {
  const wire: Record<string, unknown> = compact({
    AccountId: statement.accountId,
    StatementId: statement.id,
    StatementReference: clip(statement.reference, 35),
    Type: statement.type,
    StartDateTime: obDateTime(statement.startAt),
    EndDateTime: obDateTime(statement.endAt),
    CreationDateTime: obDateTime(statement.createdAt),
    StatementDescription: statement.descriptions.length
      ? statement.descriptions.map((d) => d.slice(0, 500)).filter((d) => d.length > 0)
      : undefined,
  });
  if (has(permissions, 'ReadStatementsDetail')) {
    const line = (type: string, minor: bigint) => ({
      CreditDebitIndicator: creditDebit(minor),
      Type: type,
      Amount: amount(minor, statement.currency),
    });
    wire.StatementAmount = [
      line('UK.OBIE.PreviousClosingBalance', statement.openingBookedMinor),
      line('UK.OBIE.ClosingBalance', statement.closingBookedMinor),
      { ...line('UK.OBIE.TotalCredits', statement.totalCreditsMinor), CreditDebitIndicator: 'Credit' },
      { ...line('UK.OBIE.TotalDebits', statement.totalDebitsMinor), CreditDebitIndicator: 'Debit' },
    ];
  }
  return wire;
}

export function mapProduct(accountId: string, product: Product): Record<string, unknown> {
  const details = product.details ?? {};
  const extra: Record<string, unknown> = {};
  for (const key of ['PCA', 'BCA', 'OtherProductType'] as const)
    if (details[key] !== undefined) extra[key] = details[key];
  return compact({
    ProductName: clip(product.name, 350),
    ProductId: product.id.slice(0, 40),
    AccountId: accountId,
    SecondaryProductId: clip(product.secondaryProductId, 70),
    ProductType: product.productType,
    MarketingStateId: clip(product.marketingStateId, 35),
    ...extra,
  });
}

export function mapOffer(offer: Offer): Record<string, unknown> {
  const currency = offer.currency ?? 'GBP';
  return compact({
    AccountId: offer.accountId,
    OfferId: offer.id.slice(0, 40),
    OfferType: offer.offerType,
    Description: clip(offer.description, 500),
    StartDateTime: dateTime(offer.startAt),
    EndDateTime: dateTime(offer.endAt),
    Rate: offer.rate ?? undefined,
    Value: offer.value ?? undefined,
    Term: clip(offer.term, 500),
    URL: clip(offer.url, 256),
    Amount: offer.amountMinor !== null ? amount(offer.amountMinor, currency) : undefined,
    Fee: offer.feeMinor !== null ? amount(offer.feeMinor, currency) : undefined,
  });
}

export function mapParty(party: Party, accountRole?: string): Record<string, unknown> {
  return compact({
    PartyId: party.id.slice(0, 40),
    PartyNumber: clip(party.partyNumber, 35),
    PartyType: party.partyType ?? undefined,
    Name: clip(party.name, 350),
    FullLegalName: clip(party.fullLegalName, 350),
    LegalStructure: party.legalStructure ?? undefined,
    BeneficialOwnership: party.beneficialOwnership ?? undefined,
    AccountRole: accountRole,
    EmailAddress: clip(party.emailAddress, 256),
    Phone: party.phone ?? undefined,
    Mobile: party.mobile ?? undefined,
    Address: party.addresses.length
      ? party.addresses.map((a) =>
          compact({
            AddressType: a.addressType,
            AddressLine: a.addressLine?.slice(0, 5).map((l) => l.slice(0, 70)),
            StreetName: clip(a.streetName, 70),
            BuildingNumber: clip(a.buildingNumber, 16),
            PostCode: clip(a.postCode, 16),
            TownName: clip(a.townName, 35),
            CountrySubDivision: clip(a.countrySubDivision, 35),
            Country: a.country,
          }),
        )
      : undefined,
  });
}
