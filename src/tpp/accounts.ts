import type { BankConnection } from './bank.ts';
import { clientCredentialsToken } from './authorization.ts';
import { runConsentJourney, type ConsentJourneyOptions } from './consent-journey.ts';
import { TppUsageError } from './errors.ts';
import { describeFailure } from './http.ts';
import { apiBaseOf, callApi, createAccountAccessConsent, type ReadWriteVersion } from './open-banking.ts';
import type { AuthorisedBy } from './psu-authorisation.ts';

/**
 * The whole account-information journey of a TPP, over HTTP only: stage an account-access consent with
 * the client's own token, have the PSU authorise it (in the sandbox: its headless approval as a sandbox
 * PSU; at any other bank: the PSU opens the URL and the TPP is handed the redirect it came back on),
 * redeem the code for a certificate-bound token, then read accounts, balances and recent transactions.
 */

/** What this journey asks for: enough to list accounts, balances and transactions, nothing more. */
export const ACCOUNTS_JOURNEY_PERMISSIONS = [
  'ReadAccountsDetail',
  'ReadBalances',
  'ReadTransactionsCredits',
  'ReadTransactionsDebits',
  'ReadTransactionsDetail',
] as const;

export interface AccountsJourneyOptions extends ConsentJourneyOptions {
  /** Transactions per account (newest first). Default 5. */
  transactions?: number;
  /** The Read/Write API version to call (default 4.0). */
  apiVersion?: ReadWriteVersion;
}

export interface JourneyAmount {
  Amount: string;
  Currency: string;
}

export interface AccountView {
  AccountId: string;
  Currency: string;
  /** v3.1.11 */
  AccountType?: string;
  /** v3.1.11 */
  AccountSubType?: string;
  /** v4.0 (for AccountType) */
  AccountCategory?: string;
  /** v4.0 (for AccountSubType), an ISO 20022 cash account type such as CACC */
  AccountTypeCode?: string;
  Nickname?: string;
  Description?: string;
  Account?: { SchemeName: string; Identification: string; Name?: string }[];
  Balance: { Type: string; CreditDebitIndicator: string; Amount: JourneyAmount; DateTime: string }[];
  Transaction: {
    TransactionId?: string;
    BookingDateTime: string;
    Status: string;
    CreditDebitIndicator: string;
    Amount: JourneyAmount;
    TransactionInformation?: string;
    MerchantDetails?: { MerchantName?: string };
  }[];
}

export interface AccountsJourneyResult {
  bank: string;
  apiVersion: ReadWriteVersion;
  consentId: string;
  /** How the PSU authorised: the sandbox's headless approval, or a person with a browser. */
  authorisedBy: AuthorisedBy;
  accounts: AccountView[];
}

/** The headless approval exists only in a sandbox: 404 when disabled, or no interaction page to post to. */
async function getData<T>(bank: BankConnection, token: string, url: string, what: string): Promise<T> {
  const response = await callApi(bank, token, url);
  if (response.status !== 200) throw describeFailure(what, response);
  return (response.json as { Data: T }).Data;
}

