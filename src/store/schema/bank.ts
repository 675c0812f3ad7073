import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The model bank (src/bank). Money is integer minor units (bigint) everywhere; a balance is the sum of
 * postings. `bank_accounts.booked_minor` / `pending_*_minor` are caches of those sums, maintained in the
 * same transaction as every posting (tests check they equal the sums).
 */

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const minor = (name: string) => bigint(name, { mode: 'bigint' });

/** A legal or natural person as Open Banking's Party resource describes it. */
export const bankParties = pgTable('bank_parties', {
  id: text('id').primaryKey(),
  partyNumber: text('party_number'),
  partyType: text('party_type'),
  name: text('name').notNull(),
  fullLegalName: text('full_legal_name'),
  legalStructure: text('legal_structure'),
  beneficialOwnership: boolean('beneficial_ownership'),
  emailAddress: text('email_address'),
  phone: text('phone'),
  mobile: text('mobile'),
  /** Array of OB-shaped addresses: { AddressType, AddressLine[], StreetName, BuildingNumber, PostCode, TownName, Country }. */
  addresses: jsonb('addresses').$type<PartyAddress[]>().notNull().default([]),
});

export interface PartyAddress {
  addressType?:
    | 'Business'
    | 'Correspondence'
    | 'DeliveryTo'
    | 'MailTo'
    | 'POBox'
    | 'Postal'
    | 'Residential'
    | 'Statement';
  addressLine?: string[];
  streetName?: string;
  buildingNumber?: string;
  postCode?: string;
  townName?: string;
  countrySubDivision?: string;
  country: string;
}

/** A PSU: who logs in to online banking. Passwords and second factors live with the consent app. */
export const bankCustomers = pgTable('bank_customers', {
  id: text('id').primaryKey(),
  /** Online-banking login id, stored lower-case; unique. */
  username: text('username').notNull().unique(),
  displayName: text('display_name').notNull(),
  kind: text('kind').$type<'personal' | 'business'>().notNull(),
  /** The PSU's own party (GET /party). */
  partyId: text('party_id')
    .notNull()
    .references(() => bankParties.id),
  createdAt: ts('created_at').notNull(),
});

export const bankProducts = pgTable('bank_products', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  productType: text('product_type')
    .$type<
      'BusinessCurrentAccount' | 'CommercialCreditCard' | 'Other' | 'PersonalCurrentAccount' | 'SMELoan'
    >()
    .notNull(),
  secondaryProductId: text('secondary_product_id'),
  marketingStateId: text('marketing_state_id'),
  /** Product details (OB PCA/BCA/OtherProductType shapes), kept as the wire describes them. */
  details: jsonb('details').$type<Record<string, unknown>>(),
});

/**
 * Customer accounts and the bank's own internal accounts (clearing, suspense, fees, fx per currency).
 * An internal account has `internal_purpose` set, no holder, and may go negative.
 */
