/**
 * The sandbox population: a deterministic function of (seed, clock.now()). Same seed and same "now"
 * give byte-identical data (ids included); seeding twice does nothing the second time.
 *
 * Customers (online-banking usernames):
 *   alice     Alice Walker, personal: GBP current (VISA debit, £500 overdraft), GBP Instant Saver,
 *             GBP credit card (MasterCard, £3,000 limit), EUR current
 *   bob       Bob Singh, personal: GBP current (MasterCard debit, £250 overdraft), USD current,
 *             joint GBP account with carol
 *   carol     Carol Jones, personal: GBP current (VISA debit), joint account with bob
 *   dave-ltd  Dave's Bakery Ltd, business (Dave Patel signs in): GBP business current (£2,000 overdraft,
 *             VISA business debit), EUR business account
 * Each with ~6 months of history up to now: salaries, rent and savings standing orders, direct debits,
 * card payments with merchants and MCCs, own-account transfers, interest, fees, FX; a few card
 * payments of the last two days are still Pending. Plus beneficiaries, direct debits, standing orders,
 * scheduled payments, monthly statements, products, offers and parties.
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Queryable } from '../store/index.ts';
import { schema, readSetting, writeSetting } from '../store/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { Counterparty, PartyAddress } from '../store/schema/bank.ts';
import { InvalidStateError } from './errors.ts';
import { convertMinor, fromMinor } from './money.ts';
import {
  internalAccountId,
  postingRow,
  type BankTransactionCode,
  type InternalPurpose,
  type PostingDetails,
} from './ledger.ts';
import { rowsOf } from '../shared/result-rows.ts';

const {
  bankAccountHolders,
  bankAccountParties,
  bankAccounts,
  bankBeneficiaries,
  bankCards,
  bankCustomers,
  bankDirectDebits,
  bankEntries,
  bankOffers,
  bankParties,
  bankPostings,
  bankProducts,
  bankScheduledPayments,
  bankStandingOrders,
  bankStatements,
} = schema;

export const SANDBOX_SEED_SETTING = 'bank.sandbox-seed';
/** The sort code of the model bank; every customer account is under it. */
export const BANK_SORT_CODE = '309921';
export const BANK_CODE = 'OBKT';
const SEED_LOCK_ID = 5_104_226_611;
const DAY = 86_400_000;

export interface SeedOptions {
  seed: string;
  clock: Clock;
  /** Months of history before now. Default 6. */
  months?: number;
}

export interface SeedResult {
  created: boolean;
  customers: number;
  accounts: number;
  entries: number;
  postings: number;
}

// ---------------------------------------------------------------------------------------------------
// Determinism helpers.

class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: string) {
    const h = createHash('sha256').update(`obkit-bank:${seed}`).digest();
    this.#a = h.readUInt32LE(0);
    this.#b = h.readUInt32LE(4);
    this.#c = h.readUInt32LE(8);
    this.#d = h.readUInt32LE(12);
  }
  /** sfc32: a small, fast, well-distributed generator; uniform in [0, 1). */
  next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** Minor units between two amounts given in minor units, inclusive. */
  minor(min: number, max: number): bigint {
    return BigInt(this.int(min, max));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i += 1) s += String(this.int(0, 9));
    return s;
  }
}