export async function runAccountsJourney(options: AccountsJourneyOptions): Promise<AccountsJourneyResult> {
  const limit = options.transactions ?? 5;
  if (!Number.isInteger(limit) || limit < 0 || limit > 1000)
    throw new TppUsageError('--transactions must be a whole number from 0 to 1000');
  return runConsentJourney(options, async ({ bank, issuer, progress, recordConsent, authorise }) => {
    const clientToken = await clientCredentialsToken(bank, 'accounts');
    const apiVersion = options.apiVersion ?? '4.0';
    const consent = await createAccountAccessConsent(bank, clientToken.access_token, {
      permissions: ACCOUNTS_JOURNEY_PERMISSIONS,
      apiVersion,
    });
    progress(`staged account-access consent ${consent.ConsentId}`);
    recordConsent(consent.ConsentId, 'account-access', consent.Status);
    const { tokens, authorisedBy } = await authorise(consent.ConsentId, 'accounts');

    const base = `${apiBaseOf(bank, undefined, apiVersion)}/aisp`;
    const token = tokens.access_token;
    const { Account: accounts = [] } = await getData<{
      Account?: Omit<AccountView, 'Balance' | 'Transaction'>[];
    }>(bank, token, `${base}/accounts`, 'listing the accounts');
    const views: AccountView[] = [];
    for (const account of accounts) {
      const id = encodeURIComponent(account.AccountId);
      const { Balance = [] } = await getData<{ Balance?: AccountView['Balance'] }>(
        bank,
        token,
        `${base}/accounts/${id}/balances`,
        `reading the balances of ${account.AccountId}`,
      );
      const { Transaction = [] } =
        limit > 0
          ? await getData<{ Transaction?: AccountView['Transaction'] }>(
              bank,
              token,
              `${base}/accounts/${id}/transactions`,
              `reading the transactions of ${account.AccountId}`,
            )
          : { Transaction: [] };
      views.push({ ...account, Balance, Transaction: Transaction.slice(0, limit) });
    }
    progress(`read ${views.length} account(s)`);
    return { bank: issuer, apiVersion, consentId: consent.ConsentId, authorisedBy, accounts: views };
  });
}

// ---------------------------------------------------------------------------------------------------
// The readable table.

/** v4.0 writes the two balances by their ISO 20022 codes. */
const V4_BALANCE_TYPES: Record<string, string> = { InterimBooked: 'ITBD', InterimAvailable: 'ITAV' };

function signed(indicator: string, amount: JourneyAmount): string {
  return `${indicator === 'Debit' ? '-' : ''}${amount.Amount} ${amount.Currency}`;
}

function identification(account: AccountView): string {
  const scan = account.Account?.find((a) => a.SchemeName === 'UK.OBIE.SortCodeAccountNumber');
  if (scan) {
    const id = scan.Identification;
    return `${id.slice(0, 2)}-${id.slice(2, 4)}-${id.slice(4, 6)} ${id.slice(6)}`;
  }
  return account.Account?.[0]?.Identification ?? '';
}

function table(rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows.reduce<number[]>(
    (w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, [...cell].length)),
    [],
  );
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat((widths[i] ?? 0) - [...cell].length);
        return rightAligned.has(i) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
}

export function formatAccounts(result: AccountsJourneyResult): string {
  const lines: string[] = [];
  const who = result.authorisedBy.kind === 'sandbox' ? `sandbox PSU ${result.authorisedBy.psu}` : 'the PSU';
  lines.push(`consent ${result.consentId} at ${result.bank}, authorised by ${who}`);
  lines.push('');
  lines.push(
    ...table(
      [
        ['ACCOUNT', 'TYPE', 'IDENTIFICATION', 'BOOKED', 'AVAILABLE'],
        ...result.accounts.map((account) => {
          const balance = (type: string) => {
            const b = account.Balance.find((x) => x.Type === type || x.Type === V4_BALANCE_TYPES[type]);
            return b ? signed(b.CreditDebitIndicator, b.Amount) : '';
          };
          return [
            account.Nickname ?? account.Description ?? account.AccountId,
            `${account.AccountType ?? account.AccountCategory ?? ''} ${account.AccountSubType ?? account.AccountTypeCode ?? ''}`.trim(),
            identification(account),
            balance('InterimBooked'),
            balance('InterimAvailable'),
          ];
        }),
      ],
      new Set([3, 4]),
    ),
  );
  for (const account of result.accounts) {
    lines.push('');
    lines.push(`${account.Nickname ?? account.AccountId} (${account.AccountId}): recent transactions`);
    if (account.Transaction.length === 0) {
      lines.push('  (none)');
      continue;
    }
    lines.push(
      ...table(
        account.Transaction.map((t) => [
          t.BookingDateTime.slice(0, 10),
          t.Status,
          signed(t.CreditDebitIndicator, t.Amount),
          (t.MerchantDetails?.MerchantName ?? t.TransactionInformation ?? '').slice(0, 60),
        ]),
        new Set([2]),
      ).map((line) => `  ${line}`),
    );
  }
  return `${lines.join('\n')}\n`;
}
