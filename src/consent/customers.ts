import type { Intent, JsonObject } from './intents.ts';

/**
 * What the consent app needs of the bank core: the PSU by username, and the accounts they may choose from.
 * The server wires it to src/bank; the shape is kept narrow so that the pages depend on nothing else.
 */
export interface PsuCustomer {
  id: string;
  username: string;
  displayName: string;
}

export interface AccountIdentification {
  /** OB scheme, e.g. `UK.OBIE.SortCodeAccountNumber`, `UK.OBIE.IBAN`, `UK.OBIE.PAN`. */
  schemeName: string;
  identification: string;
}

export interface PsuAccount {
  id: string;
  /** The name shown to the PSU (nickname, or the account name). */
  name: string;
  currency: string;
  /** Available balance as a decimal string, e.g. `"1250.00"` (negative when overdrawn). */
  balance: string;
  /** Sort code and number, IBAN or PAN, as a payment's `DebtorAccount` would name it. */
  identifications: AccountIdentification[];
  /** Only `Enabled` accounts can be selected. */
  status: string;
  /** E.g. `CurrentAccount`, `Savings`, `CreditCard`. */
  subType?: string;
}

/** A payment made (or due) under a consent, as the bank recorded it. */
export interface PsuPayment {
  id: string;
  /** Decimal string in `currency`, e.g. `"5000.00"`: what left (or would leave) the account. */
  amount: string;
  currency: string;
  /** Paid, Pending, Rejected; Scheduled (due at `at`), Cancelled. */
  status: 'Paid' | 'Pending' | 'Rejected' | 'Scheduled' | 'Cancelled';
  /** Why it was rejected, in words, when it was. */
  reason?: string;
  /** When it was paid, rejected or last changed; Scheduled and Cancelled: when it is (was) due. */
  at: Date;
}

export interface CustomerDirectory {
  findCustomerByUsername(username: string): Promise<PsuCustomer | undefined>;
  getCustomer(id: string): Promise<PsuCustomer | undefined>;
  listCustomerAccounts(customerId: string): Promise<PsuAccount[]>;
  /** The customer by username (as `findCustomerByUsername`) or id, and their accounts, read together. */
  findCustomerWithAccounts(
    by: { username: string } | { id: string },
  ): Promise<{ customer: PsuCustomer; accounts: PsuAccount[] } | undefined>;
  /** Every payment made or due under a consent, oldest first, with its real outcome. */
  listConsentPayments(consentId: string): Promise<PsuPayment[]>;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SCHEME_ALIASES: Record<string, string> = {
  'UK.OBIE.SortCodeAccountNumber': 'SortCodeAccountNumber',
  SortCodeAccountNumber: 'SortCodeAccountNumber',
  'UK.OBIE.IBAN': 'IBAN',
  IBAN: 'IBAN',
  'UK.OBIE.PAN': 'PAN',
  PAN: 'PAN',
};

function normaliseScheme(scheme: string): string {
  return SCHEME_ALIASES[scheme] ?? scheme;
}

function normaliseIdentification(identification: string): string {
  return identification.replace(/[\s-]/g, '').toUpperCase();
}

/** The account an intent names as its debtor (payments: Initiation.DebtorAccount; funds: DebtorAccount). */
export function debtorAccountOf(intent: Intent): AccountIdentification | undefined {
  const initiation = intent.data['Initiation'];
  const candidate = isObject(initiation) ? initiation['DebtorAccount'] : intent.data['DebtorAccount'];
  if (!isObject(candidate)) return undefined;
  const schemeName = candidate['SchemeName'];
  const identification = candidate['Identification'];
  if (typeof schemeName !== 'string' || typeof identification !== 'string') return undefined;
  return { schemeName, identification };
}

export function accountMatches(account: PsuAccount, wanted: AccountIdentification): boolean {
  const scheme = normaliseScheme(wanted.schemeName);
  const id = normaliseIdentification(wanted.identification);
  return account.identifications.some(
    (own) => normaliseScheme(own.schemeName) === scheme && normaliseIdentification(own.identification) === id,
  );
}

/** The currency a payment intent debits in, when the payment must leave from an account in it. */
function requiredCurrency(intent: Intent): string | undefined {
  if (!intent.kind.startsWith('domestic')) return undefined;
  if (intent.kind === 'domestic-vrp') {
    const control = intent.data['ControlParameters'];
    const maximum = isObject(control) ? control['MaximumIndividualAmount'] : undefined;
    return isObject(maximum) && typeof maximum['Currency'] === 'string' ? maximum['Currency'] : undefined;
  }
  const initiation = intent.data['Initiation'];
  if (!isObject(initiation)) return undefined;
  const amount = initiation['InstructedAmount'] ?? initiation['FirstPaymentAmount'];
  if (isObject(amount) && typeof amount['Currency'] === 'string') return amount['Currency'];
  return undefined;
}

export interface Eligibility {
  eligible: PsuAccount[];
  /** Set when the intent names a debtor account that this customer does not hold. */
  debtorNotHeld: boolean;
}

/**
 * The PSU's accounts that can back this intent: enabled ones; the named debtor account alone when the
 * intent names one; for domestic payments, accounts in the payment's currency.
 */
export function eligibleAccounts(intent: Intent, accounts: readonly PsuAccount[]): Eligibility {
  const enabled = accounts.filter((account) => account.status === 'Enabled');
  const debtor = debtorAccountOf(intent);
  if (debtor) {
    const matching = enabled.filter((account) => accountMatches(account, debtor));
    return { eligible: matching, debtorNotHeld: matching.length === 0 };
  }
  const currency = requiredCurrency(intent);
  return {
    eligible: currency ? enabled.filter((account) => account.currency === currency) : enabled,
    debtorNotHeld: false,
  };
}
