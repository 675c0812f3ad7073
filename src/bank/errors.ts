/**
 * Typed errors of the bank core. Callers (the API layer) map `code` to the Open Banking error codes;
 * none of these is a programming error, so none should become a 500.
 */
export type BankErrorCode =
  | 'invalid-amount'
  | 'unknown-currency'
  | 'insufficient-funds'
  | 'account-not-found'
  | 'account-not-enabled'
  | 'currency-mismatch'
  | 'unbalanced-entry'
  | 'invalid-entry'
  | 'duplicate-origin'
  | 'entry-not-found'
  | 'invalid-state';

export class BankError extends Error {
  readonly code: BankErrorCode;
  constructor(code: BankErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export class InsufficientFundsError extends BankError {
  readonly accountId: string;
  /** Available balance (booked + pending) before the refused posting, minor units. */
  readonly availableMinor: bigint;
  readonly requestedMinor: bigint;
  readonly creditLimitMinor: bigint;
  constructor(accountId: string, availableMinor: bigint, requestedMinor: bigint, creditLimitMinor: bigint) {
    super('insufficient-funds', `insufficient funds on account ${accountId}`);
    this.accountId = accountId;
    this.availableMinor = availableMinor;
    this.requestedMinor = requestedMinor;
    this.creditLimitMinor = creditLimitMinor;
  }
}

export class AccountNotFoundError extends BankError {
  readonly accountId: string;
  constructor(accountId: string) {
    super('account-not-found', `account not found: ${accountId}`);
    this.accountId = accountId;
  }
}

export class AccountNotEnabledError extends BankError {
  readonly accountId: string;
  readonly status: string;
  constructor(accountId: string, status: string) {
    super('account-not-enabled', `account ${accountId} is ${status}, not Enabled`);
    this.accountId = accountId;
    this.status = status;
  }
}

export class CurrencyMismatchError extends BankError {
  constructor(accountId: string, accountCurrency: string, currency: string) {
    super('currency-mismatch', `account ${accountId} holds ${accountCurrency}, not ${currency}`);
  }
}

export class UnbalancedEntryError extends BankError {
  constructor(currency: string, sum: bigint) {
    super('unbalanced-entry', `postings in ${currency} sum to ${sum}, not 0`);
  }
}

export class InvalidEntryError extends BankError {
  constructor(message: string) {
    super('invalid-entry', message);
  }
}

export class DuplicateOriginError extends BankError {
  readonly origin: string;
  readonly entryId: string | undefined;
  constructor(origin: string, entryId: string | undefined) {
    super('duplicate-origin', `a posting set for ${origin} already exists`);
    this.origin = origin;
    this.entryId = entryId;
  }
}

export class EntryNotFoundError extends BankError {
  constructor(entryId: string) {
    super('entry-not-found', `posting set not found: ${entryId}`);
  }
}

export class InvalidStateError extends BankError {
  constructor(message: string) {
    super('invalid-state', message);
  }
}