export const bankAccounts = pgTable(
  'bank_accounts',
  {
    id: text('id').primaryKey(),
    internalPurpose: text('internal_purpose').$type<'clearing' | 'suspense' | 'fees' | 'fx' | 'interest'>(),
    accountType: text('account_type').$type<'Personal' | 'Business'>(),
    accountSubType: text('account_sub_type')
      .$type<
        | 'ChargeCard'
        | 'CreditCard'
        | 'CurrentAccount'
        | 'EMoney'
        | 'Loan'
        | 'Mortgage'
        | 'PrePaidCard'
        | 'Savings'
        | 'Wallet'
      >()
      .notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<'Deleted' | 'Disabled' | 'Enabled' | 'Pending' | 'ProForma'>().notNull(),
    statusUpdatedAt: ts('status_updated_at').notNull(),
    description: text('description'),
    nickname: text('nickname'),
    /** The name on the account, as a payer would see it (Account[].Name). */
    name: text('name').notNull(),
    openingDate: date('opening_date', { mode: 'string' }).notNull(),
    maturityDate: date('maturity_date', { mode: 'string' }),
    sortCode: text('sort_code'),
    accountNumber: text('account_number'),
    iban: text('iban'),
    /** The PAN for card accounts (UK.OBIE.PAN scheme), a sandbox test number. */
    pan: text('pan'),
    secondaryIdentification: text('secondary_identification'),
    productId: text('product_id').references(() => bankProducts.id),
    /** How far below zero the available balance may go (overdraft / credit limit), >= 0. */
    creditLimitMinor: minor('credit_limit_minor')
      .notNull()
      .default(sql`0`),
    creditLineType: text('credit_line_type').$type<
      'Available' | 'Credit' | 'Emergency' | 'Pre-Agreed' | 'Temporary'
    >(),
    /** Cache: sum of Booked postings. */
    bookedMinor: minor('booked_minor')
      .notNull()
      .default(sql`0`),
    /** Cache: sum of Pending postings that are debits (<= 0); they reduce the available balance. */
    pendingDebitMinor: minor('pending_debit_minor')
      .notNull()
      .default(sql`0`),
    /** Cache: sum of Pending postings that are credits (>= 0); not available until booked. */
    pendingCreditMinor: minor('pending_credit_minor')
      .notNull()
      .default(sql`0`),
    /**
     * Cache: the latest booking time of the account's Booked postings (customer accounts), the floor of
     * its next booking; kept with the balances, so booking never scans the account's postings.
     */
    lastBookedAt: ts('last_booked_at'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('bank_accounts_internal_uq')
      .on(t.internalPurpose, t.currency)
      .where(sql`${t.internalPurpose} is not null`),
    uniqueIndex('bank_accounts_scan_uq')
      .on(t.sortCode, t.accountNumber)
      .where(sql`${t.sortCode} is not null`),
    uniqueIndex('bank_accounts_iban_uq')
      .on(t.iban)
      .where(sql`${t.iban} is not null`),
    uniqueIndex('bank_accounts_pan_uq')
      .on(t.pan)
      .where(sql`${t.pan} is not null`),
    check('bank_accounts_limit_ck', sql`${t.creditLimitMinor} >= 0`),
  ],
);

/** Which customers may see and operate an account (joint accounts have several). */
export const bankAccountHolders = pgTable(
  'bank_account_holders',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    customerId: text('customer_id')
      .notNull()
      .references(() => bankCustomers.id),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.customerId] }),
    index('bank_account_holders_customer_ix').on(t.customerId),
  ],
);

/** The parties of an account (GET /accounts/{id}/parties), with their role. */
export const bankAccountParties = pgTable(
  'bank_account_parties',
  {
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    partyId: text('party_id')
      .notNull()
      .references(() => bankParties.id),
    accountRole: text('account_role').notNull(),
    ordinal: integer('ordinal').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.partyId] })],
);

/** Payment cards issued on an account; postings of card payments name the card. */
export const bankCards = pgTable('bank_cards', {
  id: text('id').primaryKey(),
  accountId: text('account_id')
    .notNull()
    .references(() => bankAccounts.id),
  scheme: text('scheme').$type<'AmericanExpress' | 'Diners' | 'Discover' | 'MasterCard' | 'VISA'>().notNull(),
  nameOnCard: text('name_on_card').notNull(),
  /** A sandbox test PAN (Luhn-valid, never a real card). Shown unmasked only with ReadPAN. */
  pan: text('pan').notNull(),
});

/** Hands out the booking order of postings (see `bank_postings.book_seq`). */
export const bankBookSeq = pgSequence('bank_book_seq');