function stableId(seed: string, ...parts: (string | number)[]): string {
  const h = createHash('sha256')
    .update([seed, ...parts].join('\u0000'))
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function luhnComplete(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i += 1) {
    let digit = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return partial + String((10 - (sum % 10)) % 10);
}

/** A GB IBAN for this bank's sort code and account number (ISO 13616 mod-97 check digits). */
export function gbIban(sortCode: string, accountNumber: string): string {
  const bban = `${BANK_CODE}${sortCode}${accountNumber}`;
  const numeric = `${bban}GB00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  const check = 98n - (BigInt(numeric) % 97n);
  return `GB${check.toString().padStart(2, '0')}${bban}`;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const dateOnly = (d: Date): string => d.toISOString().slice(0, 10);
const atUtc = (y: number, m: number, d: number, h = 0, min = 0): Date => new Date(Date.UTC(y, m, d, h, min));

// ---------------------------------------------------------------------------------------------------
// The population's shape.

interface AccountSpec {
  key: string;
  owners: string[];
  type: 'Personal' | 'Business';
  subType: 'CurrentAccount' | 'Savings' | 'CreditCard';
  currency: string;
  name: string;
  nickname: string;
  description: string;
  product: string;
  creditLimit: bigint;
  creditLineType?: 'Pre-Agreed' | 'Credit';
  opening: string;
  card?: { scheme: 'VISA' | 'MasterCard'; prefix: string; owner: string };
  /** Balance brought forward at the start of the history, minor units. */
  broughtForward: bigint;
}

interface CustomerSpec {
  key: string;
  username: string;
  displayName: string;
  kind: 'personal' | 'business';
  party: Omit<typeof bankParties.$inferInsert, 'id'>;
}

const address = (
  line: string,
  town: string,
  postCode: string,
  type: PartyAddress['addressType'],
): PartyAddress => ({
  addressType: type,
  addressLine: [line],
  townName: town,
  postCode,
  country: 'GB',
});

const CUSTOMERS: CustomerSpec[] = [
  {
    key: 'alice',
    username: 'alice',
    displayName: 'Alice Walker',
    kind: 'personal',
    party: {
      partyType: 'Sole',
      name: 'Alice Walker',
      fullLegalName: 'Alice Mary Walker',
      legalStructure: 'UK.OBIE.Individual',
      emailAddress: 'alice.walker@example.com',
      mobile: '+44-7700900101',
      addresses: [address('12 Acacia Avenue', 'Manchester', 'M1 4BT', 'Residential')],
    },
  },
  {
    key: 'bob',
    username: 'bob',
    displayName: 'Bob Singh',
    kind: 'personal',
    party: {
      partyType: 'Sole',
      name: 'Bob Singh',
      fullLegalName: 'Robert Singh',
      legalStructure: 'UK.OBIE.Individual',
      emailAddress: 'bob.singh@example.com',
      mobile: '+44-7700900202',
      addresses: [address('4 Mill Lane', 'Leeds', 'LS1 5AB', 'Residential')],
    },
  },
  {
    key: 'carol',
    username: 'carol',
    displayName: 'Carol Jones',
    kind: 'personal',
    party: {
      partyType: 'Sole',
      name: 'Carol Jones',
      fullLegalName: 'Carol Anne Jones',
      legalStructure: 'UK.OBIE.Individual',
      emailAddress: 'carol.jones@example.com',
      mobile: '+44-7700900303',
      addresses: [address('4 Mill Lane', 'Leeds', 'LS1 5AB', 'Residential')],
    },
  },
  {
    key: 'dave-ltd',
    username: 'dave-ltd',
    displayName: "Dave's Bakery Ltd",
    kind: 'business',
    party: {
      partyType: 'Sole',
      name: "Dave's Bakery Ltd",
      fullLegalName: "Dave's Bakery Limited",
      legalStructure: 'UK.OBIE.PrivateLimitedCompany',
      beneficialOwnership: true,
      emailAddress: 'accounts@daves-bakery.example.com',
      phone: '+44-1134960404',
      addresses: [address('Unit 7, Riverside Trading Estate', 'Bristol', 'BS1 6QH', 'Business')],
    },
  },
];

/** Dave Patel: the person behind dave-ltd, a party of its accounts. */
const DAVE_PERSON: Omit<typeof bankParties.$inferInsert, 'id'> = {
  partyType: 'Delegate',
  name: 'Dave Patel',
  fullLegalName: 'David Patel',
  legalStructure: 'UK.OBIE.Individual',
  emailAddress: 'dave@daves-bakery.example.com',
  mobile: '+44-7700900404',
  addresses: [address('22 Clifton Road', 'Bristol', 'BS8 1AA', 'Residential')],
};

const ACCOUNTS: AccountSpec[] = [
  {
    key: 'alice-current',
    owners: ['alice'],
    type: 'Personal',
    subType: 'CurrentAccount',
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Everyday',
    description: 'Everyday Current Account',
    product: 'pca',
    creditLimit: 50_000n,
    creditLineType: 'Pre-Agreed',
    opening: '2019-03-14',
    card: { scheme: 'VISA', prefix: '476173', owner: 'MS A WALKER' },
    broughtForward: 184_250n,
  },
  {
    key: 'alice-saver',
    owners: ['alice'],
    type: 'Personal',
    subType: 'Savings',
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Rainy day',
    description: 'Instant Saver',
    product: 'saver',
    creditLimit: 0n,
    opening: '2020-07-01',
    broughtForward: 1_250_000n,
  },
  {
    key: 'alice-card',
    owners: ['alice'],
    type: 'Personal',
    subType: 'CreditCard',
    currency: 'GBP',
    name: 'Alice Walker',
    nickname: 'Credit card',
    description: 'Rewards Credit Card',
    product: 'credit-card',
    creditLimit: 300_000n,
    creditLineType: 'Credit',
    opening: '2021-11-20',
    card: { scheme: 'MasterCard', prefix: '545454', owner: 'MS A WALKER' },
    broughtForward: -42_310n,
  },
  {
    key: 'alice-eur',
    owners: ['alice'],
    type: 'Personal',
    subType: 'CurrentAccount',
    currency: 'EUR',
    name: 'Alice Walker',
    nickname: 'Euro wallet',
    description: 'Euro Current Account',
    product: 'fx-account',
    creditLimit: 0n,
    opening: '2023-05-02',
    broughtForward: 35_000n,
  },
  {
    key: 'bob-current',
    owners: ['bob'],
    type: 'Personal',
    subType: 'CurrentAccount',
    currency: 'GBP',
    name: 'Bob Singh',
    nickname: 'Main account',
    description: 'Everyday Current Account',
    product: 'pca',
    creditLimit: 25_000n,
    creditLineType: 'Pre-Agreed',
    opening: '2016-09-05',
    card: { scheme: 'MasterCard', prefix: '535522', owner: 'MR R SINGH' },
    broughtForward: 96_420n,
  },
  {
    key: 'bob-usd',
    owners: ['bob'],
    type: 'Personal',
    subType: 'CurrentAccount',
    currency: 'USD',
    name: 'Bob Singh',
    nickname: 'Dollars',
    description: 'US Dollar Current Account',
    product: 'fx-account',
    creditLimit: 0n,
    opening: '2022-02-10',
    broughtForward: 120_000n,
  },
  {
    key: 'bob-carol-joint',
    owners: ['bob', 'carol'],
    type: 'Personal',
    subType: 'CurrentAccount',
    currency: 'GBP',
    name: 'R Singh & C Jones',
    nickname: 'House',
    description: 'Joint Current Account',
    product: 'pca',
    creditLimit: 0n,
    opening: '2021-06-18',
    broughtForward: 210_000n,
  },
  {
    key: 'carol-current',
    owners: ['carol'],
    type: 'Personal',
    subType: 'CurrentAccount',
    currency: 'GBP',
    name: 'Carol Jones',
    nickname: 'Carol',
    description: 'Everyday Current Account',
    product: 'pca',
    creditLimit: 0n,
    opening: '2018-01-22',
    card: { scheme: 'VISA', prefix: '492181', owner: 'MRS C JONES' },
    broughtForward: 312_880n,
  },
  {
    key: 'dave-current',
    owners: ['dave-ltd'],
    type: 'Business',
    subType: 'CurrentAccount',
    currency: 'GBP',
    name: "Dave's Bakery Ltd",
    nickname: 'Trading',
    description: 'Business Current Account',
    product: 'bca',
    creditLimit: 200_000n,
    creditLineType: 'Pre-Agreed',
    opening: '2017-04-03',
    card: { scheme: 'VISA', prefix: '448512', owner: 'DAVES BAKERY LTD' },
    broughtForward: 1_854_000n,
  },
  {
    key: 'dave-eur',
    owners: ['dave-ltd'],
    type: 'Business',
    subType: 'CurrentAccount',
    currency: 'EUR',
    name: "Dave's Bakery Ltd",
    nickname: 'Suppliers EUR',
    description: 'Business Euro Account',
    product: 'fx-account',
    creditLimit: 0n,
    opening: '2020-10-12',
    broughtForward: 420_000n,
  },
];

const PRODUCTS: (typeof bankProducts.$inferInsert & { key: string })[] = [
  {
    key: 'pca',
    id: 'MB-PCA-EVERYDAY-01',
    name: 'Everyday Current Account',
    productType: 'PersonalCurrentAccount',
    secondaryProductId: 'EVERYDAY-2019',
    marketingStateId: 'Regular',
    details: { PCA: { ProductDetails: { Segment: ['General'], MonthlyMaximumCharge: '20.00' } } },
  },
  {
    key: 'saver',
    id: 'MB-SAV-INSTANT-02',
    name: 'Instant Saver',
    productType: 'Other',
    marketingStateId: 'Regular',
    details: {
      OtherProductType: {
        Name: 'Instant Saver',
        Description: 'Easy-access savings, variable rate, interest paid monthly',
      },
    },
  },
  {
    key: 'credit-card',
    id: 'MB-CC-REWARDS-01',
    name: 'Rewards Credit Card',
    productType: 'Other',
    marketingStateId: 'Regular',
    details: {
      OtherProductType: { Name: 'Rewards Credit Card', Description: 'Credit card with 0.5% cashback' },
    },
  },
  {
    key: 'fx-account',
    id: 'MB-FX-CURRENCY-01',
    name: 'Foreign Currency Account',
    productType: 'Other',
    marketingStateId: 'Regular',
    details: {
      OtherProductType: { Name: 'Foreign Currency Account', Description: 'Hold and pay in EUR or USD' },
    },
  },
  {
    key: 'bca',
    id: 'MB-BCA-SMALLBIZ-01',
    name: 'Small Business Current Account',
    productType: 'BusinessCurrentAccount',
    marketingStateId: 'Regular',
    details: { BCA: { ProductDetails: { Segment: ['ClientAccount'] } } },
  },
];

interface Merchant {
  name: string;
  mcc: string;
  min: number;
  max: number;
  town: string;
  auth: 'Contactless' | 'PIN' | 'ConsumerDevice' | 'None';
}

const SHOPS: Merchant[] = [
  { name: 'TESCO STORES 3297', mcc: '5411', min: 850, max: 8_900, town: 'MANCHESTER', auth: 'Contactless' },
  { name: "SAINSBURY'S S/MKT", mcc: '5411', min: 1_200, max: 9_600, town: 'LEEDS', auth: 'PIN' },
  { name: 'PRET A MANGER', mcc: '5814', min: 325, max: 1_150, town: 'LONDON', auth: 'Contactless' },
  { name: 'TFL TRAVEL CH', mcc: '4111', min: 280, max: 1_620, town: 'LONDON', auth: 'Contactless' },
  { name: 'SHELL ALBERT RD', mcc: '5541', min: 3_500, max: 7_800, town: 'BRISTOL', auth: 'PIN' },
  { name: 'AMAZON.CO.UK*MK2', mcc: '5942', min: 699, max: 6_499, town: 'AMAZON.CO.UK', auth: 'None' },
  { name: 'BOOTS 1142', mcc: '5912', min: 299, max: 2_450, town: 'MANCHESTER', auth: 'Contactless' },
  { name: 'WAGAMAMA', mcc: '5812', min: 1_850, max: 5_400, town: 'LEEDS', auth: 'ConsumerDevice' },
  { name: 'CINEWORLD', mcc: '7832', min: 1_100, max: 3_200, town: 'BRISTOL', auth: 'ConsumerDevice' },
  { name: 'JOHN LEWIS', mcc: '5311', min: 2_500, max: 14_900, town: 'LONDON', auth: 'PIN' },
];

interface Bill {
  payee: string;
  mcc?: string;
  mandate: string;
  day: number;
  min: number;
  max: number;
}

const BILLS: Record<string, Bill[]> = {
  'alice-current': [
    { payee: 'OCTOPUS ENERGY', mandate: 'OCT-A-448812', day: 3, min: 8_900, max: 13_400 },
    { payee: 'MANCHESTER CITY COUNCIL', mandate: 'MCC-CT-55120', day: 1, min: 15_400, max: 15_400 },
    { payee: 'VODAFONE LTD', mandate: 'VF-77410021', day: 12, min: 2_200, max: 2_200 },
    { payee: 'PUREGYM LTD', mandate: 'PG-0098812', day: 5, min: 2_499, max: 2_499 },
  ],
  'bob-current': [
    { payee: 'EE LIMITED', mandate: 'EE-99120033', day: 18, min: 3_100, max: 3_100 },
    { payee: 'AVIVA INSURANCE', mandate: 'AV-MTR-22019', day: 9, min: 4_650, max: 4_650 },
  ],
  'bob-carol-joint': [
    { payee: 'BRITISH GAS', mandate: 'BG-20019332', day: 6, min: 9_800, max: 15_600 },
    { payee: 'LEEDS CITY COUNCIL', mandate: 'LCC-CT-883201', day: 1, min: 18_900, max: 18_900 },
    { payee: 'YORKSHIRE WATER', mandate: 'YW-44102', day: 15, min: 3_800, max: 3_800 },
    { payee: 'BT GROUP PLC', mandate: 'BT-VP77821', day: 20, min: 4_500, max: 4_500 },
  ],
  'carol-current': [
    { payee: 'THREE UK', mandate: '3UK-0081123', day: 22, min: 1_800, max: 1_800 },
    { payee: 'NETFLIX.COM', mandate: 'NFX-CJ-9912', day: 14, min: 1_099, max: 1_099 },
  ],
  'dave-current': [
    { payee: 'BRITISH GAS BUSINESS', mandate: 'BGB-5531902', day: 8, min: 42_000, max: 61_000 },
    { payee: 'BRISTOL CITY COUNCIL BUS RATES', mandate: 'BCC-NDR-7711', day: 1, min: 38_500, max: 38_500 },
    { payee: 'WORLDPAY UK', mandate: 'WP-TERM-2281', day: 4, min: 2_950, max: 2_950 },
  ],
};

// ---------------------------------------------------------------------------------------------------
// Event simulation: every movement as a list of legs, then ordered by time and booked in that order.

interface Leg {
  account: string;
  amount: bigint;
  currency: string;
  details?: PostingDetails;
}

interface Movement {
  at: Date;
  kind: string;
  legs: Leg[];
  pending?: boolean;
  /** Direct-debit key, to remember the mandate's last payment once booked. */
  tag?: string;
  /** Optional: skip the whole movement if any customer leg would breach its limit. */
  order: number;
}

const CODES = {
  card: { code: 'CustomerCardTransactions', subCode: 'PointOfSalePayment' },
  cardRefund: { code: 'CustomerCardTransactions', subCode: 'CreditCardPayment' },
  atm: { code: 'CustomerCardTransactions', subCode: 'CashWithdrawal' },
  dd: { code: 'IssuedDirectDebits', subCode: 'DirectDebitPayment' },
  so: { code: 'IssuedCreditTransfers', subCode: 'StandingOrder' },
  soIn: { code: 'ReceivedCreditTransfers', subCode: 'StandingOrder' },
  out: { code: 'IssuedCreditTransfers', subCode: 'DomesticCreditTransfer' },
  in: { code: 'ReceivedCreditTransfers', subCode: 'DomesticCreditTransfer' },
  own: { code: 'IssuedCreditTransfers', subCode: 'InternalBookTransfer' },
  ownIn: { code: 'ReceivedCreditTransfers', subCode: 'InternalBookTransfer' },
  fxOut: { code: 'IssuedCreditTransfers', subCode: 'CrossBorderCreditTransfer' },
  fxIn: { code: 'ReceivedCreditTransfers', subCode: 'CrossBorderCreditTransfer' },
  interest: { code: 'AccountManagement', subCode: 'Interest' },
  fee: { code: 'Charges', subCode: 'Fees' },
  bbf: { code: 'AccountManagement', subCode: 'BalanceBroughtForward' },
} as const satisfies Record<string, BankTransactionCode>;

const prop = (code: string) => ({ code, issuer: 'ModelBank' });

export async function seedSandbox(db: Queryable, options: SeedOptions): Promise<SeedResult> {
  const { seed, clock } = options;
  if (typeof seed !== 'string' || seed.length === 0) throw new InvalidStateError('a seed is required');
  const months = options.months ?? 6;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${SEED_LOCK_ID})`);
    const previous = await readSetting<{ seed: string }>(tx, SANDBOX_SEED_SETTING);
    if (previous) {
      if (previous.seed !== seed) {
        throw new InvalidStateError(
          `the sandbox bank was already seeded with seed ${JSON.stringify(previous.seed)}`,
        );
      }
      return { created: false, customers: 0, accounts: 0, entries: 0, postings: 0 };
    }
    const result = await populate(tx, seed, clock.now(), months);
    await writeSetting(tx, SANDBOX_SEED_SETTING, { seed, seededAt: clock.now().toISOString() });
    return result;
  });
}