/** A posting set (journal entry): its postings sum to zero per currency. */
export const bankEntries = pgTable(
  'bank_entries',
  {
    id: text('id').primaryKey(),
    seq: bigserial('seq', { mode: 'bigint' }).notNull().unique(),
    kind: text('kind').notNull(),
    status: text('status').$type<'Booked' | 'Pending' | 'Rejected'>().notNull(),
    bookedAt: ts('booked_at').notNull(),
    valueAt: ts('value_at'),
    /** The business object that caused it (e.g. `payment:<id>`): one origin posts at most once. */
    origin: text('origin').unique(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('bank_entries_booked_ix').on(t.bookedAt)],
);

export interface Counterparty {
  schemeName?: string;
  identification?: string;
  name?: string;
  secondaryIdentification?: string;
  agent?: { schemeName?: string; identification?: string; name?: string };
}

/**
 * How a future-dated payment leaves the bank when it is international: what the payee receives in the
 * currency of transfer, at what rate, and the charge to the debtor — minor units as decimal strings
 * (JSON has no bigint). Absent for a domestic payment, which may also be paid on-us.
 */
export interface ExternalTerms {
  instructed?: { amountMinor: string; currency: string; rate: string };
  feeMinor?: string;
}

/**
 * One leg of a posting set on one account: amount signed from the account's point of view
 * (positive = credit, i.e. the balance goes up). Carries what a statement line shows.
 */
export const bankPostings = pgTable(
  'bank_postings',
  {
    id: text('id').primaryKey(),
    seq: bigserial('seq', { mode: 'bigint' }).notNull().unique(),
    entryId: text('entry_id')
      .notNull()
      .references(() => bankEntries.id),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<'Booked' | 'Pending' | 'Rejected'>().notNull(),
    bookedAt: ts('booked_at').notNull(),
    valueAt: ts('value_at'),
    /**
     * Booking order: taken from `bank_book_seq` when the posting is Booked (null before). Running
     * balances follow this order; booking times never go backwards on an account, so it agrees with them.
     */
    bookSeq: bigint('book_seq', { mode: 'bigint' }),
    /** Booked balance of the account right after this posting (null while Pending). */
    balanceAfterMinor: minor('balance_after_minor'),
    transactionReference: text('transaction_reference'),
    transactionInformation: text('transaction_information'),
    addressLine: text('address_line'),
    bankTransactionCode: text('bank_transaction_code'),
    bankTransactionSubCode: text('bank_transaction_sub_code'),
    proprietaryCode: text('proprietary_code'),
    proprietaryIssuer: text('proprietary_issuer'),
    merchantName: text('merchant_name'),
    merchantCategoryCode: text('merchant_category_code'),
    cardId: text('card_id').references(() => bankCards.id),
    cardAuthorisationType: text('card_authorisation_type').$type<
      'ConsumerDevice' | 'Contactless' | 'None' | 'PIN'
    >(),
    counterparty: jsonb('counterparty').$type<Counterparty>(),
    /** For a converted amount: { sourceCurrency, targetCurrency, unitCurrency, rate (decimal string), instructedMinor }. */
    currencyExchange: jsonb('currency_exchange').$type<CurrencyExchangeDetails>(),
    chargeMinor: minor('charge_minor'),
  },
  (t) => [
    index('bank_postings_account_ix').on(t.accountId, t.bookedAt, t.seq),
    uniqueIndex('bank_postings_book_seq_uq').on(t.bookSeq),
    index('bank_postings_entry_ix').on(t.entryId),
    check('bank_postings_nonzero_ck', sql`${t.amountMinor} <> 0`),
  ],
);

export interface CurrencyExchangeDetails {
  sourceCurrency: string;
  targetCurrency: string;
  unitCurrency: string;
  /** Decimal string, e.g. "1.1650". */
  rate: string;
  instructedAmount: string;
  instructedCurrency: string;
  quotationDate?: string;
}

export const bankBeneficiaries = pgTable(
  'bank_beneficiaries',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    beneficiaryType: text('beneficiary_type').$type<'Trusted' | 'Ordinary'>(),
    reference: text('reference'),
    creditor: jsonb('creditor').$type<Counterparty>().notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('bank_beneficiaries_account_ix').on(t.accountId)],
);

export const bankDirectDebits = pgTable(
  'bank_direct_debits',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    mandateIdentification: text('mandate_identification').notNull(),
    status: text('status').$type<'Active' | 'Inactive'>().notNull(),
    name: text('name').notNull(),
    frequency: text('frequency'),
    previousPaymentAt: ts('previous_payment_at'),
    previousPaymentMinor: minor('previous_payment_minor'),
    currency: text('currency').notNull(),
  },
  (t) => [index('bank_direct_debits_account_ix').on(t.accountId)],
);