async function populate(tx: Queryable, seed: string, now: Date, months: number): Promise<SeedResult> {
  const rng = new Random(seed);
  const id = (...parts: (string | number)[]) => stableId(seed, ...parts);
  const today = atUtc(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const start = atUtc(today.getUTCFullYear(), today.getUTCMonth() - months, today.getUTCDate());
  const createdAt = start;

  // Parties and customers.
  const partyIds = new Map<string, string>();
  const parties: (typeof bankParties.$inferInsert)[] = [];
  CUSTOMERS.forEach((c, n) => {
    const partyId = id('party', c.key);
    partyIds.set(c.key, partyId);
    parties.push({ id: partyId, partyNumber: String(100_000 + n * 7_919), ...c.party });
  });
  const davePartyId = id('party', 'dave-patel');
  parties.push({ id: davePartyId, partyNumber: '100777', ...DAVE_PERSON });
  await tx.insert(bankParties).values(parties);
  const customerIds = new Map(CUSTOMERS.map((c) => [c.key, id('customer', c.key)]));
  await tx.insert(bankCustomers).values(
    CUSTOMERS.map((c) => ({
      id: customerIds.get(c.key) ?? '',
      username: c.username,
      displayName: c.displayName,
      kind: c.kind,
      partyId: partyIds.get(c.key) ?? '',
      createdAt,
    })),
  );
  await tx
    .insert(bankProducts)
    .values(PRODUCTS.map(({ key: _key, ...p }) => p))
    .onConflictDoNothing();
  const productIds = new Map(PRODUCTS.map((p) => [p.key, p.id]));

  // Internal accounts for every currency in play.
  const currencies = [...new Set(ACCOUNTS.map((a) => a.currency))].sort();
  const purposes: InternalPurpose[] = ['clearing', 'suspense', 'fees', 'fx', 'interest'];
  await tx
    .insert(bankAccounts)
    .values(
      currencies.flatMap((currency) =>
        purposes.map((purpose) => ({
          id: internalAccountId(purpose, currency),
          internalPurpose: purpose,
          accountSubType: 'CurrentAccount' as const,
          currency,
          status: 'Enabled' as const,
          statusUpdatedAt: createdAt,
          name: `Model Bank ${purpose} ${currency}`,
          description: `Internal ${purpose} account (${currency})`,
          openingDate: dateOnly(createdAt),
          createdAt,
        })),
      ),
    )
    .onConflictDoNothing();

  // Customer accounts, cards, holders, parties.
  const acc = new Map<
    string,
    { id: string; spec: AccountSpec; counterparty: Counterparty; cardId?: string }
  >();
  const usedNumbers = new Set<string>();
  const accountRows: (typeof bankAccounts.$inferInsert)[] = [];
  const cardRows: (typeof bankCards.$inferInsert)[] = [];
  for (const spec of ACCOUNTS) {
    const accountId = id('account', spec.key);
    let accountNumber: string;
    do accountNumber = `${rng.int(1, 9)}${rng.digits(7)}`;
    while (usedNumbers.has(accountNumber));
    usedNumbers.add(accountNumber);
    const isCard = spec.subType === 'CreditCard';
    const pan = spec.card ? luhnComplete(spec.card.prefix + rng.digits(9)) : undefined;
    const sortCode = isCard ? null : BANK_SORT_CODE;
    const iban = isCard ? null : gbIban(BANK_SORT_CODE, accountNumber);
    accountRows.push({
      id: accountId,
      accountType: spec.type,
      accountSubType: spec.subType,
      currency: spec.currency,
      status: 'Enabled',
      statusUpdatedAt: new Date(`${spec.opening}T09:00:00Z`),
      description: spec.description,
      nickname: spec.nickname,
      name: spec.name,
      openingDate: spec.opening,
      sortCode,
      accountNumber: isCard ? null : accountNumber,
      iban,
      pan: isCard ? (pan ?? null) : null,
      productId: productIds.get(spec.product) ?? null,
      creditLimitMinor: spec.creditLimit,
      creditLineType: spec.creditLineType ?? null,
      createdAt,
    });
    let cardId: string | undefined;
    if (spec.card && pan) {
      cardId = id('card', spec.key);
      cardRows.push({ id: cardId, accountId, scheme: spec.card.scheme, nameOnCard: spec.card.owner, pan });
    }
    const counterparty: Counterparty = isCard
      ? { schemeName: 'UK.OBIE.PAN', identification: pan ?? '', name: spec.name }
      : {
          schemeName: 'UK.OBIE.SortCodeAccountNumber',
          identification: `${sortCode}${accountNumber}`,
          name: spec.name,
        };
    acc.set(spec.key, { id: accountId, spec, counterparty, ...(cardId ? { cardId } : {}) });
  }
  await tx.insert(bankAccounts).values(accountRows);
  if (cardRows.length) await tx.insert(bankCards).values(cardRows);
  await tx.insert(bankAccountHolders).values(
    ACCOUNTS.flatMap((spec) =>
      spec.owners.map((owner) => ({
        accountId: id('account', spec.key),
        customerId: customerIds.get(owner) ?? '',
      })),
    ),
  );
  await tx.insert(bankAccountParties).values(
    ACCOUNTS.flatMap((spec) => {
      const accountId = id('account', spec.key);
      if (spec.owners.includes('dave-ltd')) {
        return [
          {
            accountId,
            partyId: partyIds.get('dave-ltd') ?? '',
            accountRole: 'UK.OBIE.Principal',
            ordinal: 0,
          },
          { accountId, partyId: davePartyId, accountRole: 'UK.OBIE.SeniorManagingOfficial', ordinal: 1 },
        ];
      }
      return spec.owners.map((owner, ordinal) => ({
        accountId,
        partyId: partyIds.get(owner) ?? '',
        accountRole: ordinal === 0 ? 'UK.OBIE.Principal' : 'UK.OBIE.SecondaryOwner',
        ordinal,
      }));
    }),
  );

  const A = (key: string) => {
    const a = acc.get(key);
    if (!a) throw new Error(`no account ${key}`);
    return a;
  };

  // ------------------------------------------------------------------ movements
  const movements: Movement[] = [];
  let order = 0;
  const add = (m: Omit<Movement, 'order'>) => movements.push({ ...m, order: order++ });
  const clearing = (c: string) => internalAccountId('clearing', c);

  const external = (
    key: string,
    at: Date,
    amount: bigint,
    kind: string,
    details: PostingDetails,
    pending = false,
    tag?: string,
  ): void => {
    const a = A(key);
    add({
      at,
      kind,
      pending,
      ...(tag ? { tag } : {}),
      legs: [
        { account: a.id, amount, currency: a.spec.currency, details },
        { account: clearing(a.spec.currency), amount: -amount, currency: a.spec.currency },
      ],
    });
  };
  const own = (
    fromKey: string,
    toKey: string,
    at: Date,
    amount: bigint,
    reference: string,
    so = false,
  ): void => {
    const from = A(fromKey);
    const to = A(toKey);
    const common = { transactionReference: reference, transactionInformation: reference };
    add({
      at,
      kind: so ? 'standing-order' : 'transfer',
      legs: [
        {
          account: from.id,
          amount: -amount,
          currency: from.spec.currency,
          details: {
            ...common,
            bankTransactionCode: so ? CODES.so : CODES.own,
            proprietaryBankTransactionCode: prop(so ? 'SO' : 'TFR'),
            counterparty: to.counterparty,
          },
        },
        {
          account: to.id,
          amount,
          currency: to.spec.currency,
          details: {
            ...common,
            bankTransactionCode: so ? CODES.soIn : CODES.ownIn,
            proprietaryBankTransactionCode: prop(so ? 'SO' : 'TFR'),
            counterparty: from.counterparty,
          },
        },
      ],
    });
  };
  const cardPayment = (key: string, at: Date, shop: Merchant, amount: bigint, pending: boolean): void => {
    const a = A(key);
    external(
      key,
      at,
      -amount,
      'card-payment',
      {
        transactionReference: `${shop.name.slice(0, 12).replace(/\s+/g, '')}${rng.digits(6)}`,
        transactionInformation: `${shop.name} ${shop.town}`,
        addressLine: shop.town,
        bankTransactionCode: CODES.card,
        proprietaryBankTransactionCode: prop('POS'),
        merchant: { name: shop.name, categoryCode: shop.mcc },
        ...(a.cardId ? { cardId: a.cardId } : {}),
        cardAuthorisationType: shop.auth,
      },
      pending,
    );
  };

  const days = Math.round((today.getTime() - start.getTime()) / DAY);
  // Balances brought forward at midnight of the first day (the other side: suspense).
  for (const spec of ACCOUNTS) {
    const a = A(spec.key);
    add({
      at: start,
      kind: 'balance-brought-forward',
      legs: [
        {
          account: a.id,
          amount: spec.broughtForward,
          currency: spec.currency,
          details: {
            transactionInformation: 'Balance brought forward',
            bankTransactionCode: CODES.bbf,
            proprietaryBankTransactionCode: prop('BBF'),
          },
        },
        {
          account: internalAccountId('suspense', spec.currency),
          amount: -spec.broughtForward,
          currency: spec.currency,
        },
      ],
    });
  }

  const salaries: { key: string; employer: string; sc: string; acct: string; amount: number; day: number }[] =
    [
      {
        key: 'alice-current',
        employer: 'NORTHWIND TRADERS PLC',
        sc: '200415',
        acct: '53118842',
        amount: 286_540,
        day: 25,
      },
      {
        key: 'bob-current',
        employer: 'CONTOSO HEALTH NHS TRUST',
        sc: '309634',
        acct: '11982265',
        amount: 241_877,
        day: 28,
      },
      {
        key: 'carol-current',
        employer: 'FABRIKAM DESIGN LTD',
        sc: '400730',
        acct: '71155093',
        amount: 312_090,
        day: 27,
      },
    ];
  const ddLast = new Map<string, { at: Date; amount: bigint }>();

  for (let d = 0; d <= days; d += 1) {
    const day = new Date(start.getTime() + d * DAY);
    const dom = day.getUTCDate();
    const y = day.getUTCFullYear();
    const m = day.getUTCMonth();
    const at = (h: number, min: number) => atUtc(y, m, dom, h, min);
    const lastDays = (today.getTime() - day.getTime()) / DAY < 2;

    for (const s of salaries) {
      if (dom === s.day) {
        external(s.key, at(6, 5), BigInt(s.amount + rng.int(0, 1) * rng.int(0, 45_000)), 'external-credit', {
          transactionReference: `SALARY ${MONTHS[m]?.slice(0, 3).toUpperCase() ?? ''}`,
          transactionInformation: `${s.employer} SALARY`,
          bankTransactionCode: CODES.in,
          proprietaryBankTransactionCode: prop('BGC'),
          counterparty: {
            schemeName: 'UK.OBIE.SortCodeAccountNumber',
            identification: s.sc + s.acct,
            name: s.employer,
          },
        });
      }
    }
    // Bills by direct debit.
    for (const [key, bills] of Object.entries(BILLS)) {
      for (const bill of bills) {
        if (dom !== bill.day) continue;
        const amount = rng.minor(bill.min, bill.max);
        const when = at(4, 30);
        external(
          key,
          when,
          -amount,
          'direct-debit',
          {
            transactionReference: bill.mandate,
            transactionInformation: bill.payee,
            bankTransactionCode: CODES.dd,
            proprietaryBankTransactionCode: prop('DD'),
            counterparty: { name: bill.payee },
          },
          false,
          `${key}:${bill.mandate}`,
        );
      }
    }
    // Standing orders: rent, savings, housekeeping into the joint account.
    if (dom === 1) {
      external('alice-current', at(5, 0), -135_000n, 'standing-order', {
        transactionReference: 'RENT FLAT 3',
        transactionInformation: 'J PEMBERTON RENT',
        bankTransactionCode: CODES.so,
        proprietaryBankTransactionCode: prop('SO'),
        counterparty: {
          schemeName: 'UK.OBIE.SortCodeAccountNumber',
          identification: '20000078512003',
          name: 'J PEMBERTON',
        },
      });
      own('bob-current', 'bob-carol-joint', at(5, 10), 90_000n, 'HOUSEKEEPING', true);
      own('carol-current', 'bob-carol-joint', at(5, 10), 110_000n, 'HOUSEKEEPING', true);
    }
    if (dom === 26) own('alice-current', 'alice-saver', at(7, 0), 40_000n, 'MONTHLY SAVINGS', true);
    if (dom === 2) {
      external('bob-carol-joint', at(5, 0), -112_450n, 'standing-order', {
        transactionReference: 'MORTGAGE 88120331',
        transactionInformation: 'LEEDS BUILDING SOC',
        bankTransactionCode: CODES.so,
        proprietaryBankTransactionCode: prop('SO'),
        counterparty: {
          schemeName: 'UK.OBIE.SortCodeAccountNumber',
          identification: '60960088120331',
          name: 'LEEDS BUILDING SOCIETY',
        },
      });
    }
    // Interest on savings, monthly on the last day.
    const lastOfMonth = atUtc(y, m + 1, 0).getUTCDate() === dom;
    if (lastOfMonth) {
      const saver = A('alice-saver');
      const interest = BigInt(rng.int(3_800, 4_600));
      add({
        at: at(23, 0),
        kind: 'interest',
        legs: [
          {
            account: saver.id,
            amount: interest,
            currency: 'GBP',
            details: {
              transactionInformation: 'INTEREST PAID 3.75% AER',
              bankTransactionCode: CODES.interest,
              proprietaryBankTransactionCode: prop('INT'),
            },
          },
          { account: internalAccountId('interest', 'GBP'), amount: -interest, currency: 'GBP' },
        ],
      });
      // Business account fee.
      const dave = A('dave-current');
      add({
        at: at(23, 10),
        kind: 'fee',
        legs: [
          {
            account: dave.id,
            amount: -850n,
            currency: 'GBP',
            details: {
              transactionInformation: 'MONTHLY ACCOUNT FEE',
              bankTransactionCode: CODES.fee,
              proprietaryBankTransactionCode: prop('CHG'),
            },
          },
          { account: internalAccountId('fees', 'GBP'), amount: 850n, currency: 'GBP' },
        ],
      });
    }
    // Credit card repayment from the current account on the 20th.
    if (dom === 20)
      own('alice-current', 'alice-card', at(8, 0), BigInt(rng.int(50_000, 80_000)), 'CARD REPAYMENT');

    // Day-to-day card spending.
    const spenders: [string, number][] = [
      ['alice-current', 0.6],
      ['alice-card', 0.3],
      ['bob-current', 0.7],
      ['carol-current', 0.65],
      ['dave-current', 0.5],
    ];
    for (const [key, p] of spenders) {
      const n = rng.chance(p) ? rng.int(1, 2) : 0;
      for (let i = 0; i < n; i += 1) {
        const shop = rng.pick(SHOPS);
        cardPayment(key, at(rng.int(8, 21), rng.int(0, 59)), shop, rng.minor(shop.min, shop.max), lastDays);
      }
    }
    // Occasional cash, transfers between friends, refunds.
    if (rng.chance(0.06)) {
      const a = A('bob-current');
      const amount = BigInt(rng.pick([2_000, 4_000, 6_000, 10_000]));
      external('bob-current', at(rng.int(9, 20), rng.int(0, 59)), -amount, 'atm', {
        transactionInformation: 'CASH LNK LEEDS BRIGGATE',
        addressLine: 'LEEDS',
        bankTransactionCode: CODES.atm,
        proprietaryBankTransactionCode: prop('ATM'),
        ...(a.cardId ? { cardId: a.cardId } : {}),
        cardAuthorisationType: 'PIN',
      });
    }
    if (rng.chance(0.05)) {
      const alice = A('alice-current');
      const carol = A('carol-current');
      const amount = rng.minor(1_500, 6_000);
      add({
        at: at(rng.int(10, 22), rng.int(0, 59)),
        kind: 'transfer',
        legs: [
          {
            account: alice.id,
            amount: -amount,
            currency: 'GBP',
            details: {
              transactionReference: 'DINNER',
              transactionInformation: 'CAROL JONES',
              bankTransactionCode: CODES.out,
              proprietaryBankTransactionCode: prop('FPO'),
              counterparty: carol.counterparty,
            },
          },
          {
            account: carol.id,
            amount,
            currency: 'GBP',
            details: {
              transactionReference: 'DINNER',
              transactionInformation: 'ALICE WALKER',
              bankTransactionCode: CODES.in,
              proprietaryBankTransactionCode: prop('FPI'),
              counterparty: alice.counterparty,
            },
          },
        ],
      });
    }
    // The bakery: daily card takings settled by the acquirer, supplier payments, EUR.
    const weekday = day.getUTCDay();
    if (weekday >= 2 && weekday <= 6) {
      external('dave-current', at(7, 15), rng.minor(38_000, 96_000), 'external-credit', {
        transactionReference: `WP SETTLEMENT ${dateOnly(day).replace(/-/g, '')}`,
        transactionInformation: 'WORLDPAY CARD TAKINGS',
        bankTransactionCode: CODES.in,
        proprietaryBankTransactionCode: prop('BGC'),
        counterparty: {
          schemeName: 'UK.OBIE.SortCodeAccountNumber',
          identification: '83060812345678',
          name: 'WORLDPAY UK',
        },
      });
    }
    if (weekday === 1) {
      external('dave-current', at(10, 0), -rng.minor(120_000, 240_000), 'external-debit', {
        transactionReference: `INV ${rng.digits(5)}`,
        transactionInformation: 'SHIPTON MILL FLOUR',
        bankTransactionCode: CODES.out,
        proprietaryBankTransactionCode: prop('FPO'),
        counterparty: {
          schemeName: 'UK.OBIE.SortCodeAccountNumber',
          identification: '40111798765432',
          name: 'SHIPTON MILL LTD',
        },
      });
    }
    if (dom === 28) {
      // Payroll for two staff.
      for (const [name, sc, amount] of [
        ['S OKAFOR', '07011612349087', 182_340n],
        ['M NOWAK', '20452378120044', 164_115n],
      ] as const) {
        external('dave-current', at(9, 0), -amount, 'external-debit', {
          transactionReference: 'WAGES',
          transactionInformation: `${name} WAGES`,
          bankTransactionCode: CODES.out,
          proprietaryBankTransactionCode: prop('FPO'),
          counterparty: { schemeName: 'UK.OBIE.SortCodeAccountNumber', identification: sc, name },
        });
      }
    }
    if (dom === 15) {
      // GBP → EUR top-up of the supplier account, at a sandbox rate; then a French supplier paid in EUR.
      const gbp = rng.minor(50_000, 90_000);
      const rate = `1.${rng.int(1520, 1790)}`;
      const eur = convertMinor(gbp, 'GBP', 'EUR', rate);
      const from = A('dave-current');
      const to = A('dave-eur');
      const fx = {
        sourceCurrency: 'GBP',
        targetCurrency: 'EUR',
        unitCurrency: 'GBP',
        rate,
        instructedAmount: fromMinor(eur, 'EUR'),
        instructedCurrency: 'EUR',
      };
      add({
        at: at(11, 0),
        kind: 'fx',
        legs: [
          {
            account: from.id,
            amount: -gbp,
            currency: 'GBP',
            details: {
              transactionReference: 'EUR TOPUP',
              transactionInformation: 'TRANSFER TO EUR ACCOUNT',
              bankTransactionCode: CODES.own,
              proprietaryBankTransactionCode: prop('TFR'),
              counterparty: to.counterparty,
              currencyExchange: fx,
            },
          },
          { account: internalAccountId('fx', 'GBP'), amount: gbp, currency: 'GBP' },
          { account: internalAccountId('fx', 'EUR'), amount: -eur, currency: 'EUR' },
          {
            account: to.id,
            amount: eur,
            currency: 'EUR',
            details: {
              transactionReference: 'EUR TOPUP',
              transactionInformation: 'TRANSFER FROM GBP ACCOUNT',
              bankTransactionCode: CODES.ownIn,
              proprietaryBankTransactionCode: prop('TFR'),
              counterparty: from.counterparty,
              currencyExchange: fx,
            },
          },
        ],
      });
      external('dave-eur', at(14, 0), -rng.minor(30_000, 70_000), 'external-debit', {
        transactionReference: `FAC-${rng.digits(6)}`,
        transactionInformation: 'MOULINS BOURGEOIS SA',
        bankTransactionCode: CODES.fxOut,
        proprietaryBankTransactionCode: prop('SEPA'),
        counterparty: {
          schemeName: 'UK.OBIE.IBAN',
          identification: 'FR7630006000011234567890189',
          name: 'MOULINS BOURGEOIS SA',
          agent: { schemeName: 'UK.OBIE.BICFI', identification: 'AGRIFRPP' },
        },
      });
    }
    if (dom === 10) {
      external('bob-usd', at(15, 30), -rng.minor(1_500, 9_000), 'card-payment', {
        transactionInformation: 'STEAM GAMES USD',
        bankTransactionCode: CODES.card,
        proprietaryBankTransactionCode: prop('POS'),
        merchant: { name: 'STEAM GAMES', categoryCode: '5816' },
      });
      external('alice-eur', at(12, 0), -rng.minor(800, 4_500), 'card-payment', {
        transactionInformation: 'BOOKING.COM EUR',
        bankTransactionCode: CODES.card,
        proprietaryBankTransactionCode: prop('POS'),
        merchant: { name: 'BOOKING.COM', categoryCode: '4722' },
      });
    }
    if (dom === 5 && m % 2 === 0) {
      external('bob-usd', at(16, 0), rng.minor(20_000, 45_000), 'external-credit', {
        transactionReference: 'INVOICE 2231',
        transactionInformation: 'UPWORK ESCROW INC',
        bankTransactionCode: CODES.fxIn,
        proprietaryBankTransactionCode: prop('SWIFT'),
        counterparty: {
          schemeName: 'UK.OBIE.IBAN',
          identification: 'US64SVBKUS6S3300958879',
          name: 'UPWORK ESCROW INC',
        },
      });
    }
  }

  // Order and book. A movement that would take a customer account below its limit is declined.
  const chronological = movements
    .filter((mv) => mv.at.getTime() <= now.getTime())
    .sort((x, y) => x.at.getTime() - y.at.getTime() || x.order - y.order);
  const internalIds = new Set(currencies.flatMap((c) => purposes.map((p) => internalAccountId(p, c))));
  const limits = new Map(ACCOUNTS.map((s) => [A(s.key).id, s.creditLimit]));
  const booked = new Map<string, bigint>();
  const pendingDebit = new Map<string, bigint>();
  const pendingCredit = new Map<string, bigint>();
  const entryRows: (typeof bankEntries.$inferInsert)[] = [];
  const postingRows: ReturnType<typeof postingRow>[] = [];
  const [{ base } = { base: '1' }] = rowsOf<{ base: string }>(
    await tx.execute(sql`select nextval('bank_book_seq')::text as base`),
  );
  let bookSeq = BigInt(base);
  const bookedByAccount = new Map<string, { at: Date; amount: bigint; balance: bigint }[]>();
  for (const mv of chronological) {
    const net = new Map<string, bigint>();
    for (const leg of mv.legs) net.set(leg.account, (net.get(leg.account) ?? 0n) + leg.amount);
    const declined = [...net].some(([account, delta]) => {
      if (internalIds.has(account) || delta >= 0n) return false;
      const available = (booked.get(account) ?? 0n) + (pendingDebit.get(account) ?? 0n);
      return available + delta < -(limits.get(account) ?? 0n);
    });
    if (declined) continue;
    const sums = new Map<string, bigint>();
    for (const leg of mv.legs) sums.set(leg.currency, (sums.get(leg.currency) ?? 0n) + leg.amount);
    for (const [currency, sum] of sums)
      if (sum !== 0n) throw new Error(`seed movement unbalanced in ${currency}`);
    if (mv.tag) {
      const amount = mv.legs[0]?.amount ?? 0n;
      ddLast.set(mv.tag, { at: mv.at, amount: amount < 0n ? -amount : amount });
    }
    const entryId = id('entry', mv.order);
    const status = mv.pending ? 'Pending' : 'Booked';
    entryRows.push({ id: entryId, kind: mv.kind, status, bookedAt: mv.at, valueAt: mv.at, createdAt: mv.at });
    mv.legs.forEach((leg, n) => {
      let balanceAfter: bigint | null = null;
      let seqValue: bigint | null = null;
      if (internalIds.has(leg.account)) {
        // Internal accounts keep no cache or running balance (see ledger.ts lockAccounts).
      } else if (status === 'Booked') {
        balanceAfter = (booked.get(leg.account) ?? 0n) + leg.amount;
        booked.set(leg.account, balanceAfter);
        seqValue = bookSeq;
        bookSeq += 1n;
        const list = bookedByAccount.get(leg.account) ?? [];
        list.push({ at: mv.at, amount: leg.amount, balance: balanceAfter });
        bookedByAccount.set(leg.account, list);
      } else if (leg.amount < 0n)
        pendingDebit.set(leg.account, (pendingDebit.get(leg.account) ?? 0n) + leg.amount);
      else pendingCredit.set(leg.account, (pendingCredit.get(leg.account) ?? 0n) + leg.amount);
      postingRows.push(
        postingRow(
          entryId,
          { accountId: leg.account, amountMinor: leg.amount, currency: leg.currency, details: leg.details },
          status,
          mv.at,
          mv.at,
          balanceAfter,
          id('posting', mv.order, n),
          seqValue,
        ),
      );
    });
  }
  for (let i = 0; i < entryRows.length; i += 500)
    await tx.insert(bankEntries).values(entryRows.slice(i, i + 500));
  for (let i = 0; i < postingRows.length; i += 500)
    await tx.insert(bankPostings).values(postingRows.slice(i, i + 500));
  await tx.execute(sql`select setval('bank_book_seq', ${(bookSeq - 1n).toString()}::bigint)`);
  const touched = new Set([...booked.keys(), ...pendingDebit.keys(), ...pendingCredit.keys()]);
  const latestBooking = (accountId: string): Date | undefined =>
    bookedByAccount
      .get(accountId)
      ?.reduce<Date | undefined>((latest, { at }) => (latest && latest >= at ? latest : at), undefined);
  for (const accountId of touched) {
    await tx
      .update(bankAccounts)
      .set({
        bookedMinor: sql`${bankAccounts.bookedMinor} + ${(booked.get(accountId) ?? 0n).toString()}::bigint`,
        pendingDebitMinor: sql`${bankAccounts.pendingDebitMinor} + ${(pendingDebit.get(accountId) ?? 0n).toString()}::bigint`,
        pendingCreditMinor: sql`${bankAccounts.pendingCreditMinor} + ${(pendingCredit.get(accountId) ?? 0n).toString()}::bigint`,
        // The ledger books after an account's latest booking (ledger.ts bookingTime).
        lastBookedAt: sql`greatest(${bankAccounts.lastBookedAt}, ${latestBooking(accountId)?.toISOString() ?? null}::timestamptz)`,
      })
      .where(sql`${bankAccounts.id} = ${accountId}`);
  }

  // ------------------------------------------------------------------ standing data
  const beneficiaries: (typeof bankBeneficiaries.$inferInsert)[] = [];
  const benef = (
    key: string,
    n: number,
    type: 'Trusted' | 'Ordinary',
    reference: string,
    creditor: Counterparty,
  ) =>
    beneficiaries.push({
      id: id('beneficiary', key, n),
      accountId: A(key).id,
      beneficiaryType: type,
      reference,
      creditor,
      createdAt: new Date(start.getTime() - (n + 1) * 40 * DAY),
    });
  benef('alice-current', 0, 'Trusted', 'RENT FLAT 3', {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '20000078512003',
    name: 'J PEMBERTON',
  });
  benef('alice-current', 1, 'Ordinary', 'DINNER', A('carol-current').counterparty);
  benef('alice-current', 2, 'Ordinary', 'BIRTHDAY', {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '40051261874455',
    name: 'MARGARET WALKER',
  });
  benef('bob-current', 0, 'Trusted', 'HOUSEKEEPING', A('bob-carol-joint').counterparty);
  benef('carol-current', 0, 'Trusted', 'HOUSEKEEPING', A('bob-carol-joint').counterparty);
  benef('bob-carol-joint', 0, 'Trusted', 'MORTGAGE 88120331', {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '60960088120331',
    name: 'LEEDS BUILDING SOCIETY',
  });
  benef('dave-current', 0, 'Trusted', 'INVOICES', {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '40111798765432',
    name: 'SHIPTON MILL LTD',
  });
  benef('dave-eur', 0, 'Trusted', 'FACTURES', {
    schemeName: 'UK.OBIE.IBAN',
    identification: 'FR7630006000011234567890189',
    name: 'MOULINS BOURGEOIS SA',
    agent: { schemeName: 'UK.OBIE.BICFI', identification: 'AGRIFRPP' },
  });
  await tx.insert(bankBeneficiaries).values(beneficiaries);

  const directDebits: (typeof bankDirectDebits.$inferInsert)[] = [];
  for (const [key, bills] of Object.entries(BILLS)) {
    bills.forEach((bill, n) => {
      const last = ddLast.get(`${key}:${bill.mandate}`);
      directDebits.push({
        id: id('direct-debit', key, n),
        accountId: A(key).id,
        mandateIdentification: bill.mandate,
        status: 'Active',
        name: bill.payee.slice(0, 70),
        frequency: 'UK.OBIE.Monthly',
        previousPaymentAt: last?.at ?? null,
        previousPaymentMinor: last?.amount ?? null,
        currency: A(key).spec.currency,
      });
    });
  }
  directDebits.push({
    id: id('direct-debit', 'carol-current', 'old'),
    accountId: A('carol-current').id,
    mandateIdentification: 'SKY-88122',
    status: 'Inactive',
    name: 'SKY DIGITAL',
    frequency: 'UK.OBIE.Monthly',
    previousPaymentAt: new Date(start.getTime() - 90 * DAY),
    previousPaymentMinor: 2_600n,
    currency: 'GBP',
  });
  await tx.insert(bankDirectDebits).values(directDebits);

  const nextMonthly = (dom: number, hour: number): Date => {
    const candidate = atUtc(today.getUTCFullYear(), today.getUTCMonth(), dom, hour);
    return candidate.getTime() > now.getTime()
      ? candidate
      : atUtc(today.getUTCFullYear(), today.getUTCMonth() + 1, dom, hour);
  };
  const prevMonthly = (dom: number, hour: number): Date => {
    const next = nextMonthly(dom, hour);
    return atUtc(next.getUTCFullYear(), next.getUTCMonth() - 1, dom, hour);
  };
  const standingOrders: (typeof bankStandingOrders.$inferInsert)[] = [];
  const so = (
    key: string,
    n: number,
    dom: number,
    hour: number,
    amount: bigint,
    reference: string,
    creditor: Counterparty,
    extra: Partial<typeof bankStandingOrders.$inferInsert> = {},
  ) =>
    standingOrders.push({
      id: id('standing-order', key, n),
      accountId: A(key).id,
      frequency: `IntrvlMnthDay:01:${String(dom).padStart(2, '0')}`,
      reference,
      status: 'Active',
      currency: A(key).spec.currency,
      firstPaymentAt: atUtc(start.getUTCFullYear() - 1, 0, dom, hour),
      firstPaymentMinor: amount,
      nextPaymentAt: nextMonthly(dom, hour),
      nextPaymentMinor: amount,
      lastPaymentAt: prevMonthly(dom, hour),
      lastPaymentMinor: amount,
      creditor,
      createdAt: atUtc(start.getUTCFullYear() - 1, 0, 1),
      ...extra,
    });
  so('alice-current', 0, 1, 5, 135_000n, 'RENT FLAT 3', {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '20000078512003',
    name: 'J PEMBERTON',
  });
  so('alice-current', 1, 26, 7, 40_000n, 'MONTHLY SAVINGS', A('alice-saver').counterparty);
  so('bob-current', 0, 1, 5, 90_000n, 'HOUSEKEEPING', A('bob-carol-joint').counterparty);
  so('carol-current', 0, 1, 5, 110_000n, 'HOUSEKEEPING', A('bob-carol-joint').counterparty);
  so(
    'bob-carol-joint',
    0,
    2,
    5,
    112_450n,
    'MORTGAGE 88120331',
    {
      schemeName: 'UK.OBIE.SortCodeAccountNumber',
      identification: '60960088120331',
      name: 'LEEDS BUILDING SOCIETY',
    },
    {
      finalPaymentAt: atUtc(today.getUTCFullYear() + 18, 5, 2, 5),
      finalPaymentMinor: 112_450n,
      supplementaryData: { MortgageAccount: '88120331' },
    },
  );
  await tx.insert(bankStandingOrders).values(standingOrders);

  const scheduled: (typeof bankScheduledPayments.$inferInsert)[] = [
    {
      id: id('scheduled', 'alice-current', 0),
      accountId: A('alice-current').id,
      scheduledAt: atUtc(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 9, 9),
      scheduledType: 'Execution',
      reference: 'BIRTHDAY',
      debtorReference: 'MUM BIRTHDAY',
      amountMinor: 5_000n,
      currency: 'GBP',
      creditor: {
        schemeName: 'UK.OBIE.SortCodeAccountNumber',
        identification: '40051261874455',
        name: 'MARGARET WALKER',
      },
      status: 'Pending',
      createdAt: new Date(now.getTime() - 3 * DAY),
    },
    {
      id: id('scheduled', 'dave-current', 0),
      accountId: A('dave-current').id,
      scheduledAt: atUtc(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 21, 9),
      scheduledType: 'Arrival',
      reference: 'VAT Q3',
      debtorReference: 'VAT RETURN',
      amountMinor: 412_560n,
      currency: 'GBP',
      creditor: {
        schemeName: 'UK.OBIE.SortCodeAccountNumber',
        identification: '08320012001020',
        name: 'HMRC VAT',
      },
      status: 'Pending',
      createdAt: new Date(now.getTime() - 5 * DAY),
    },
    {
      id: id('scheduled', 'bob-usd', 0),
      accountId: A('bob-usd').id,
      scheduledAt: atUtc(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 14, 9),
      scheduledType: 'Execution',
      reference: 'LOAN REPAY',
      amountMinor: 25_000n,
      currency: 'USD',
      creditor: { schemeName: 'UK.OBIE.IBAN', identification: 'US64SVBKUS6S3300958879', name: 'K SINGH' },
      status: 'Pending',
      createdAt: new Date(now.getTime() - 1 * DAY),
    },
  ];
  await tx.insert(bankScheduledPayments).values(scheduled);

  // Monthly statements for every complete calendar month of the history.
  const statements: (typeof bankStatements.$inferInsert)[] = [];
  for (const spec of ACCOUNTS) {
    const a = A(spec.key);
    const history = bookedByAccount.get(a.id) ?? [];
    for (let mo = 1; ; mo += 1) {
      const from = atUtc(start.getUTCFullYear(), start.getUTCMonth() + mo, 1);
      const to = new Date(atUtc(from.getUTCFullYear(), from.getUTCMonth() + 1, 1).getTime() - 1);
      if (to.getTime() >= today.getTime()) break;
      let opening = 0n;
      let closing = 0n;
      let credits = 0n;
      let debits = 0n;
      for (const h of history) {
        if (h.at.getTime() < from.getTime()) opening = h.balance;
        if (h.at.getTime() <= to.getTime()) closing = h.balance;
        if (h.at.getTime() >= from.getTime() && h.at.getTime() <= to.getTime()) {
          if (h.amount > 0n) credits += h.amount;
          else debits -= h.amount;
        }
      }
      const label = `${MONTHS[from.getUTCMonth()] ?? ''} ${from.getUTCFullYear()}`;
      statements.push({
        id: id('statement', spec.key, dateOnly(from)),
        accountId: a.id,
        reference: `${dateOnly(from).slice(0, 7).replace('-', '')}-${spec.key.toUpperCase()}`.slice(0, 35),
        type: 'RegularPeriodic',
        startAt: from,
        endAt: to,
        createdAt: new Date(to.getTime() + 1 + 2 * 3_600_000),
        descriptions: [`${spec.description}: statement for ${label}`],
        openingBookedMinor: opening,
        closingBookedMinor: closing,
        totalCreditsMinor: credits,
        totalDebitsMinor: debits,
        currency: spec.currency,
      });
    }
  }
  if (statements.length) await tx.insert(bankStatements).values(statements);

  const offers: (typeof bankOffers.$inferInsert)[] = [
    {
      id: id('offer', 'alice-card', 0),
      accountId: A('alice-card').id,
      offerType: 'LimitIncrease',
      description: 'Your credit limit can go up to £4,500',
      amountMinor: 450_000n,
      currency: 'GBP',
      startAt: new Date(now.getTime() - 10 * DAY),
      endAt: new Date(now.getTime() + 50 * DAY),
      url: 'https://bank.example.com/offers/limit-increase',
    },
    {
      id: id('offer', 'alice-card', 1),
      accountId: A('alice-card').id,
      offerType: 'BalanceTransfer',
      description: '0% on balance transfers for 18 months, 2.9% fee',
      rate: '0',
      term: '18 months',
      feeMinor: 2_900n,
      value: 18,
      currency: 'GBP',
      startAt: new Date(now.getTime() - 30 * DAY),
      endAt: new Date(now.getTime() + 60 * DAY),
    },
    {
      id: id('offer', 'bob-current', 0),
      accountId: A('bob-current').id,
      offerType: 'PromotionalRate',
      description: 'Open an Instant Saver at 4.25% AER for 12 months',
      rate: '4.25',
      term: '12 months',
      startAt: new Date(now.getTime() - 5 * DAY),
      endAt: new Date(now.getTime() + 25 * DAY),
    },
    {
      id: id('offer', 'dave-current', 0),
      accountId: A('dave-current').id,
      offerType: 'Other',
      description: 'Card terminal fees waived for 3 months',
      term: '3 months',
      startAt: new Date(now.getTime() - 20 * DAY),
      endAt: new Date(now.getTime() + 70 * DAY),
    },
  ];
  await tx.insert(bankOffers).values(offers);

  return {
    created: true,
    customers: CUSTOMERS.length,
    accounts: ACCOUNTS.length,
    entries: entryRows.length,
    postings: postingRows.length,
  };
}

/** The documented sandbox usernames, in seeding order. */
export const SANDBOX_USERNAMES: readonly string[] = CUSTOMERS.map((c) => c.username);