export const bankStandingOrders = pgTable(
  'bank_standing_orders',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    /** OB frequency code, e.g. `IntrvlMnthDay:01:15`. */
    frequency: text('frequency').notNull(),
    reference: text('reference'),
    status: text('status').$type<'Active' | 'Inactive'>().notNull(),
    currency: text('currency').notNull(),
    firstPaymentAt: ts('first_payment_at'),
    firstPaymentMinor: minor('first_payment_minor'),
    nextPaymentAt: ts('next_payment_at'),
    nextPaymentMinor: minor('next_payment_minor'),
    lastPaymentAt: ts('last_payment_at'),
    lastPaymentMinor: minor('last_payment_minor'),
    finalPaymentAt: ts('final_payment_at'),
    finalPaymentMinor: minor('final_payment_minor'),
    numberOfPayments: integer('number_of_payments'),
    paymentsMade: integer('payments_made').notNull().default(0),
    creditor: jsonb('creditor').$type<Counterparty>().notNull(),
    supplementaryData: jsonb('supplementary_data').$type<Record<string, unknown>>(),
    external: jsonb('external').$type<ExternalTerms>(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('bank_standing_orders_account_ix').on(t.accountId)],
);

export const bankScheduledPayments = pgTable(
  'bank_scheduled_payments',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    scheduledAt: ts('scheduled_at').notNull(),
    scheduledType: text('scheduled_type').$type<'Arrival' | 'Execution'>().notNull(),
    reference: text('reference'),
    debtorReference: text('debtor_reference'),
    amountMinor: minor('amount_minor').notNull(),
    currency: text('currency').notNull(),
    creditor: jsonb('creditor').$type<Counterparty>().notNull(),
    /** Pending until executed (or cancelled/rejected); only Pending ones are listed to TPPs. */
    status: text('status').$type<'Pending' | 'Executed' | 'Cancelled' | 'Rejected'>().notNull(),
    entryId: text('entry_id').references(() => bankEntries.id),
    external: jsonb('external').$type<ExternalTerms>(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('bank_scheduled_payments_account_ix').on(t.accountId, t.status)],
);

export const bankStatements = pgTable(
  'bank_statements',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    reference: text('reference'),
    type: text('type')
      .$type<'AccountClosure' | 'AccountOpening' | 'Annual' | 'Interim' | 'RegularPeriodic'>()
      .notNull(),
    startAt: ts('start_at').notNull(),
    endAt: ts('end_at').notNull(),
    createdAt: ts('created_at').notNull(),
    descriptions: jsonb('descriptions').$type<string[]>().notNull().default([]),
    /** Booked balance at start (exclusive) and end (inclusive), and the period's totals, from the postings. */
    openingBookedMinor: minor('opening_booked_minor').notNull(),
    closingBookedMinor: minor('closing_booked_minor').notNull(),
    totalCreditsMinor: minor('total_credits_minor').notNull(),
    totalDebitsMinor: minor('total_debits_minor').notNull(),
    currency: text('currency').notNull(),
  },
  (t) => [index('bank_statements_account_ix').on(t.accountId, t.startAt)],
);

export const bankOffers = pgTable(
  'bank_offers',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => bankAccounts.id),
    offerType: text('offer_type')
      .$type<'BalanceTransfer' | 'LimitIncrease' | 'MoneyTransfer' | 'Other' | 'PromotionalRate'>()
      .notNull(),
    description: text('description'),
    startAt: ts('start_at'),
    endAt: ts('end_at'),
    /** Decimal string as OB's Rate pattern, e.g. "3.9". */
    rate: text('rate'),
    value: integer('value'),
    term: text('term'),
    url: text('url'),
    amountMinor: minor('amount_minor'),
    feeMinor: minor('fee_minor'),
    currency: text('currency'),
  },
  (t) => [index('bank_offers_account_ix').on(t.accountId)],
);
